// SPDX-License-Identifier: Apache-2.0
// A ticket as it was found: the bytes, the message that carried them and
// where. Capture readers, the PEM reader and raw input all produce these;
// stekctl inspect decodes and reports them.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace stek::inspect {

// Which message carried the ticket.
enum class MessageKind {
  new_session_ticket,          // server -> client, TLS 1.2 or 1.3
  client_hello_session_ticket, // TLS 1.2 ClientHello extension 35, non-empty
  client_hello_psk_identity,   // TLS 1.3 ClientHello extension 41 identity
  raw,                         // hex, base64 or binary input
  pem_session,                 // openssl s_client -sess_out
};

// Return the contract spelling: "new_session_ticket",
// "client_hello_session_ticket", "client_hello_psk_identity", "raw",
// "pem_session".
std::string_view message_kind_name(MessageKind kind);

// An IP address (text form, e.g. "127.0.0.1" or "::1") and port.
struct Endpoint {
  std::string address;
  std::uint16_t port = 0;
};

// Where in a capture a ticket was seen.
struct CaptureOrigin {
  std::uint64_t frame = 0; // 1-based, as tshark and Wireshark count
  // The capture timestamp of the frame that completed the message.
  std::chrono::sys_time<std::chrono::microseconds> time{};
  Endpoint source;      // the sender of the message
  Endpoint destination; // its receiver
};

struct Sighting {
  std::string input; // the input file name as given, "-" for stdin
  std::optional<CaptureOrigin> capture;
  MessageKind kind = MessageKind::raw;
  // Position among the identities of one pre_shared_key extension (0-based),
  // or among the NewSessionTickets of one connection.
  std::uint32_t index = 0;
  // 0x0303, 0x0304: the version the connection negotiated, where known
  // (ServerHello, supported_versions), else for a ClientHello the version it
  // implies (extension 41: 0x0304; extension 35: 0x0303).
  std::optional<std::uint16_t> tls_version;
  // The cipher suite the ServerHello chose, where seen.
  std::optional<std::uint16_t> cipher_suite;
  // The server name of the ClientHello this ticket arrived in, or of the
  // connection's ClientHello for a NewSessionTicket.
  std::optional<std::string> sni;
  // NewSessionTicket ticket_lifetime(_hint) in seconds.
  std::optional<std::uint32_t> lifetime_hint;
  // Whether the ticket was read from decrypted TLS 1.3 records (--keylog).
  bool decrypted_with_keylog = false;
  std::vector<std::uint8_t> ticket;
};

} // namespace stek::inspect
