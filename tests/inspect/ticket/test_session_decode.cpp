// SPDX-License-Identifier: Apache-2.0
// The session decoders on their own: names of suites and versions, OpenSSL's
// DER from a real session, s2n and Go states built field by field, and
// malformed input (every truncation, trailing bytes, bad values).
#include "ticket_support.hpp"

#include <stek/inspect/session_facts.hpp>

using namespace stek;
using namespace stek::inspect;
using namespace stek::test;

namespace {

void put(ByteVector& out, std::uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
  }
}

void append(ByteVector& out, const ByteVector& more) {
  out.insert(out.end(), more.begin(), more.end());
}

// Every strict prefix of `whole` must fail to decode with `decode`.
template <typename Decode>
void check_truncations(const ByteVector& whole, Decode decode) {
  for (std::size_t n = 0; n < whole.size(); ++n) {
    CAPTURE(n);
    const auto r = decode(std::span(whole.data(), n));
    CHECK_FALSE(r.ok());
    if (!r.ok()) {
      CHECK(r.error().code == Errc::parse);
    }
  }
}

ByteVector go_tls12_state(std::size_t certificates) {
  ByteVector s;
  put(s, 0x0303, 2);
  put(s, 0xC02F, 2);
  put(s, 1795912820, 8);
  put(s, 48, 2);
  append(s, random_bytes_of(48));
  ByteVector list;
  for (std::size_t i = 0; i < certificates; ++i) {
    put(list, 5, 3);
    append(list, ByteVector(5, 0x30));
  }
  put(s, list.size(), 3);
  append(s, list);
  return s;
}

ByteVector go_tls13_state(bool certificate) {
  ByteVector s;
  put(s, 0x0304, 2);
  s.push_back(0);
  put(s, 0x1302, 2);
  put(s, 1795912820, 8);
  s.push_back(48);
  append(s, random_bytes_of(48));
  ByteVector list;
  if (certificate) {
    put(list, 3, 3);
    append(list, ByteVector(3, 0x30));
    put(list, 0, 2);
  }
  put(s, list.size(), 3);
  append(s, list);
  return s;
}

ByteVector der_of(SSL_SESSION* session) {
  const int size = i2d_SSL_SESSION(session, nullptr);
  REQUIRE(size > 0);
  ByteVector der(static_cast<std::size_t>(size));
  unsigned char* p = der.data();
  REQUIRE(i2d_SSL_SESSION(session, &p) == size);
  return der;
}

} // namespace

TEST_CASE("stek::inspect::cipher_suite_name agrees with OpenSSL") {
  CHECK(cipher_suite_name(0x1301) == std::string_view("TLS_AES_128_GCM_SHA256"));
  CHECK(cipher_suite_name(0xC02F) ==
        std::string_view("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"));
  CHECK(cipher_suite_name(0xCCA9) ==
        std::string_view("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"));
  CHECK_FALSE(cipher_suite_name(0x0000).has_value());
  CHECK_FALSE(cipher_suite_name(0xFFFF).has_value());
  // Every suite OpenSSL offers by default and we name, we name as OpenSSL's
  // standard (IANA) name does; and we name every AES-GCM, AES-CBC and
  // ChaCha20 suite of the defaults.
  SSL_CTX* ctx = SSL_CTX_new(TLS_method());
  REQUIRE(ctx);
  SSL* ssl = SSL_new(ctx);
  STACK_OF(SSL_CIPHER)* ciphers = SSL_get_ciphers(ssl);
  REQUIRE(ciphers);
  int named = 0;
  for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); ++i) {
    const SSL_CIPHER* c = sk_SSL_CIPHER_value(ciphers, i);
    const std::string standard = SSL_CIPHER_standard_name(c);
    CAPTURE(standard);
    const auto ours = cipher_suite_name(SSL_CIPHER_get_protocol_id(c));
    if (standard.find("AES") != std::string::npos ||
        standard.find("CHACHA20") != std::string::npos) {
      if (standard.find("PSK") == std::string::npos &&
          standard.find("SRP") == std::string::npos &&
          standard.find("ARIA") == std::string::npos &&
          standard.find("CAMELLIA") == std::string::npos) {
        CHECK(ours.has_value());
      }
    }
    if (ours) {
      CHECK(*ours == standard);
      ++named;
    }
  }
  CHECK(named >= 20);
  SSL_free(ssl);
  SSL_CTX_free(ctx);
}

TEST_CASE("stek::inspect::protocol_name") {
  CHECK(protocol_name(0x0303) == "TLSv1.2");
  CHECK(protocol_name(0x0304) == "TLSv1.3");
  CHECK(protocol_name(0x0301) == "TLSv1");
  CHECK(protocol_name(0x7f1c) == "0x7f1c");
}

