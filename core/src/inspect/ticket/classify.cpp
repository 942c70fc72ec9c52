// SPDX-License-Identifier: Apache-2.0
// Structural guesses at a ticket's format, best first.
//
// What each format allows:
//   OpenSSL family  name 16 | IV 16 | CBC (n x 16, n >= 1) | HMAC 32:
//                   length >= 80 and (length - 64) % 16 == 0
//   s2n-tls         0x01 | name 16 | info 32 | nonce 12 | GCM (>= 1) | tag 16:
//                   byte 0 == 1 and length >= 78; TLS 1.2 tickets (and TLS
//                   1.3 ones with SHA-256 suites) are exactly 138 bytes, TLS
//                   1.3 ones with SHA-384 suites 154
//   Go 1.19         name 16 | IV 16 | CTR (any length >= 1) | HMAC 32:
//                   length >= 65
//   Go 1.21+        IV 16 | CTR | HMAC 32: length >= 49, no name at all
//
// Ranking:
//   1. s2n-tls is `likely` at exactly 138 or 154 bytes with byte 0 == 1 (its
//      sizes without early data), `possible` at other lengths with byte 0 ==
//      1, and then ranked after Go 1.19: one key name in 256 starts with 1.
//   2. OpenSSL is `likely` when its block arithmetic fits (the most common
//      issuer by far; a random length fits only one time in 16), and comes
//      first unless s2n-tls is likely.
//   3. Go 1.19 is `likely` when OpenSSL's arithmetic fails and s2n-tls is
//      not likely (CTR needs no padding), `possible` otherwise.
//   4. Go 1.21+ fits any length >= 49 and carries no name, so it is only
//      ever `possible`, and last.
// Blobs of 32 bytes or less (TLS 1.3 stateful tickets, session ids) and
// anything below every minimum are `unknown`, with the reason.
#include <stek/inspect/ticket_decode.hpp>

#include <algorithm>
#include <string>

namespace stek::inspect {
namespace {

constexpr std::size_t k_name = 16;
constexpr std::size_t k_openssl_overhead = 64; // name + IV + HMAC
constexpr std::size_t k_openssl_min = 80;
constexpr std::size_t k_s2n_min = 1 + 16 + 32 + 12 + 16 + 1;
constexpr std::size_t k_s2n_tls12 = 138;   // and TLS 1.3, SHA-256 suites
constexpr std::size_t k_s2n_sha384 = 154;  // TLS 1.3, SHA-384 suites
constexpr std::size_t k_go_named_min = 16 + 16 + 32 + 1;
constexpr std::size_t k_go_unnamed_min = 16 + 32 + 1;
constexpr std::size_t k_short = 32;

KeyId id_at(std::span<const std::uint8_t> ticket, std::size_t offset) {
  KeyId::Bytes bytes{};
  std::copy_n(ticket.begin() + static_cast<std::ptrdiff_t>(offset), k_name,
              bytes.begin());
  return KeyId(bytes);
}

std::string length_text(std::size_t size) {
  return "length " + std::to_string(size);
}

FormatGuess guess(TicketFormat format,
                  Confidence confidence,
                  std::optional<KeyId> key_id,
                  std::string reason) {
  return FormatGuess{format, confidence, key_id, std::move(reason)};
}

} // namespace

std::string_view ticket_format_name(TicketFormat format) {
  switch (format) {
  case TicketFormat::openssl: return "openssl";
  case TicketFormat::s2n: return "s2n-tls";
  case TicketFormat::go_named: return "go-1.19";
  case TicketFormat::go_unnamed: return "go-1.21";
  case TicketFormat::unknown: return "unknown";
  }
  return "unknown";
}

std::string_view confidence_name(Confidence confidence) {
  switch (confidence) {
  case Confidence::verified: return "verified";
  case Confidence::likely: return "likely";
  case Confidence::possible: return "possible";
  case Confidence::none: return "none";
  }
  return "none";
}

std::vector<FormatGuess> classify_ticket(std::span<const std::uint8_t> ticket) {
  const std::size_t size = ticket.size();
  std::vector<FormatGuess> out;
  if (size <= k_short) {
    out.push_back(guess(TicketFormat::unknown, Confidence::none, std::nullopt,
                        length_text(size) + ": too short for an encrypted "
                        "ticket (a TLS 1.3 stateful ticket or session id?)"));
    return out;
  }
  const bool openssl_fits =
    size >= k_openssl_min && (size - k_openssl_overhead) % 16 == 0;
  const bool s2n_fits = size >= k_s2n_min && ticket[0] == 1;
  const bool s2n_likely =
    s2n_fits && (size == k_s2n_tls12 || size == k_s2n_sha384);
  const bool go_named_fits = size >= k_go_named_min;

  if (s2n_likely) {
    out.push_back(guess(TicketFormat::s2n, Confidence::likely, id_at(ticket, 1),
                        "version byte 1 and " + length_text(size) +
                          ", an s2n-tls size"));
  }
  if (openssl_fits) {
    out.push_back(guess(
      TicketFormat::openssl, s2n_likely ? Confidence::possible : Confidence::likely,
      id_at(ticket, 0),
      length_text(size) + " = 64 + " +
        std::to_string((size - k_openssl_overhead) / 16) + " AES blocks"));
  }
  if (go_named_fits) {
    const bool likely = !openssl_fits && !s2n_likely;
    out.push_back(guess(
      TicketFormat::go_named, likely ? Confidence::likely : Confidence::possible,
      id_at(ticket, 0),
      likely ? length_text(size) + " = 64 + " + std::to_string(size - 64) +
                 " bytes, not whole AES blocks: a CTR ticket"
             : length_text(size) + " >= 65 fits a CTR ticket too"));
  }
  if (s2n_fits && !s2n_likely) {
    out.push_back(guess(TicketFormat::s2n, Confidence::possible, id_at(ticket, 1),
                        "version byte 1, " + length_text(size) + " >= 78"));
  }
  if (size >= k_go_unnamed_min) {
    out.push_back(guess(TicketFormat::go_unnamed, Confidence::possible,
                        std::nullopt,
                        length_text(size) + " >= 49; no key name to check"));
  }
  if (out.empty()) {
    out.push_back(guess(TicketFormat::unknown, Confidence::none, std::nullopt,
                        length_text(size) + ": below every format's minimum"));
  }
  return out;
}

} // namespace stek::inspect
