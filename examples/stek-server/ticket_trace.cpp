// SPDX-License-Identifier: Apache-2.0
#include "ticket_trace.hpp"

namespace stek_server {

TicketTrace& TicketTrace::current() {
  thread_local TicketTrace trace;
  return trace;
}

std::string TicketTrace::used_key(bool reused) const {
  if (issued) {
    return issued->hex();
  }
  if (reused && decrypted) {
    return decrypted->hex();
  }
  return "-";
}

std::optional<stek::TicketKey>
TracingProvider::encryption_key(std::optional<std::string_view> sni) {
  auto key = m_inner->encryption_key(sni);
  if (key) {
    TicketTrace::current().issued = key->id;
  }
  return key;
}

std::optional<stek::TicketKey>
TracingProvider::decryption_key(std::optional<std::string_view> sni,
                                stek::KeyIdView id) {
  auto key = m_inner->decryption_key(sni, id);
  if (key) {
    TicketTrace::current().decrypted = key->id;
  }
  return key;
}

} // namespace stek_server
