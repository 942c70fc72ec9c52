// SPDX-License-Identifier: Apache-2.0
// The DER SSL_SESSION of OpenSSL 1.1.1 to 3.x, as ssl/ssl_asn1.c's
// SSL_SESSION_ASN1 template lays it out:
//   SEQUENCE { version INTEGER (1), ssl_version INTEGER, cipher OCTET STRING
//   (2 bytes), session_id OCTET STRING, master_key OCTET STRING,
//   key_arg [0] IMPLICIT OPTIONAL, then EXPLICIT OPTIONAL fields [1] time,
//   [2] timeout, [3] peer (X509), [4] sid_ctx, [5] verify_result,
//   [6] hostname, [7] [8] PSK, [9] lifetime hint, [10] ticket, [11] comp_id,
//   [12] srp_username, [13] flags, [14] age_add, [15] max_early_data,
//   [16] alpn_selected, [17] max_fragment_len_mode, [18] ticket_appdata,
//   [19] kex_group, [20] peer_rpk (3.2+) }
// Times are whole seconds (ZINT64) in every version.
#include "openssl_der.hpp"

#include "der_reader.hpp"
#include "session_time.hpp"

#include <string>

namespace stek::inspect {
namespace detail {
namespace {

// SSL_SESS_FLAG_EXTMS (ssl/ssl_local.h).
constexpr std::uint64_t k_flag_extms = 0x1;
constexpr std::int64_t k_session_asn1_version = 1;
// Tags above this are skipped, so a newer OpenSSL's additions still decode.
constexpr unsigned k_last_known_tag = 20;

std::string text_of(std::span<const std::uint8_t> bytes) {
  return {bytes.begin(), bytes.end()};
}

// Read the one TLV inside EXPLICIT tag [`number`] and check its tag.
Result<std::span<const std::uint8_t>> explicit_inner(
  std::span<const std::uint8_t> content,
  std::uint8_t inner_tag,
  const std::string& field) {
  DerReader inner(content);
  STEK_TRY_ASSIGN(const auto tlv, inner.expect(inner_tag, field));
  STEK_ENSURE(inner.empty(), Errc::parse, field + ": trailing bytes");
  return tlv.content;
}

// Apply the optional field [`number`] with `content` to `out`.
Result<void> apply_field(unsigned number,
                         std::span<const std::uint8_t> content,
                         DerSession& out) {
  const std::string field = "SSL_SESSION [" + std::to_string(number) + "]";
  switch (number) {
  case 1: {
    STEK_TRY_ASSIGN(const auto raw, explicit_inner(content, k_der_integer,
                                                   field + " time"));
    STEK_TRY_ASSIGN(const auto seconds, der_int64(raw, field + " time"));
    const auto issued = from_unix_seconds(seconds);
    STEK_ENSURE(issued.has_value(), Errc::parse, field + " time: out of range");
    out.facts.issued = issued;
    return {};
  }
  case 2: {
    STEK_TRY_ASSIGN(const auto raw, explicit_inner(content, k_der_integer,
                                                   field + " timeout"));
    STEK_TRY_ASSIGN(const auto seconds, der_int64(raw, field + " timeout"));
    STEK_ENSURE(seconds >= 0 && seconds <= k_max_unix_seconds, Errc::parse,
                field + " timeout: out of range");
    out.facts.lifetime = Duration(seconds);
    return {};
  }
  case 3: {
    // The peer's certificate: only its presence matters.
    STEK_TRY(explicit_inner(content, k_der_sequence, field + " peer"));
    out.facts.client_certificate = true;
    return {};
  }
  case 6: {
    STEK_TRY_ASSIGN(const auto raw, explicit_inner(content, k_der_octet_string,
                                                   field + " hostname"));
    out.facts.sni = text_of(raw);
    return {};
  }
  case 9: {
    STEK_TRY_ASSIGN(const auto raw, explicit_inner(content, k_der_integer,
                                                   field + " lifetime hint"));
    STEK_TRY_ASSIGN(const auto hint, der_uint64(raw, field + " lifetime hint"));
    STEK_ENSURE(hint <= 0xffffffffu, Errc::parse,
                field + " lifetime hint: out of range");
    out.lifetime_hint = static_cast<std::uint32_t>(hint);
    return {};
  }
  case 10: {
    STEK_TRY_ASSIGN(const auto raw, explicit_inner(content, k_der_octet_string,
                                                   field + " ticket"));
    out.ticket.assign(raw.begin(), raw.end());
    return {};
  }
  case 13: {
    STEK_TRY_ASSIGN(const auto raw, explicit_inner(content, k_der_integer,
                                                   field + " flags"));
    STEK_TRY_ASSIGN(const auto flags, der_uint64(raw, field + " flags"));
    out.facts.extended_master_secret = (flags & k_flag_extms) != 0;
    return {};
  }
  case 16: {
    STEK_TRY_ASSIGN(const auto raw, explicit_inner(content, k_der_octet_string,
                                                   field + " alpn_selected"));
    out.facts.alpn = text_of(raw);
    return {};
  }
  default:
    // Present but of no interest (or secret, such as [14] age_add): not
    // looked into.
    return {};
  }
}

// Read the mandatory fields: version, ssl_version, cipher, session_id and
// master_key (skipped).
Result<void> read_head(DerReader& seq, DerSession& out) {
  STEK_TRY_ASSIGN(const auto version,
                  seq.expect(k_der_integer, "SSL_SESSION version"));
  STEK_TRY_ASSIGN(const auto v, der_int64(version.content, "SSL_SESSION version"));
  STEK_ENSURE(v == k_session_asn1_version, Errc::parse,
              "SSL_SESSION version: " + std::to_string(v) + ", expected 1");
  STEK_TRY_ASSIGN(const auto ssl_version,
                  seq.expect(k_der_integer, "SSL_SESSION ssl_version"));
  STEK_TRY_ASSIGN(const auto protocol,
                  der_int64(ssl_version.content, "SSL_SESSION ssl_version"));
  STEK_ENSURE(protocol >= 0 && protocol <= 0xffff, Errc::parse,
              "SSL_SESSION ssl_version: out of range");
  out.facts.protocol = static_cast<std::uint16_t>(protocol);
  STEK_TRY_ASSIGN(const auto cipher,
                  seq.expect(k_der_octet_string, "SSL_SESSION cipher"));
  STEK_ENSURE(cipher.content.size() == 2, Errc::parse,
              "SSL_SESSION cipher: " + std::to_string(cipher.content.size()) +
                " bytes, expected 2");
  out.facts.cipher_suite = static_cast<std::uint16_t>(
    (cipher.content[0] << 8) | cipher.content[1]);
  STEK_TRY(seq.expect(k_der_octet_string, "SSL_SESSION session_id"));
  STEK_TRY(seq.expect(k_der_octet_string, "SSL_SESSION master_key"));
  return {};
}

} // namespace

Result<DerSession> parse_openssl_der(std::span<const std::uint8_t> der) {
  DerReader outer(der);
  STEK_TRY_ASSIGN(const auto sequence,
                  outer.expect(k_der_sequence, "SSL_SESSION"));
  STEK_ENSURE(outer.empty(), Errc::parse, "SSL_SESSION: trailing bytes");
  DerSession out;
  out.facts.encoding = "openssl-der";
  DerReader seq(sequence.content);
  STEK_TRY(read_head(seq, out));
  // [0] key_arg is IMPLICIT (primitive); the rest are EXPLICIT, in order.
  int previous = -1;
  while (!seq.empty()) {
    STEK_TRY_ASSIGN(const auto tlv, seq.next("SSL_SESSION optional field"));
    STEK_ENSURE((tlv.tag & 0xc0) == k_der_context, Errc::parse,
                "SSL_SESSION: unexpected field after master_key");
    const unsigned number = tlv.tag & 0x1fu;
    const bool constructed = (tlv.tag & k_der_constructed) != 0;
    STEK_ENSURE(constructed == (number != 0), Errc::parse,
                "SSL_SESSION [" + std::to_string(number) +
                  "]: wrong tag form");
    STEK_ENSURE(static_cast<int>(number) > previous, Errc::parse,
                "SSL_SESSION [" + std::to_string(number) +
                  "]: out of order or repeated");
    previous = static_cast<int>(number);
    if (number <= k_last_known_tag) {
      STEK_TRY(apply_field(number, tlv.content, out));
    }
  }
  // EMS is a TLS 1.2 notion; OpenSSL writes no flags for TLS 1.3.
  if (out.facts.protocol == 0x0304) {
    out.facts.extended_master_secret.reset();
  } else if (!out.facts.extended_master_secret) {
    out.facts.extended_master_secret = false;
  }
  if (!out.facts.client_certificate) {
    out.facts.client_certificate = false;
  }
  return out;
}

} // namespace detail

Result<SessionFacts> decode_openssl_session(std::span<const std::uint8_t> der) {
  STEK_TRY_ASSIGN(auto session, detail::parse_openssl_der(der));
  return std::move(session.facts);
}

} // namespace stek::inspect
