// SPDX-License-Identifier: Apache-2.0
// What an inspect input holds, told from its content rather than its name:
// a capture, a saved session, or one ticket as text or bytes.
#pragma once
#include <stek/result.hpp>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace stek::inspect {

enum class InputKind {
  capture,     // pcap or pcapng
  pem_session, // openssl s_client -sess_out
  hex,         // one ticket as hex digits, whitespace and ':' tolerated
  base64,      // one ticket as base64 (standard or URL-safe), whitespace
               // tolerated
  binary,      // one ticket as raw bytes
};

// Return "capture", "pem_session", "hex", "base64", "binary".
std::string_view input_kind_name(InputKind kind);

// Classify an input from its first bytes (`head`, up to its whole content
// for small inputs). Text that is neither hex nor base64 is binary.
InputKind classify_input(std::span<const std::uint8_t> head);

// Decode a ticket written as hex or base64 text. Errc::parse when `text` is
// neither, or empty.
Result<std::vector<std::uint8_t>> decode_ticket_text(std::string_view text,
                                                     InputKind kind);

} // namespace stek::inspect
