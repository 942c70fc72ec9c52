// SPDX-License-Identifier: Apache-2.0
// PEM "SSL SESSION PARAMETERS" files as PEM_write_bio_SSL_SESSION (and so
// `openssl s_client -sess_out`) writes them, from real handshakes.
#include "ticket_support.hpp"

#include <stek/inspect/pem_session.hpp>
#include <stek/inspect/ticket_decode.hpp>

#include <openssl/pem.h>

using namespace stek;
using namespace stek::inspect;
using namespace stek::test;

namespace {

std::string pem_of(SSL_SESSION* session) {
  BIO* bio = BIO_new(BIO_s_mem());
  REQUIRE(bio);
  REQUIRE(PEM_write_bio_SSL_SESSION(bio, session) == 1);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string text(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  return text;
}

int accept_server_name(SSL*, int*, void*) { return SSL_TLSEXT_ERR_OK; }

} // namespace

TEST_CASE("stek::inspect::read_pem_sessions") {
  const Key key = generated_key();
  auto keys = openssl_keys_for(key, Binding::unbound(), 32);
  REQUIRE(keys.ok());
  Keystore ks;
  ks.keys.push_back(key.clone());
  TicketOpener opener(ks);

  std::string text;
  std::vector<SessionPtr> sessions;
  for (const int version : {TLS1_3_VERSION, TLS1_2_VERSION}) {
    auto server = server_context(version);
    auto client = client_context(version);
    set_ticket_keys(server.get(), key.id, *keys);
    SSL_CTX_callback_ctrl(server.get(), SSL_CTRL_SET_TLSEXT_SERVERNAME_CB,
                          reinterpret_cast<void (*)(void)>(accept_server_name));
    auto hs = handshake(server.get(), client.get(), std::string("a.example"));
    REQUIRE(hs.session);
    text += pem_of(hs.session.get());
    sessions.push_back(std::move(hs.session));
  }
  CHECK(looks_like_pem_session(text));
  write_fuzz_seed("pem_session", "tls13-tls12", text);
  CHECK_FALSE(looks_like_pem_session("-----BEGIN CERTIFICATE-----"));

  const auto read = read_pem_sessions(text);
  REQUIRE_MESSAGE(read.ok(), read.error().message);
  REQUIRE(read->size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    CAPTURE(i);
    const PemSession& p = (*read)[i];
    SSL_SESSION* s = sessions[i].get();
    CHECK(p.ticket == ticket_of(s));
    CHECK(p.lifetime_hint == SSL_SESSION_get_ticket_lifetime_hint(s));
    CHECK(p.client_view.protocol == SSL_SESSION_get_protocol_version(s));
    CHECK(p.client_view.cipher_suite ==
          SSL_CIPHER_get_protocol_id(SSL_SESSION_get0_cipher(s)));
    CHECK(p.client_view.issued == Timestamp(Duration(SSL_SESSION_get_time(s))));
    CHECK(p.client_view.lifetime == Duration(SSL_SESSION_get_timeout(s)));
    CHECK(p.client_view.sni == std::string("a.example"));
    CHECK_FALSE(p.client_view.client_certificate.has_value());
    // The ticket inside opens with the keystore.
    const auto r = opener.open(p.ticket, p.client_view.sni);
    REQUIRE_MESSAGE(r.status == OpenResult::Status::opened, r.reason);
    REQUIRE(r.session.has_value());
    CHECK(r.session->protocol == p.client_view.protocol);
  }

  SUBCASE("base64 spread over other whitespace") {
    std::string loose;
    for (const char c : text) {
      loose += c;
      if (c == '\n') {
        loose += "  \t\r\n";
      }
    }
    const auto again = read_pem_sessions(loose);
    REQUIRE_MESSAGE(again.ok(), again.error().message);
    CHECK(again->size() == 2);
  }
  SUBCASE("bad blocks name the block") {
    const auto second = text.find("-----BEGIN", 10);
    REQUIRE(second != std::string::npos);
    std::string bad = text;
    bad[second + 45] = '*';
    const auto r = read_pem_sessions(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Errc::parse);
    CHECK(r.error().message.find("PEM block 2") != std::string::npos);

    const auto no_end = read_pem_sessions(text.substr(0, text.find("-----END")));
    REQUIRE_FALSE(no_end.ok());
    CHECK(no_end.error().message.find("PEM block 1") != std::string::npos);

    CHECK_FALSE(read_pem_sessions("no session here").ok());
    const std::string not_der = "-----BEGIN SSL SESSION PARAMETERS-----\nAAAA\n"
                                "-----END SSL SESSION PARAMETERS-----\n";
    CHECK_FALSE(read_pem_sessions(not_der).ok());
  }
}
