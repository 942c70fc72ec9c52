// SPDX-License-Identifier: Apache-2.0
// The OpenSSL adapter in real (in-memory) TLS handshakes: tickets resume
// under the name they were issued for, and only there.
#include "provider/provider_fixture.hpp"
#include "provider/tls_pair.hpp"

#include <stek/openssl_tickets.hpp>

#include <cstring>

using namespace stek;
using namespace stek::test;

namespace {

// Fixed, so failures reproduce; not via at(), which REQUIREs before main.
const Timestamp k_start = *parse_time("2026-11-28T12:00:00Z");

struct Server {
  TestClock clock;
  std::shared_ptr<FileProvider> provider;
  SslCtxPtr ctx;
  SslCtxPtr client;

  Server(int version, const Keystore& ks, Timestamp now = k_start) {
    save("ks.json", ks);
    clock.set(now);
    FileProviderOptions options;
    options.watch = WatchMode::manual;
    options.clock = clock.function();
    provider = open_provider("ks.json", std::move(options));
    ctx = server_context(version);
    REQUIRE(openssl::use_ticket_provider(ctx.get(), provider).ok());
    client = client_context(version);
  }

  Handshake connect(const std::optional<std::string>& sni,
                    SSL_SESSION* resume = nullptr) {
    return handshake(ctx.get(), client.get(), sni, resume);
  }
};

} // namespace

TEST_CASE("openssl adapter: tickets resume for the name they were issued for") {
  for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    CAPTURE(version);
    const auto ks = keystore_at(k_start, 2);
    Server server(version, ks);
    auto first = server.connect("a.example");
    CHECK_FALSE(first.reused);
    CHECK(ticket_key_name(first.session.get()) == ks.keys[0].id.hex());

    CHECK(server.connect("a.example", first.session.get()).reused);
    CHECK(server.connect("A.EXAMPLE", first.session.get()).reused);
    // Another name: the ticket's key is derived for a.example, so b.example
    // cannot decrypt it and falls back to a full handshake.
    CHECK_FALSE(server.connect("b.example", first.session.get()).reused);
    CHECK_FALSE(server.connect(std::nullopt, first.session.get()).reused);

    auto nameless = server.connect(std::nullopt);
    CHECK(server.connect(std::nullopt, nameless.session.get()).reused);
    CHECK_FALSE(server.connect("a.example", nameless.session.get()).reused);
  }
}

TEST_CASE("openssl adapter: without SNI binding a ticket crosses names") {
  // The cross-virtual-host resumption of "STEK Sharing is Not Caring",
  // which sni_binding stops.
  for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    CAPTURE(version);
    Server server(version, keystore_at(k_start, 2, false));
    auto first = server.connect("a.example");
    CHECK(server.connect("b.example", first.session.get()).reused);
  }
}

TEST_CASE("openssl adapter: a ticket under an older key resumes and is renewed") {
  for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    CAPTURE(version);
    const auto ks = keystore_at(k_start, 2);
    Server server(version, ks);
    auto first = server.connect("a.example");
    REQUIRE(ticket_key_name(first.session.get()) == ks.keys[0].id.hex());

    server.clock.set(ks.keys[1].not_before);
    auto resumed = server.connect("a.example", first.session.get());
    CHECK(resumed.reused);
    CHECK(ticket_key_name(resumed.session.get()) == ks.keys[1].id.hex());

    // Once the old key expires its tickets no longer resume.
    server.clock.set(ks.keys[0].decrypt_until);
    CHECK_FALSE(server.connect("a.example", first.session.get()).reused);
  }
}

TEST_CASE("openssl adapter: a revoked key's tickets no longer resume after reload") {
  for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    CAPTURE(version);
    auto ks = keystore_at(k_start, 2);
    Server server(version, ks);
    auto first = server.connect("a.example");
    REQUIRE(server.connect("a.example", first.session.get()).reused);
    ks.keys[0].revoked = Revocation{k_start, "test"};
    save("ks.json", ks);
    REQUIRE(server.provider->reload().ok());
    CHECK_FALSE(server.connect("a.example", first.session.get()).reused);
  }
}

TEST_CASE("openssl adapter: its tickets are OpenSSL's own format, same keys as export") {
  // A server given the unbound 80-byte export of the same key through
  // SSL_CTX_set_tlsext_ticket_keys resumes the provider's tickets.
  for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    CAPTURE(version);
    const auto ks = keystore_at(k_start, 1, false);
    Server server(version, ks);
    auto first = server.connect("a.example");

    const auto keys = expected_keys(ks.keys[0], Binding::unbound());
    unsigned char blob[80];
    std::memcpy(blob, ks.keys[0].id.bytes().data(), 16);
    std::memcpy(blob + 16, keys.hmac.reveal().data(), 32);
    std::memcpy(blob + 48, keys.aes.reveal().data(), 32);
    auto builtin = server_context(version);
    REQUIRE(SSL_CTX_set_tlsext_ticket_keys(builtin.get(), blob, sizeof blob) == 1);
    cleanse(blob);
    CHECK(handshake(builtin.get(), server.client.get(), "a.example",
                    first.session.get())
            .reused);
  }
}

TEST_CASE("openssl adapter: with no key that encrypts, no ticket and no failure") {
  const auto ks = keystore_at(k_start, 1);
  Server server(TLS1_2_VERSION, ks, ks.keys[0].decrypt_until);
  auto first = server.connect("a.example");
  CHECK(ticket_key_name(first.session.get()).empty());
}

TEST_CASE("openssl adapter: every TLS 1.3 resumption gets a fresh ticket") {
  // Clients use a TLS 1.3 ticket once (RFC 8446, C.4); OpenSSL's built-in
  // keys renew it on every resumption, and so must the provider's.
  const auto ks = keystore_at(k_start, 2);
  Server server(TLS1_3_VERSION, ks);
  auto first = server.connect("a.example");
  auto resumed = server.connect("a.example", first.session.get());
  REQUIRE(resumed.reused);
  const unsigned char* a = nullptr;
  const unsigned char* b = nullptr;
  std::size_t a_size = 0;
  std::size_t b_size = 0;
  SSL_SESSION_get0_ticket(first.session.get(), &a, &a_size);
  SSL_SESSION_get0_ticket(resumed.session.get(), &b, &b_size);
  REQUIRE(b != nullptr);
  CHECK(ticket_key_name(resumed.session.get()) == ks.keys[0].id.hex());
  const bool same_ticket = a_size == b_size && std::memcmp(a, b, a_size) == 0;
  CHECK_FALSE(same_ticket);
}

TEST_CASE("openssl adapter: a second provider on one SSL_CTX is refused") {
  const auto ks = keystore_at(k_start, 1);
  Server server(TLS1_2_VERSION, ks);
  const auto again = openssl::use_ticket_provider(server.ctx.get(), server.provider);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == Errc::already_exists);
  CHECK(server.connect("a.example").session);
}
