// SPDX-License-Identifier: Apache-2.0
// s2n-tls's serialized resumption state, as a server writes it into a
// ticket (tls/s2n_resume.c). Big-endian throughout.
//   format 4 (TLS 1.2), 61 bytes: u8 4 | u8 protocol | u16 cipher |
//     u64 issue time (ns) | 48-byte master secret | u8 ems
//   format 2 (TLS 1.3): u8 2 | u8 protocol | u16 cipher | u64 issue time (ns)
//     | u32 ticket_age_add | u8 secret_len | secret | u64 keying material
//     expiration (ns) | u32 max_early_data | [max_early_data > 0: u8 alpn_len
//     | alpn | u16 context_len | context]
// Secrets are skipped, never copied.
#include <stek/inspect/session_facts.hpp>

#include "byte_reader.hpp"
#include "session_time.hpp"

#include <string>

namespace stek::inspect {
namespace {

using detail::ByteReader;

constexpr std::uint8_t k_format_tls13 = 2;
constexpr std::uint8_t k_format_tls12 = 4;
constexpr std::size_t k_tls12_master_secret = 48;

// s2n numbers protocol versions 30 (SSLv3) to 34 (TLS 1.3): S2N_TLS12 = 33.
Result<std::uint16_t> s2n_protocol(std::uint8_t value) {
  STEK_ENSURE(value >= 30 && value <= 34, Errc::parse,
              "s2n state protocol_version: unknown value " +
                std::to_string(value));
  return static_cast<std::uint16_t>(0x0300 + (value - 30));
}

// Read the fields both formats start with (after the format byte).
Result<void> read_common(ByteReader& in, SessionFacts& out) {
  std::uint8_t protocol = 0;
  std::uint16_t cipher = 0;
  std::uint64_t issued_ns = 0;
  STEK_ENSURE(in.u8(protocol), Errc::parse,
              "s2n state protocol_version: truncated");
  STEK_TRY_ASSIGN(out.protocol, s2n_protocol(protocol));
  STEK_ENSURE(in.u16(cipher), Errc::parse, "s2n state cipher_suite: truncated");
  out.cipher_suite = cipher;
  STEK_ENSURE(in.u64(issued_ns), Errc::parse, "s2n state issue_time: truncated");
  out.issued = detail::from_unix_nanoseconds(issued_ns);
  STEK_ENSURE(out.issued.has_value(), Errc::parse,
              "s2n state issue_time: out of range");
  return {};
}

Result<SessionFacts> read_tls12(ByteReader& in) {
  SessionFacts out;
  out.encoding = "s2n-tls12-v4";
  STEK_TRY(read_common(in, out));
  std::uint8_t ems = 0;
  STEK_ENSURE(in.skip(k_tls12_master_secret), Errc::parse,
              "s2n state master_secret: truncated");
  STEK_ENSURE(in.u8(ems), Errc::parse, "s2n state ems_negotiated: truncated");
  STEK_ENSURE(ems <= 1, Errc::parse, "s2n state ems_negotiated: not 0 or 1");
  STEK_ENSURE(in.empty(), Errc::parse, "s2n state: trailing bytes");
  out.extended_master_secret = ems == 1;
  return out;
}

Result<SessionFacts> read_tls13(ByteReader& in) {
  SessionFacts out;
  out.encoding = "s2n-tls13-v2";
  STEK_TRY(read_common(in, out));
  std::uint32_t age_add = 0;
  std::uint8_t secret_len = 0;
  std::uint64_t expiration_ns = 0;
  std::uint32_t max_early_data = 0;
  STEK_ENSURE(in.u32(age_add), Errc::parse, "s2n state ticket_age_add: truncated");
  STEK_ENSURE(in.u8(secret_len) && secret_len > 0, Errc::parse,
              "s2n state secret_len: truncated or zero");
  STEK_ENSURE(in.skip(secret_len), Errc::parse, "s2n state secret: truncated");
  STEK_ENSURE(in.u64(expiration_ns), Errc::parse,
              "s2n state keying_material_expiration: truncated");
  const auto expires = detail::from_unix_nanoseconds(expiration_ns);
  STEK_ENSURE(expires.has_value() && *expires >= *out.issued, Errc::parse,
              "s2n state keying_material_expiration: before the issue time");
  out.lifetime = *expires - *out.issued;
  STEK_ENSURE(in.u32(max_early_data), Errc::parse,
              "s2n state max_early_data: truncated");
  if (max_early_data > 0) {
    std::span<const std::uint8_t> alpn;
    std::span<const std::uint8_t> context;
    STEK_ENSURE(in.prefixed(1, alpn), Errc::parse, "s2n state alpn: truncated");
    STEK_ENSURE(in.prefixed(2, context), Errc::parse,
                "s2n state early_data_context: truncated");
    if (!alpn.empty()) {
      out.alpn = std::string(alpn.begin(), alpn.end());
    }
  }
  STEK_ENSURE(in.empty(), Errc::parse, "s2n state: trailing bytes");
  return out;
}

} // namespace

Result<SessionFacts> decode_s2n_state(std::span<const std::uint8_t> state) {
  ByteReader in(state);
  std::uint8_t format = 0;
  STEK_ENSURE(in.u8(format), Errc::parse, "s2n state: empty");
  if (format == k_format_tls12) {
    return read_tls12(in);
  }
  if (format == k_format_tls13) {
    return read_tls13(in);
  }
  return fail(Errc::parse, "s2n state format: " + std::to_string(format) +
                             " (only 4, TLS 1.2, and 2, TLS 1.3, are written)");
}

} // namespace stek::inspect
