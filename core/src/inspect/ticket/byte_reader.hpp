// SPDX-License-Identifier: Apache-2.0
// A bounds-checked big-endian reader over a byte span, for the hand-written
// session decoders. Every read either succeeds whole or leaves the reader
// unchanged and returns false.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

namespace stek::inspect::detail {

class ByteReader {
public:
  explicit ByteReader(std::span<const std::uint8_t> data) : m_data(data) {}

  bool empty() const { return m_pos == m_data.size(); }
  std::size_t remaining() const { return m_data.size() - m_pos; }

  // Read `n` bytes into `out` (a view into the input).
  bool bytes(std::size_t n, std::span<const std::uint8_t>& out) {
    if (n > remaining()) {
      return false;
    }
    out = m_data.subspan(m_pos, n);
    m_pos += n;
    return true;
  }
  bool skip(std::size_t n) {
    std::span<const std::uint8_t> ignored;
    return bytes(n, ignored);
  }
  bool u8(std::uint8_t& out) {
    std::uint64_t v = 0;
    const bool ok = big_endian(1, v);
    out = static_cast<std::uint8_t>(v);
    return ok;
  }
  bool u16(std::uint16_t& out) {
    std::uint64_t v = 0;
    const bool ok = big_endian(2, v);
    out = static_cast<std::uint16_t>(v);
    return ok;
  }
  bool u24(std::uint32_t& out) {
    std::uint64_t v = 0;
    const bool ok = big_endian(3, v);
    out = static_cast<std::uint32_t>(v);
    return ok;
  }
  bool u32(std::uint32_t& out) {
    std::uint64_t v = 0;
    const bool ok = big_endian(4, v);
    out = static_cast<std::uint32_t>(v);
    return ok;
  }
  bool u64(std::uint64_t& out) { return big_endian(8, out); }

  // Read a vector whose length prefix is `prefix_bytes` (1, 2 or 3) long.
  bool prefixed(std::size_t prefix_bytes, std::span<const std::uint8_t>& out) {
    const std::size_t start = m_pos;
    std::uint64_t length = 0;
    if (!big_endian(prefix_bytes, length) ||
        !bytes(static_cast<std::size_t>(length), out)) {
      m_pos = start;
      return false;
    }
    return true;
  }

private:
  bool big_endian(std::size_t n, std::uint64_t& out) {
    std::span<const std::uint8_t> raw;
    if (!bytes(n, raw)) {
      return false;
    }
    std::uint64_t v = 0;
    for (const std::uint8_t b : raw) {
      v = (v << 8) | b;
    }
    out = v;
    return true;
  }

  std::span<const std::uint8_t> m_data;
  std::size_t m_pos = 0;
};

} // namespace stek::inspect::detail
