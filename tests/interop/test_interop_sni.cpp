// SPDX-License-Identifier: Apache-2.0
// `export --sni NAME` with nginx 1.22: per-virtual-host keys work only on
// a listener of their own.
//
// Finding: nginx 1.22's ticket callback takes its keys from
// c->ssl->session_ctx, the SSL_CTX of the listener's default server
// (ngx_ssl_session_ticket_key_callback, src/event/ngx_event_openssl.c), for
// encryption and decryption alike. The ssl_session_ticket_key directives of
// every other server block on that listener are ignored: a ticket issued
// for b.example is sealed with the default server's keys, and a ticket from
// one name resumes under another (CVE-2025-23419, fixed in 1.26.3/1.27.4),
// whatever `--sni` exports were included. Give each name its own listener
// (address or port) and `--sni` separates them.
#include "interop/harness.hpp"

#include <doctest/doctest.h>

namespace stek::interop {
namespace {

TEST_CASE("nginx with export --sni: per-name keys hold only on a listener of their own") {
  Workspace ws;
  const auto ks = ws.path("ks.json");
  generate_keystore(ks, utc_in(-1h));
  const auto dir_a = ws.path("keys-a");
  const auto dir_b = ws.path("keys-b");
  require_ok(stekctl({"export", ks.string(), "--format", "nginx", "--sni", "a.example",
                      "--out", dir_a.string()}));
  require_ok(stekctl({"export", ks.string(), "--format", "nginx", "--sni", "b.example",
                      "--out", dir_b.string()}));
  const auto conf_a = dir_a / "ssl_session_tickets.conf";
  const auto conf_b = dir_b / "ssl_session_tickets.conf";
  const auto key_a = split_key(read_file(nginx_conf_keys(conf_a).at(0)), KeyLayout::nginx80);
  const auto key_b = split_key(read_file(nginx_conf_keys(conf_b).at(0)), KeyLayout::nginx80);
  // One key, two names: same id, different secrets.
  REQUIRE(key_a.id() == encrypting_id(ks));
  REQUIRE(key_b.id() == key_a.id());
  REQUIRE(key_a.aes != key_b.aes);
  REQUIRE(key_a.hmac != key_b.hmac);

  // One listener, a.example its default server, b.example a second block.
  NginxServer shared(ws.path("nginx-shared"), ws.cert,
                     {.include = conf_a, .more_hosts = {{"b.example", conf_b}}});
  shared.start();
  // b.example alone on another listener.
  NginxServer own(ws.path("nginx-b"), ws.cert, {.include = conf_b}, "b.example");
  own.start();

  for (const Tls version : k_versions) {
    CAPTURE(name_of(version));
    const auto tag = file_tag(version);
    // On the shared listener b.example's tickets are sealed with
    // a.example's keys...
    const auto b_shared = s_client(shared.port(), version,
                                   {.server_name = "b.example",
                                    .sess_out = ws.path("b-shared-" + tag + ".pem")});
    REQUIRE_MESSAGE(b_shared.ok, b_shared.details());
    CHECK(open_ticket(b_shared.ticket, key_a).has_value());
    CHECK_FALSE(open_ticket(b_shared.ticket, key_b).has_value());
    // ...so a.example's sessions resume under the name b.example.
    const auto a_saved = ws.path("a-" + tag + ".pem");
    const auto a = s_client(shared.port(), version,
                            {.server_name = "a.example", .sess_out = a_saved});
    REQUIRE_MESSAGE(a.ok, a.details());
    const auto crossed = s_client(shared.port(), version,
                                  {.server_name = "b.example", .sess_in = a_saved});
    CHECK_MESSAGE(crossed.reused, crossed.details());

    // On its own listener b.example uses its own keys, and a.example's
    // ticket does not open there.
    const auto b_saved = ws.path("b-own-" + tag + ".pem");
    const auto b_own = s_client(own.port(), version,
                                {.server_name = "b.example", .sess_out = b_saved});
    REQUIRE_MESSAGE(b_own.ok, b_own.details());
    CHECK(open_ticket(b_own.ticket, key_b).has_value());
    const auto again = s_client(own.port(), version,
                                {.server_name = "b.example", .sess_in = b_saved});
    CHECK_MESSAGE(again.reused, again.details());
    const auto refused = s_client(own.port(), version,
                                  {.server_name = "b.example", .sess_in = a_saved});
    REQUIRE_MESSAGE(refused.ok, refused.details());
    CHECK_FALSE_MESSAGE(refused.reused, refused.details());
  }
}

} // namespace
} // namespace stek::interop
