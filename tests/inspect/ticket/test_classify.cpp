// SPDX-License-Identifier: Apache-2.0
// classify_ticket: structural guesses, best first.
#include "ticket_support.hpp"

#include <stek/inspect/ticket_decode.hpp>

using namespace stek;
using namespace stek::inspect;
using namespace stek::test;

namespace {

std::vector<TicketFormat> formats_of(const std::vector<FormatGuess>& guesses) {
  std::vector<TicketFormat> out;
  for (const auto& g : guesses) {
    out.push_back(g.format);
  }
  return out;
}

ByteVector blob(std::size_t size, std::uint8_t first) {
  ByteVector out(size);
  for (std::size_t i = 0; i < size; ++i) {
    out[i] = static_cast<std::uint8_t>(i + 0x10);
  }
  if (size > 0) {
    out[0] = first;
  }
  return out;
}

} // namespace

TEST_CASE("stek::inspect::classify_ticket") {
  using F = TicketFormat;
  SUBCASE("short blobs are unknown") {
    for (const std::size_t size : {0u, 1u, 16u, 32u}) {
      const auto g = classify_ticket(blob(size, 0));
      REQUIRE(g.size() == 1);
      CHECK(g[0].format == F::unknown);
      CHECK(g[0].confidence == Confidence::none);
      CHECK(g[0].reason.find("too short") != std::string::npos);
    }
    const auto g = classify_ticket(blob(40, 0));
    REQUIRE(g.size() == 1);
    CHECK(g[0].format == F::unknown);
  }
  SUBCASE("49 to 64 bytes: only a Go 1.21 ticket fits") {
    const auto g = classify_ticket(blob(49, 0));
    CHECK(formats_of(g) == std::vector{F::go_unnamed});
    CHECK(g[0].confidence == Confidence::possible);
    CHECK_FALSE(g[0].key_id.has_value());
  }
  SUBCASE("whole AES blocks: OpenSSL likely") {
    const auto t = blob(176, 0);
    const auto g = classify_ticket(t);
    CHECK(formats_of(g) == std::vector{F::openssl, F::go_named, F::go_unnamed});
    CHECK(g[0].confidence == Confidence::likely);
    CHECK(g[1].confidence == Confidence::possible);
    CHECK(g[0].reason == "length 176 = 64 + 7 AES blocks");
    REQUIRE(g[0].key_id.has_value());
    CHECK(g[0].key_id->bytes()[1] == t[1]);
  }
  SUBCASE("version byte 1 and whole blocks: OpenSSL first, s2n possible") {
    const auto g = classify_ticket(blob(144, 1));
    CHECK(formats_of(g) == std::vector{F::openssl, F::go_named, F::s2n, F::go_unnamed});
    CHECK(g[2].confidence == Confidence::possible);
  }
  SUBCASE("a Go name starting with 1, at a length s2n never has: Go first") {
    // One Go key in 256 has a name starting with 1 (seen in CI).
    const auto g = classify_ticket(blob(129, 1));
    CHECK(formats_of(g) == std::vector{F::go_named, F::s2n, F::go_unnamed});
    CHECK(g[0].confidence == Confidence::likely);
    CHECK(g[1].confidence == Confidence::possible);
  }
  SUBCASE("154 bytes starting with 1: s2n likely (TLS 1.3, SHA-384)") {
    const auto g = classify_ticket(blob(154, 1));
    CHECK(formats_of(g) == std::vector{F::s2n, F::go_named, F::go_unnamed});
    CHECK(g[0].confidence == Confidence::likely);
  }
  SUBCASE("138 bytes starting with 1: s2n likely") {
    const auto t = blob(138, 1);
    const auto g = classify_ticket(t);
    CHECK(formats_of(g) == std::vector{F::s2n, F::go_named, F::go_unnamed});
    CHECK(g[0].confidence == Confidence::likely);
    REQUIRE(g[0].key_id.has_value());
    CHECK(g[0].key_id->bytes()[0] == t[1]);
    CHECK(g[1].confidence == Confidence::possible);
  }
  SUBCASE("not whole blocks, no version byte: Go 1.19 likely") {
    const auto g = classify_ticket(blob(138, 0));
    CHECK(formats_of(g) == std::vector{F::go_named, F::go_unnamed});
    CHECK(g[0].confidence == Confidence::likely);
  }
  CHECK(ticket_format_name(F::openssl) == "openssl");
  CHECK(ticket_format_name(F::s2n) == "s2n-tls");
  CHECK(ticket_format_name(F::go_named) == "go-1.19");
  CHECK(ticket_format_name(F::go_unnamed) == "go-1.21");
  CHECK(ticket_format_name(F::unknown) == "unknown");
  CHECK(confidence_name(Confidence::verified) == "verified");
  CHECK(confidence_name(Confidence::none) == "none");
}
