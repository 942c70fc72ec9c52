// SPDX-License-Identifier: Apache-2.0
// Recognise a ticket's format from its bytes, find the keystore key that
// minted it, verify and decrypt it, and decode the session inside.
#pragma once
#include <stek/derive.hpp>
#include <stek/inspect/session_facts.hpp>
#include <stek/key.hpp>
#include <stek/keystore.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace stek::inspect {

enum class TicketFormat {
  openssl,    // name 16 | IV 16 | AES-CBC | HMAC-SHA256 32 (OpenSSL, nginx,
              // HAProxy, Apache, Envoy/BoringSSL)
  s2n,        // version 1 | name 16 | info 32 | nonce 12 | AES-256-GCM | tag
  go_named,   // Go 1.19: name 16 | IV 16 | AES-128-CTR | HMAC-SHA256 32
  go_unnamed, // Go 1.21+: IV 16 | AES-128-CTR | HMAC-SHA256 32
  unknown,
};

// Return "openssl", "s2n-tls", "go-1.19", "go-1.21", "unknown".
std::string_view ticket_format_name(TicketFormat format);

// How sure a format is: `verified` once a key's MAC or tag checked out,
// `likely` when the structure fits and nothing else does as well,
// `possible` when it fits among others, `none` for unknown.
enum class Confidence { verified, likely, possible, none };

// Return "verified", "likely", "possible", "none".
std::string_view confidence_name(Confidence confidence);

struct FormatGuess {
  TicketFormat format = TicketFormat::unknown;
  Confidence confidence = Confidence::none;
  // The key name the ticket carries in clear (not for go_unnamed, unknown).
  std::optional<KeyId> key_id;
  // Why, in a few words: "length 176 = 64 + 7 AES blocks".
  std::string reason;
};

// Classify `ticket` by structure alone. Best guess first; never empty (an
// unknown guess comes last when nothing fits).
std::vector<FormatGuess> classify_ticket(std::span<const std::uint8_t> ticket);

// The outcome of trying a keystore's keys on one ticket.
struct OpenResult {
  enum class Status {
    opened,          // MAC/tag verified, decrypted
    no_key,          // no key of the keystore names or verifies the ticket
    mac_failed,      // a key has the ticket's name but its MAC/tag fails
                     // under every binding tried
    decrypt_failed,  // MAC verified, decryption failed (bad padding)
  };
  Status status = Status::no_key;
  TicketFormat format = TicketFormat::unknown;
  // The ticket's key name (from the wire, or for go_unnamed the keystore
  // key's Go name once its HMAC verified).
  std::optional<KeyId> key_id;
  // Index into Keystore::keys of the key that named or verified the ticket.
  std::optional<std::size_t> key_index;
  // The binding whose secrets verified: "unbound", "sni:<name>", "no-sni".
  std::string binding;
  // OpenSSL-family secret size that verified (32 or 16), 0 otherwise.
  std::size_t secret_size = 0;
  // The HMAC verified under an all-zero key: Apache 2.4's stack-buffer bug
  // (see the interop notes); such tickets have no integrity protection.
  bool all_zero_hmac_key = false;
  // With status opened: the decoded session, or why it could not be
  // decoded.
  std::optional<SessionFacts> session;
  std::string session_error;
  // With any other status: why, naming the key or field.
  std::string reason;
};

// Tries keys on tickets, caching each key's derived secrets so a capture
// with many tickets derives each key and binding once (bounded cache).
class TicketOpener {
public:
  // `keystore` must outlive the opener.
  explicit TicketOpener(const Keystore& keystore);
  ~TicketOpener();
  TicketOpener(TicketOpener&&) noexcept;
  TicketOpener& operator=(TicketOpener&&) noexcept;

  // Try to open `ticket`. Bindings tried, in order: `server_name`
  // (normalized) if given, unbound, and no-sni when `server_name` is absent.
  OpenResult open(std::span<const std::uint8_t> ticket,
                  const std::optional<std::string>& server_name);

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

} // namespace stek::inspect
