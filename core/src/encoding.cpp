// SPDX-License-Identifier: Apache-2.0
#include <stek/encoding.hpp>

#include <array>

namespace stek {
namespace {

constexpr std::string_view k_hex_digits = "0123456789abcdef";
constexpr std::string_view k_base64_alphabet =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

// Map a base64 character to its 6-bit value without a secret-indexed table
// lookup, so decoding key material has no data-dependent memory access.
int base64_value(std::uint8_t c) {
  int v = -1;
  v += ((('A' - 1) - c) & (c - ('Z' + 1))) >> 8 & (c - 'A' + 1);
  v += ((('a' - 1) - c) & (c - ('z' + 1))) >> 8 & (c - 'a' + 27);
  v += ((('0' - 1) - c) & (c - ('9' + 1))) >> 8 & (c - '0' + 53);
  v += ((('+' - 1) - c) & (c - ('+' + 1))) >> 8 & 63;
  v += ((('/' - 1) - c) & (c - ('/' + 1))) >> 8 & 64;
  return v;
}

template <typename Sink>
void base64_encode_to(std::span<const std::uint8_t> in, Sink&& put) {
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const unsigned n = (unsigned{in[i]} << 16) | (unsigned{in[i + 1]} << 8) |
                       unsigned{in[i + 2]};
    put(k_base64_alphabet[(n >> 18) & 63]);
    put(k_base64_alphabet[(n >> 12) & 63]);
    put(k_base64_alphabet[(n >> 6) & 63]);
    put(k_base64_alphabet[n & 63]);
  }
  const std::size_t rest = in.size() - i;
  if (rest == 1) {
    const unsigned n = unsigned{in[i]} << 16;
    put(k_base64_alphabet[(n >> 18) & 63]);
    put(k_base64_alphabet[(n >> 12) & 63]);
    put('=');
    put('=');
  } else if (rest == 2) {
    const unsigned n = (unsigned{in[i]} << 16) | (unsigned{in[i + 1]} << 8);
    put(k_base64_alphabet[(n >> 18) & 63]);
    put(k_base64_alphabet[(n >> 12) & 63]);
    put(k_base64_alphabet[(n >> 6) & 63]);
    put('=');
  }
}

} // namespace

std::string hex_encode(std::span<const std::uint8_t> bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (auto b : bytes) {
    out.push_back(k_hex_digits[b >> 4]);
    out.push_back(k_hex_digits[b & 0x0f]);
  }
  return out;
}

bool hex_decode_into(std::string_view text, std::span<std::uint8_t> out) {
  if (text.size() < 2 * out.size()) {
    return false;
  }
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = hex_value(text[2 * i]);
    const int lo = hex_value(text[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return false;
    }
    out[i] = static_cast<std::uint8_t>((hi << 4) | lo);
  }
  return true;
}

Result<std::vector<std::uint8_t>> hex_decode(std::string_view text) {
  STEK_ENSURE(text.size() % 2 == 0, Errc::parse, "odd number of hex digits");
  std::vector<std::uint8_t> out(text.size() / 2);
  STEK_ENSURE(hex_decode_into(text, out), Errc::parse, "not a hex digit");
  return out;
}

void base64_encode_into(SecretView bytes, SecretBytes& out) {
  out.reserve(out.size() + (bytes.size() + 2) / 3 * 4);
  base64_encode_to(bytes.reveal(),
                   [&out](char c) { out.append(static_cast<std::uint8_t>(c)); });
}

std::string base64_encode(std::span<const std::uint8_t> bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  base64_encode_to(bytes, [&out](char c) { out.push_back(c); });
  return out;
}

Result<SecretBytes> base64_decode(std::string_view text) {
  STEK_ENSURE(text.size() % 4 == 0, Errc::parse,
              "base64 length is not a multiple of 4");
  std::size_t padding = 0;
  if (!text.empty() && text.back() == '=') {
    padding = (text.size() >= 2 && text[text.size() - 2] == '=') ? 2 : 1;
  }
  SecretBytes out(text.size() / 4 * 3 - padding);
  auto dst = out.reveal_mutable();
  std::size_t o = 0;
  int bad = 0;
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    std::array<int, 4> v{};
    for (std::size_t j = 0; j < 4; ++j) {
      const auto c = static_cast<std::uint8_t>(text[i + j]);
      const bool is_pad = last && c == '=' && j >= 4 - padding;
      v[j] = is_pad ? 0 : base64_value(c);
      bad |= v[j] < 0 ? 1 : 0;
    }
    if (bad != 0) {
      return fail(Errc::parse, "invalid base64 character");
    }
    const unsigned n = (static_cast<unsigned>(v[0]) << 18) |
                       (static_cast<unsigned>(v[1]) << 12) |
                       (static_cast<unsigned>(v[2]) << 6) |
                       static_cast<unsigned>(v[3]);
    const std::size_t take = last ? 3 - padding : 3;
    const std::array<std::uint8_t, 3> bytes{static_cast<std::uint8_t>(n >> 16),
                                            static_cast<std::uint8_t>(n >> 8),
                                            static_cast<std::uint8_t>(n)};
    for (std::size_t j = 0; j < take; ++j) {
      dst[o++] = bytes[j];
    }
    // Canonical encoding only: the bits dropped by the padding must be zero.
    if (last && padding > 0 && bytes[take] != 0) {
      return fail(Errc::parse, "non-canonical base64 (trailing bits set)");
    }
  }
  return out;
}

} // namespace stek
