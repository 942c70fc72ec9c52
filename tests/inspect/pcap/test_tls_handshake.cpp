// SPDX-License-Identifier: Apache-2.0
// The handshake message parsers on their own.
#include "inspect/pcap/capture_builder.hpp"
#include "inspect/pcap/tls_handshake.hpp"

#include <doctest/doctest.h>

using stek::inspect::pcap::parse_client_hello;
using stek::inspect::pcap::parse_server_hello;
using stek::inspect::pcap::parse_new_session_ticket;
using namespace stek::test::capture;

namespace {

std::span<const std::uint8_t> body_of(const Bytes& message) {
  return std::span<const std::uint8_t>(message).subspan(4);
}

} // namespace

TEST_CASE("handshake: ClientHello fields, and every prefix refused") {
  HelloOptions o;
  o.session_ticket = filled(80, 7);
  o.psk_identities = {filled(10, 1), filled(20, 2)};
  const auto m = client_hello(o);
  const auto hello = parse_client_hello(body_of(m));
  REQUIRE(hello.ok());
  CHECK(hello->server_name == "a.example");
  CHECK(hello->session_ticket.size() == 80);
  REQUIRE(hello->psk_identities.size() == 2);
  CHECK(hello->psk_identities[1].size() == 20);
  CHECK(hello->random[0] == 0x11);
  // Cut anywhere inside the fixed part or an extension: an error, never a
  // read past the end. (Cutting exactly after the compression methods is a
  // valid hello without extensions.)
  const auto body = body_of(m);
  for (std::size_t n = 0; n < body.size(); ++n) {
    const auto r = parse_client_hello(body.first(n));
    if (n == 2 + 32 + 1 + 2 + 4 + 2) {
      CHECK(r.ok());
    } else {
      CHECK_FALSE(r.ok());
    }
  }
}

TEST_CASE("handshake: ServerHello version from supported_versions, and HRR") {
  auto sh = parse_server_hello(body_of(server_hello(0x0304, 0x1302)));
  REQUIRE(sh.ok());
  CHECK(sh->version == 0x0304);
  CHECK(sh->cipher_suite == 0x1302);
  CHECK_FALSE(sh->hello_retry_request);
  sh = parse_server_hello(body_of(server_hello(0x0303, 0xc02f)));
  CHECK(sh->version == 0x0303);
  sh = parse_server_hello(body_of(server_hello(0x0304, 0x1301, true)));
  CHECK(sh->hello_retry_request);
  CHECK_FALSE(parse_server_hello(body_of(server_hello(0x0304, 0x1301)).first(30)).ok());
}

TEST_CASE("handshake: NewSessionTicket in both versions") {
  auto t = parse_new_session_ticket(body_of(new_session_ticket12(300, filled(9, 3))), false);
  REQUIRE(t.ok());
  CHECK(t->lifetime == 300);
  CHECK(t->ticket.size() == 9);
  t = parse_new_session_ticket(body_of(new_session_ticket13(7200, filled(33, 4))), true);
  REQUIRE(t.ok());
  CHECK(t->lifetime == 7200);
  CHECK(t->ticket.size() == 33);
  // A TLS 1.3 message read as TLS 1.2 does not fit.
  const auto m13 = new_session_ticket13(7200, filled(33, 4));
  CHECK_FALSE(parse_new_session_ticket(body_of(m13).first(20), true).ok());
}
