// SPDX-License-Identifier: Apache-2.0
// Go 1.19's ticket plaintexts (src/crypto/tls/ticket.go, cryptobyte,
// big-endian):
//   sessionState (TLS 1.2 and older): u16 vers | u16 cipherSuite |
//     u64 createdAt (Unix seconds) | masterSecret<u16> (non-empty) |
//     certificates<u24> of certificate<u24>
//   sessionStateTLS13: u16 0x0304 | u8 revision 0 | u16 cipherSuite |
//     u64 createdAt | resumptionSecret<u8> (non-empty) | Certificate:
//     certificate_list<u24> of { cert_data<u24>, extensions<u16> }
// Go stores no server name, ALPN or lifetime. Secrets are skipped.
#include <stek/inspect/session_facts.hpp>

#include "byte_reader.hpp"
#include "session_time.hpp"

namespace stek::inspect {
namespace {

using detail::ByteReader;

constexpr std::uint16_t k_tls13 = 0x0304;

Result<void> read_created(ByteReader& in, SessionFacts& out) {
  std::uint64_t created = 0;
  STEK_ENSURE(in.u64(created), Errc::parse, "Go state createdAt: truncated");
  STEK_ENSURE(created <= static_cast<std::uint64_t>(detail::k_max_unix_seconds),
              Errc::parse, "Go state createdAt: out of range");
  out.issued = detail::from_unix_seconds(static_cast<std::int64_t>(created));
  return {};
}

Result<SessionFacts> read_tls13(ByteReader& in) {
  SessionFacts out;
  out.encoding = "go-tls13";
  out.protocol = k_tls13;
  std::uint8_t revision = 0;
  std::uint16_t suite = 0;
  std::span<const std::uint8_t> secret;
  std::span<const std::uint8_t> list;
  STEK_ENSURE(in.u8(revision), Errc::parse, "Go state revision: truncated");
  STEK_ENSURE(revision == 0, Errc::parse, "Go state revision: not 0");
  STEK_ENSURE(in.u16(suite), Errc::parse, "Go state cipherSuite: truncated");
  out.cipher_suite = suite;
  STEK_TRY(read_created(in, out));
  STEK_ENSURE(in.prefixed(1, secret) && !secret.empty(), Errc::parse,
              "Go state resumptionSecret: truncated or empty");
  STEK_ENSURE(in.prefixed(3, list), Errc::parse,
              "Go state certificate_list: truncated");
  ByteReader entries(list);
  bool any = false;
  while (!entries.empty()) {
    std::span<const std::uint8_t> cert;
    std::span<const std::uint8_t> extensions;
    STEK_ENSURE(entries.prefixed(3, cert) && entries.prefixed(2, extensions),
                Errc::parse, "Go state certificate entry: truncated");
    any = true;
  }
  STEK_ENSURE(in.empty(), Errc::parse, "Go state: trailing bytes");
  out.client_certificate = any;
  return out;
}

Result<SessionFacts> read_tls12(ByteReader& in, std::uint16_t version) {
  SessionFacts out;
  out.encoding = "go-tls12";
  out.protocol = version;
  std::uint16_t suite = 0;
  std::span<const std::uint8_t> master;
  std::span<const std::uint8_t> list;
  STEK_ENSURE(in.u16(suite), Errc::parse, "Go state cipherSuite: truncated");
  out.cipher_suite = suite;
  STEK_TRY(read_created(in, out));
  STEK_ENSURE(in.prefixed(2, master) && !master.empty(), Errc::parse,
              "Go state masterSecret: truncated or empty");
  STEK_ENSURE(in.prefixed(3, list), Errc::parse,
              "Go state certificates: truncated");
  ByteReader certs(list);
  bool any = false;
  while (!certs.empty()) {
    std::span<const std::uint8_t> cert;
    STEK_ENSURE(certs.prefixed(3, cert), Errc::parse,
                "Go state certificate: truncated");
    any = true;
  }
  STEK_ENSURE(in.empty(), Errc::parse, "Go state: trailing bytes");
  out.client_certificate = any;
  return out;
}

} // namespace

Result<SessionFacts> decode_go_state(std::span<const std::uint8_t> state) {
  ByteReader in(state);
  std::uint16_t version = 0;
  STEK_ENSURE(in.u16(version), Errc::parse, "Go state version: truncated");
  STEK_ENSURE(version >= 0x0300 && version <= k_tls13, Errc::parse,
              "Go state version: unknown value");
  if (version == k_tls13) {
    return read_tls13(in);
  }
  return read_tls12(in, version);
}

} // namespace stek::inspect
