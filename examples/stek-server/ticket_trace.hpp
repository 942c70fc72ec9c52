// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stek/provider.hpp>

#include <memory>
#include <optional>
#include <string>

namespace stek_server {

// Which ticket keys the provider handed out for the connection this thread
// is serving. OpenSSL calls the ticket callback on the thread that drives
// the handshake, so one record per thread needs no lock and no SSL ex_data.
struct TicketTrace {
  // The key that decrypted the ticket the client presented.
  std::optional<stek::KeyId> decrypted;
  // The key that encrypted the ticket issued on this connection.
  std::optional<stek::KeyId> issued;

  // Return this thread's record; reset it before each handshake.
  static TicketTrace& current();

  // Return the hex id of the key the connection used: the one that issued
  // its new ticket, else the one that decrypted the ticket it resumed with
  // (only if `reused`), else "-".
  std::string used_key(bool reused) const;
};

// A Provider that forwards to `inner` and notes in TicketTrace::current()
// the keys it hands out. It only reads the ids, which tickets carry in
// clear; the secrets pass through untouched.
class TracingProvider final : public stek::Provider {
public:
  explicit TracingProvider(std::shared_ptr<stek::Provider> inner)
    : m_inner(std::move(inner)) {}

  std::optional<stek::TicketKey>
  encryption_key(std::optional<std::string_view> sni) override;
  std::optional<stek::TicketKey>
  decryption_key(std::optional<std::string_view> sni,
                 stek::KeyIdView id) override;

private:
  std::shared_ptr<stek::Provider> m_inner;
};

} // namespace stek_server