TEST_CASE("stek::inspect::decode_openssl_session") {
  auto server = server_context(TLS1_2_VERSION);
  auto client = client_context(TLS1_2_VERSION);
  auto hs = handshake(server.get(), client.get(), std::string("a.example"));
  REQUIRE(hs.session);
  const auto der = der_of(hs.session.get());

  const auto facts = decode_openssl_session(der);
  REQUIRE_MESSAGE(facts.ok(), facts.error().message);
  CHECK(facts->encoding == "openssl-der");
  CHECK(facts->protocol == 0x0303);
  CHECK(facts->cipher_suite ==
        SSL_CIPHER_get_protocol_id(SSL_SESSION_get0_cipher(hs.session.get())));
  CHECK(facts->issued == Timestamp(Duration(SSL_SESSION_get_time(hs.session.get()))));
  CHECK(facts->lifetime == Duration(SSL_SESSION_get_timeout(hs.session.get())));
  // The client's copy holds the server's certificate as its peer.
  CHECK(facts->client_certificate == true);

  SUBCASE("truncated") {
    check_truncations(der, [](auto s) { return decode_openssl_session(s); });
  }
  SUBCASE("trailing bytes") {
    ByteVector longer = der;
    longer.push_back(0);
    CHECK_FALSE(decode_openssl_session(longer).ok());
  }
  SUBCASE("a wrong version") {
    ByteVector bad = der;
    // SEQUENCE header, then INTEGER 02 01 01: the version byte.
    const std::size_t header = (bad[1] & 0x80) ? 2 + (bad[1] & 0x7fu) : 2;
    REQUIRE(bad[header] == 0x02);
    bad[header + 2] = 2;
    const auto r = decode_openssl_session(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("version") != std::string::npos);
  }
  SUBCASE("garbage never crashes") {
    for (int i = 0; i < 2000; ++i) {
      ByteVector mutated = der;
      const auto noise = random_bytes_of(4);
      mutated[noise[0] % mutated.size()] = noise[1];
      mutated[noise[2] % mutated.size()] ^= noise[3];
      (void)decode_openssl_session(mutated);
    }
  }
}

TEST_CASE("stek::inspect::decode_s2n_state") {
  ByteVector tls12{4, 33, 0xC0, 0x30};
  put(tls12, 1795912820000000000ull, 8);
  append(tls12, random_bytes_of(48));
  tls12.push_back(1);
  const auto r = decode_s2n_state(tls12);
  REQUIRE_MESSAGE(r.ok(), r.error().message);
  CHECK(r->protocol == 0x0303);
  CHECK(r->cipher_suite == 0xC030);
  check_truncations(tls12, [](auto s) { return decode_s2n_state(s); });

  ByteVector trailing = tls12;
  trailing.push_back(0);
  CHECK_FALSE(decode_s2n_state(trailing).ok());
  ByteVector bad_protocol = tls12;
  bad_protocol[1] = 35;
  CHECK_FALSE(decode_s2n_state(bad_protocol).ok());
  ByteVector bad_ems = tls12;
  bad_ems.back() = 2;
  CHECK_FALSE(decode_s2n_state(bad_ems).ok());

  ByteVector tls13{2, 34, 0x13, 0x03};
  put(tls13, 1795912820000000000ull, 8);
  put(tls13, 7, 4);
  tls13.push_back(32);
  append(tls13, random_bytes_of(32));
  put(tls13, 1795912820000000000ull + 3600000000000ull, 8);
  put(tls13, 0, 4);
  const auto r13 = decode_s2n_state(tls13);
  REQUIRE_MESSAGE(r13.ok(), r13.error().message);
  CHECK(r13->lifetime == Duration(3600));
  CHECK(r13->protocol == 0x0304);
  check_truncations(tls13, [](auto s) { return decode_s2n_state(s); });
  ByteVector expired_before = tls13;
  // Expiration before the issue time.
  for (std::size_t i = 0; i < 8; ++i) {
    expired_before[tls13.size() - 12 + i] = 0;
  }
  CHECK_FALSE(decode_s2n_state(expired_before).ok());
}

TEST_CASE("stek::inspect::decode_go_state") {
  for (const std::size_t certs : {0u, 1u, 2u}) {
    CAPTURE(certs);
    const auto s = go_tls12_state(certs);
    const auto r = decode_go_state(s);
    REQUIRE_MESSAGE(r.ok(), r.error().message);
    CHECK(r->encoding == "go-tls12");
    CHECK(r->protocol == 0x0303);
    CHECK(r->cipher_suite == 0xC02F);
    CHECK(r->issued == Timestamp(Duration(1795912820)));
    CHECK(r->client_certificate == (certs > 0));
    check_truncations(s, [](auto v) { return decode_go_state(v); });
  }
  for (const bool cert : {false, true}) {
    const auto s = go_tls13_state(cert);
    const auto r = decode_go_state(s);
    REQUIRE_MESSAGE(r.ok(), r.error().message);
    CHECK(r->encoding == "go-tls13");
    CHECK(r->protocol == 0x0304);
    CHECK(r->cipher_suite == 0x1302);
    CHECK(r->client_certificate == cert);
    check_truncations(s, [](auto v) { return decode_go_state(v); });
    ByteVector trailing = s;
    trailing.push_back(0);
    CHECK_FALSE(decode_go_state(trailing).ok());
    ByteVector revision = s;
    revision[2] = 1;
    CHECK_FALSE(decode_go_state(revision).ok());
  }
}
