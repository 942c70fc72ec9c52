// SPDX-License-Identifier: Apache-2.0
// nginx and HAProxy fed from one keystore: do they resume each other's
// sessions?
//
// Finding (nginx 1.22.1, HAProxy 2.6.12, OpenSSL 3.0): no, in neither
// direction, for TLS 1.2 or TLS 1.3, and neither server can be configured
// to allow it. The keys are not the reason: both encrypt with the same key
// (nginx's first file, HAProxy's penultimate line) and each one's tickets
// verify and decrypt under the other's key file. The reason is OpenSSL's
// session-id context. Every session records the context of the SSL_CTX
// that made it, and ssl_get_prev_session (ssl/ssl_sess.c), which both the
// TLS 1.2 ticket path and the TLS 1.3 PSK path go through, treats a
// session whose context differs from the server's as a cache miss: a full
// handshake and a new ticket.
// - nginx sets SHA-1("HTTP" || SHA-1(each certificate's DER) || client CA
//   name digests) (ngx_ssl_session_id_context in
//   src/event/ngx_event_openssl.c, "HTTP" from the http ssl module); there
//   is no directive to set it.
// - HAProxy sets the constant SHCTX_APPNAME, "haproxy"
//   (include/haproxy/shctx-t.h, ssl_set_shctx in src/ssl_sock.c), fixed at
//   compile time.
// A 20-byte SHA-1 can never equal the 7 bytes "haproxy", so no
// configuration of the two makes them resume each other's sessions. The
// test shows the context is the only obstacle: re-minting a session with
// the other server's context under the shared key makes it resume there.
#include "interop/harness.hpp"

#include <doctest/doctest.h>

namespace stek::interop {
namespace {

TEST_CASE("nginx and haproxy from one keystore: sessions do not cross (session-id context)") {
  Workspace ws;
  const auto ks = ws.path("ks.json");
  generate_keystore(ks, utc_in(-1h));
  const auto nginx_out = ws.path("nginx-keys");
  const auto haproxy_file = ws.path("haproxy.keys");
  export_keys(ks, "nginx", nginx_out);
  export_keys(ks, "haproxy", haproxy_file);
  const auto encrypting = encrypting_id(ks);

  // The same key, as each server reads it.
  const auto nginx_key = split_key(
    read_file(nginx_conf_keys(nginx_out / "ssl_session_tickets.conf").at(0)),
    KeyLayout::nginx80);
  const auto haproxy_key = split_key(haproxy_lines(haproxy_file).at(1), KeyLayout::haproxy80);
  REQUIRE(nginx_key.id() == encrypting);
  REQUIRE(haproxy_key.id() == encrypting);
  CHECK(nginx_key.aes == haproxy_key.aes);
  CHECK(nginx_key.hmac == haproxy_key.hmac);

  NginxServer nginx(ws.path("nginx"), ws.cert,
                    {.include = nginx_out / "ssl_session_tickets.conf"});
  HaproxyServer haproxy(ws.path("haproxy"), ws.cert, haproxy_file);
  nginx.start();
  haproxy.start();
  const auto nginx_context = nginx_http_session_id_context(ws.cert);
  const auto haproxy_context = haproxy_session_id_context();

  struct Side {
    TlsServer* server;
    Bytes context;
  };
  const Side sides[] = {{&nginx, nginx_context}, {&haproxy, haproxy_context}};
  for (const Tls version : k_versions) {
    CAPTURE(name_of(version));
    for (std::size_t i = 0; i < 2; ++i) {
      const Side& from = sides[i];
      const Side& to = sides[1 - i];
      CAPTURE(from.server->name());
      const auto saved =
        ws.path("from-" + from.server->name() + "-" + file_tag(version) + ".pem");
      const auto first = s_client(from.server->port(), version, {.sess_out = saved});
      REQUIRE_MESSAGE(first.ok, first.details());
      REQUIRE(key_id_of(first.ticket) == encrypting);

      // It resumes where it was made...
      const auto home = s_client(from.server->port(), version, {.sess_in = saved});
      CHECK_MESSAGE(home.reused, home.details());
      // ...and not on the other server.
      const auto away = s_client(to.server->port(), version, {.sess_in = saved});
      REQUIRE_MESSAGE(away.ok, away.details());
      CHECK_FALSE_MESSAGE(away.reused, away.details());

      // Why: the ticket opens fine under the shared key, and the session
      // inside carries its own server's context.
      const auto session = open_ticket(first.ticket, nginx_key);
      REQUIRE(session.has_value());
      CHECK(session_id_context_of(*session) == from.context);
      CHECK(session_id_context_of(*session) != to.context);

      // Proof that nothing else stands in the way: the same session with
      // the other server's context, sealed under the shared key, resumes
      // on the other server.
      const auto forged = seal_ticket(with_session_id_context(*session, to.context), nginx_key);
      const auto forged_saved =
        ws.path("forged-for-" + to.server->name() + "-" + file_tag(version) + ".pem");
      write_session_with_ticket(saved, forged, forged_saved);
      const auto crossed = s_client(to.server->port(), version, {.sess_in = forged_saved});
      CHECK_MESSAGE(crossed.reused, crossed.details());
    }
  }
}

} // namespace
} // namespace stek::interop
