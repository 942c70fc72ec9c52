// SPDX-License-Identifier: Apache-2.0
// What a decrypted ticket says about its session. Never a secret: decoders
// skip master secrets, PSKs and resumption secrets and wipe the plaintext.
#pragma once
#include <stek/result.hpp>
#include <stek/time.hpp>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace stek::inspect {

struct SessionFacts {
  // How the plaintext was encoded: "openssl-der", "s2n-tls12-v4",
  // "s2n-tls13-v2", "go-tls12", "go-tls13".
  std::string encoding;
  std::optional<std::uint16_t> protocol;     // 0x0303, 0x0304
  std::optional<std::uint16_t> cipher_suite; // IANA value
  std::optional<Timestamp> issued;
  // OpenSSL: the session timeout; s2n TLS 1.3: keying material expiry minus
  // issue time. Go and s2n TLS 1.2 store none.
  std::optional<Duration> lifetime;
  std::optional<std::string> sni;
  std::optional<std::string> alpn;
  std::optional<bool> client_certificate;
  std::optional<bool> extended_master_secret;
};

// Return the IANA name of a cipher suite, e.g. "TLS_AES_128_GCM_SHA256" or
// "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", or nullopt if unknown.
std::optional<std::string_view> cipher_suite_name(std::uint16_t suite);

// Return "TLSv1.2", "TLSv1.3", ... or "0x%04x".
std::string protocol_name(std::uint16_t version);

// Decode OpenSSL's DER SSL_SESSION (ssl/ssl_asn1.c), server or client side.
// Errc::parse naming the field on malformed input.
Result<SessionFacts> decode_openssl_session(std::span<const std::uint8_t> der);

// Decode s2n-tls's serialized state, formats 4 (TLS 1.2) and 2 (TLS 1.3).
Result<SessionFacts> decode_s2n_state(std::span<const std::uint8_t> state);

// Decode Go 1.19's sessionState (TLS 1.2) or sessionStateTLS13.
Result<SessionFacts> decode_go_state(std::span<const std::uint8_t> state);

} // namespace stek::inspect
