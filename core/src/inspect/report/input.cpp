// SPDX-License-Identifier: Apache-2.0
#include <stek/encoding.hpp>
#include <stek/inspect/capture.hpp>
#include <stek/inspect/input.hpp>

#include <algorithm>
#include <string>

namespace stek::inspect {
namespace {

constexpr std::string_view k_pem_begin = "-----BEGIN SSL SESSION PARAMETERS-----";

bool is_space(std::uint8_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
         c == '\v';
}

bool is_hex(std::uint8_t c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
         (c >= 'A' && c <= 'F');
}

bool is_base64(std::uint8_t c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
         (c >= 'A' && c <= 'Z') || c == '+' || c == '/' || c == '-' ||
         c == '_' || c == '=';
}

// Keep what carries digits: whitespace goes, and for hex the ':' separators
// that `openssl sess_id -text` and many tools print between bytes.
std::string strip(std::string_view text, bool colons) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto byte = static_cast<std::uint8_t>(c);
    if (is_space(byte) || (colons && c == ':')) {
      continue;
    }
    out.push_back(c);
  }
  return out;
}

} // namespace

std::string_view input_kind_name(InputKind kind) {
  switch (kind) {
  case InputKind::capture: return "capture";
  case InputKind::pem_session: return "pem_session";
  case InputKind::hex: return "hex";
  case InputKind::base64: return "base64";
  case InputKind::binary: return "binary";
  }
  return "binary";
}

InputKind classify_input(std::span<const std::uint8_t> head) {
  if (looks_like_capture(head)) {
    return InputKind::capture;
  }
  const std::string_view text(reinterpret_cast<const char*>(head.data()),
                              head.size());
  if (text.find(k_pem_begin) != std::string_view::npos) {
    return InputKind::pem_session;
  }
  bool all_hex = true;
  bool all_base64 = true;
  std::size_t digits = 0;
  for (std::uint8_t c : head) {
    if (is_space(c)) {
      continue;
    }
    if (c != ':') {
      ++digits;
    }
    all_hex = all_hex && (is_hex(c) || c == ':');
    all_base64 = all_base64 && is_base64(c);
    if (!all_hex && !all_base64) {
      return InputKind::binary;
    }
  }
  if (digits == 0) {
    return InputKind::binary;
  }
  // Hex first: every hex string is also base64, and tickets are far more
  // often pasted as hex (xxd -p, tshark, Wireshark's "copy as hex").
  if (all_hex && digits % 2 == 0) {
    return InputKind::hex;
  }
  return all_base64 ? InputKind::base64 : InputKind::binary;
}

Result<std::vector<std::uint8_t>> decode_ticket_text(std::string_view text,
                                                     InputKind kind) {
  if (kind == InputKind::hex) {
    const auto digits = strip(text, true);
    if (digits.empty()) {
      return fail(Errc::parse, "no hex digits");
    }
    auto bytes = hex_decode(digits);
    if (!bytes) {
      return fail(Errc::parse, "bad hex: " + bytes.error().message);
    }
    return std::move(bytes).value();
  }
  if (kind == InputKind::base64) {
    auto digits = strip(text, false);
    // URL-safe base64 (RFC 4648 section 5) and missing padding are common
    // in logs; both mean the same bytes.
    std::replace(digits.begin(), digits.end(), '-', '+');
    std::replace(digits.begin(), digits.end(), '_', '/');
    while (digits.size() % 4 != 0) {
      digits.push_back('=');
    }
    auto bytes = base64_decode(digits);
    if (!bytes || bytes->empty()) {
      return fail(Errc::parse, "bad base64");
    }
    const auto view = bytes->reveal();
    return std::vector<std::uint8_t>(view.begin(), view.end());
  }
  return fail(Errc::parse, "not a ticket in text form");
}

} // namespace stek::inspect
