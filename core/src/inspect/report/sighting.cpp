// SPDX-License-Identifier: Apache-2.0
#include <stek/inspect/sighting.hpp>

namespace stek::inspect {

std::string_view message_kind_name(MessageKind kind) {
  switch (kind) {
  case MessageKind::new_session_ticket: return "new_session_ticket";
  case MessageKind::client_hello_session_ticket:
    return "client_hello_session_ticket";
  case MessageKind::client_hello_psk_identity:
    return "client_hello_psk_identity";
  case MessageKind::raw: return "raw";
  case MessageKind::pem_session: return "pem_session";
  }
  return "unknown";
}

} // namespace stek::inspect
