// SPDX-License-Identifier: Apache-2.0
// OpenSSL's DER SSL_SESSION (ssl/ssl_asn1.c), with the fields only a
// client's copy has (the ticket and its lifetime hint) kept apart.
#pragma once
#include <stek/inspect/session_facts.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace stek::inspect::detail {

struct DerSession {
  SessionFacts facts;
  std::vector<std::uint8_t> ticket;           // [10] tlsext_tick
  std::optional<std::uint32_t> lifetime_hint; // [9]
};

// Decode `der`, one whole SSL_SESSION with nothing after it. The master key
// is skipped, never copied. Errc::parse naming the field.
Result<DerSession> parse_openssl_der(std::span<const std::uint8_t> der);

} // namespace stek::inspect::detail
