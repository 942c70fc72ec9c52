// SPDX-License-Identifier: Apache-2.0
// A fleet: two nginx instances fed from one export resume each other's
// sessions, TLS 1.2 and TLS 1.3.
//
// Found here: that holds only while they serve the same certificate. nginx
// sets each SSL_CTX's session-id context to SHA-1("HTTP" || SHA-1(cert))
// (ngx_ssl_session_id_context), OpenSSL stores it in every session and
// refuses to resume a session whose context differs
// (ssl_get_prev_session). Members that differ in certificate (a renewal
// rolling through the fleet) share keys but not sessions.
#include "interop/harness.hpp"

#include <doctest/doctest.h>

namespace stek::interop {
namespace {

TEST_CASE("fleet: two nginx instances from one export resume each other's sessions") {
  Workspace ws;
  const auto ks = ws.path("ks.json");
  generate_keystore(ks, utc_in(-1h));
  const auto out = ws.path("nginx-keys");
  export_keys(ks, "nginx", out);
  const auto conf = out / "ssl_session_tickets.conf";
  const auto encrypting = encrypting_id(ks);

  NginxServer a(ws.path("nginx-a"), ws.cert, {.include = conf});
  NginxServer b(ws.path("nginx-b"), ws.cert, {.include = conf});
  a.start();
  b.start();
  REQUIRE(a.port() != b.port());

  for (const Tls version : k_versions) {
    CAPTURE(name_of(version));
    for (auto [from, to] : {std::pair{&a, &b}, std::pair{&b, &a}}) {
      CAPTURE(from->dir().filename().string());
      const auto saved = ws.path("from-" + from->dir().filename().string() + "-" +
                                 file_tag(version) + ".pem");
      const auto first = s_client(from->port(), version, {.sess_out = saved});
      REQUIRE_MESSAGE(first.ok, first.details());
      CHECK(key_id_of(first.ticket) == encrypting);
      const auto other = s_client(to->port(), version, {.sess_in = saved});
      CHECK_MESSAGE(other.reused, other.details());
    }
  }
}

TEST_CASE("fleet: nginx instances with different certificates share keys but not sessions") {
  Workspace ws;
  const auto ks = ws.path("ks.json");
  generate_keystore(ks, utc_in(-1h));
  const auto out = ws.path("nginx-keys");
  export_keys(ks, "nginx", out);
  const auto conf = out / "ssl_session_tickets.conf";
  const auto key = split_key(read_file(nginx_conf_keys(conf).at(0)), KeyLayout::nginx80);

  // Same name, same keys, another certificate (as during a renewal).
  const auto other_cert = make_certificate(ws.path("tls-b"));
  NginxServer a(ws.path("nginx-a"), ws.cert, {.include = conf});
  NginxServer b(ws.path("nginx-b"), other_cert, {.include = conf});
  a.start();
  b.start();

  for (const Tls version : k_versions) {
    CAPTURE(name_of(version));
    const auto saved = ws.path(std::string("from-a-") + file_tag(version) + ".pem");
    const auto first = s_client(a.port(), version, {.sess_out = saved});
    REQUIRE_MESSAGE(first.ok, first.details());
    // B decrypts this ticket (same key) but refuses the session: its
    // context is A's certificate's.
    const auto refused = s_client(b.port(), version, {.sess_in = saved});
    REQUIRE_MESSAGE(refused.ok, refused.details());
    CHECK_FALSE_MESSAGE(refused.reused, refused.details());

    const auto session = open_ticket(first.ticket, key);
    REQUIRE(session.has_value());
    REQUIRE(session_id_context_of(*session) == nginx_http_session_id_context(ws.cert));
    // The context is the only obstacle: the same session re-minted with
    // B's context under the shared key resumes on B.
    const auto forged = seal_ticket(
      with_session_id_context(*session, nginx_http_session_id_context(other_cert)), key);
    const auto forged_saved = ws.path(std::string("forged-") + file_tag(version) + ".pem");
    write_session_with_ticket(saved, forged, forged_saved);
    const auto resumed = s_client(b.port(), version, {.sess_in = forged_saved});
    CHECK_MESSAGE(resumed.reused, resumed.details());
  }
}

} // namespace
} // namespace stek::interop
