// SPDX-License-Identifier: Apache-2.0
// Sessions saved by `openssl s_client -sess_out` (PEM "SSL SESSION
// PARAMETERS"): the client's copy, which holds the ticket it was given.
#pragma once
#include <stek/inspect/session_facts.hpp>
#include <stek/result.hpp>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace stek::inspect {

struct PemSession {
  // The ticket (tlsext_tick, [10]); empty for a session without one.
  std::vector<std::uint8_t> ticket;
  std::optional<std::uint32_t> lifetime_hint; // [9]
  // What the client recorded: protocol, cipher, time, timeout, SNI, ALPN.
  SessionFacts client_view;
};

// Return whether `text` holds a PEM "SSL SESSION PARAMETERS" block.
bool looks_like_pem_session(std::string_view text);

// Read every "SSL SESSION PARAMETERS" block of `text`. Errc::parse naming
// the block (1-based) and field on bad base64 or DER.
Result<std::vector<PemSession>> read_pem_sessions(std::string_view text);

} // namespace stek::inspect
