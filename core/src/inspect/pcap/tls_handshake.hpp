// SPDX-License-Identifier: Apache-2.0
// The few TLS handshake messages that carry or frame tickets, parsed from
// their bodies (after the 4-byte message header) as pure functions over
// bytes, so they can be fuzzed on their own. Results point into the body.
#pragma once
#include <stek/result.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace stek::inspect::pcap {

using Bytes = std::span<const std::uint8_t>;

inline constexpr std::uint8_t k_client_hello = 1;
inline constexpr std::uint8_t k_server_hello = 2;
inline constexpr std::uint8_t k_new_session_ticket = 4;

struct ClientHelloInfo {
  std::array<std::uint8_t, 32> random{};
  std::optional<std::string> server_name;
  Bytes session_ticket; // extension 35; empty when absent or empty
  std::vector<Bytes> psk_identities; // extension 41
};

// Errc::parse naming the field on malformed input.
Result<ClientHelloInfo> parse_client_hello(Bytes body);

struct ServerHelloInfo {
  std::uint16_t version = 0; // supported_versions if present, else legacy
  std::uint16_t cipher_suite = 0;
  bool hello_retry_request = false;
};

Result<ServerHelloInfo> parse_server_hello(Bytes body);

struct NewSessionTicketInfo {
  std::uint32_t lifetime = 0;
  Bytes ticket;
};

// TLS 1.2 (RFC 5077): lifetime_hint | ticket<u16>. TLS 1.3 (RFC 8446
// section 4.6.1): lifetime | age_add | nonce<u8> | ticket<u16> |
// extensions<u16>.
Result<NewSessionTicketInfo> parse_new_session_ticket(Bytes body, bool tls13);

} // namespace stek::inspect::pcap
