// SPDX-License-Identifier: Apache-2.0
// A minimal, strict DER reader: one TLV at a time, single-byte tags, definite
// lengths, every length checked against the bytes that remain.
#pragma once
#include <stek/result.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace stek::inspect::detail {

inline constexpr std::uint8_t k_der_integer = 0x02;
inline constexpr std::uint8_t k_der_octet_string = 0x04;
inline constexpr std::uint8_t k_der_sequence = 0x30;
// Context-specific class bits; constructed adds 0x20.
inline constexpr std::uint8_t k_der_context = 0x80;
inline constexpr std::uint8_t k_der_constructed = 0x20;

struct Tlv {
  std::uint8_t tag = 0;
  std::span<const std::uint8_t> content;
};

class DerReader {
public:
  explicit DerReader(std::span<const std::uint8_t> data) : m_data(data) {}

  bool empty() const { return m_data.empty(); }
  // Return the tag of the next TLV without reading it; 0 when empty.
  std::uint8_t peek_tag() const { return m_data.empty() ? 0 : m_data[0]; }
  // Read the next TLV; Errc::parse naming `field` if it is malformed.
  Result<Tlv> next(std::string_view field);
  // Read the next TLV and check its tag is `tag`.
  Result<Tlv> expect(std::uint8_t tag, std::string_view field);

private:
  std::span<const std::uint8_t> m_data;
};

// Decode a DER INTEGER's content as a signed 64-bit value; Errc::parse
// naming `field` if it is empty, not minimal, or does not fit.
Result<std::int64_t> der_int64(std::span<const std::uint8_t> content,
                               std::string_view field);
// Decode a non-negative DER INTEGER that fits 64 unsigned bits.
Result<std::uint64_t> der_uint64(std::span<const std::uint8_t> content,
                                 std::string_view field);

} // namespace stek::inspect::detail
