// SPDX-License-Identifier: Apache-2.0
// A plain OpenSSL 3 server (servers/openssl_ticket_server.cpp) driven by
// `stekctl export --format openssl`: the 80-byte file goes to
// SSL_CTX_set_tlsext_ticket_keys. TLS 1.2 and TLS 1.3 sessions resume,
// every ticket is named by the key `list` says encrypts, and it verifies
// and decrypts under the file read as name | HMAC 16-47 | AES 48-79.
#include "interop/harness.hpp"
#include "interop/servers/test_servers.hpp"

#include <doctest/doctest.h>

namespace stek::interop {
namespace {

std::string saved(const Workspace& ws, const std::string& name, Tls version) {
  return ws.path(name + "-" + file_tag(version) + ".pem").string();
}

TEST_CASE("openssl: export --format openssl resumes TLS 1.2 and 1.3 sessions") {
  Workspace ws;
  const auto ks = ws.path("ks.json");
  // Generated an hour ago: its first key encrypts now, the second is pending.
  generate_keystore(ks, utc_in(-1h));
  const auto key_file = ws.path("ticket.key");
  export_keys(ks, "openssl", key_file);
  CHECK(stek::test::file_mode(key_file) == 0600);

  const auto encrypting = encrypting_id(ks);
  const auto bytes = read_file(key_file);
  REQUIRE(bytes.size() == 80);
  const auto key = split_key(bytes, KeyLayout::openssl80);
  CHECK(key.id() == encrypting);

  OpensslServer server(ws.path("openssl"), ws.cert, key_file);
  server.start();
  for (const Tls version : k_versions) {
    const std::string tls = name_of(version);
    CAPTURE(tls);
    const auto first = s_client(server.port(), version, {.sess_out = saved(ws, "s", version)});
    REQUIRE_MESSAGE(first.ok, first.details());
    CHECK_FALSE(first.reused);
    CHECK(first.protocol == (version == Tls::v1_2 ? "TLSv1.2" : "TLSv1.3"));
    REQUIRE_MESSAGE(!first.ticket.empty(), first.details());
    CHECK(key_id_of(first.ticket) == encrypting);
    // HMAC-SHA256 under bytes 16-47, AES-256-CBC under bytes 48-79.
    const auto session = open_ticket(first.ticket, key);
    REQUIRE(session.has_value());
    CHECK(session_id_context_of(*session) == openssl_server_session_id_context());

    const auto again = s_client(server.port(), version, {.sess_in = saved(ws, "s", version)});
    CHECK_MESSAGE(again.reused, again.details());
  }
}

TEST_CASE("openssl: one key only: after a rotation and SIGHUP, new tickets carry the new key and old sessions get a full handshake") {
  Workspace ws;
  const auto ks = ws.path("ks.json");
  generate_keystore(ks, utc_in(-1h));
  const auto key_file = ws.path("ticket.key");
  export_keys(ks, "openssl", key_file);
  const auto k1 = encrypting_id(ks);

  OpensslServer server(ws.path("openssl"), ws.cert, key_file);
  server.start();
  for (const Tls version : k_versions) {
    const std::string tls = name_of(version);
    CAPTURE(tls);
    const auto s1 = s_client(server.port(), version, {.sess_out = saved(ws, "s1", version)});
    REQUIRE_MESSAGE(s1.ok, s1.details());
    REQUIRE(key_id_of(s1.ticket) == k1);
  }

  const auto now = utc_in(0s);
  require_ok(stekctl_at(now, {"rotate", ks.string(), "--now"}));
  const auto k2 = encrypting_id(ks, now);
  REQUIRE(k2 != k1);
  // The export says on stderr that keys are left out (K1, now decrypt-only).
  const auto r = stekctl_at(now, {"export", ks.string(), "--format", "openssl", "--out",
                                  key_file.string()});
  require_ok(r);
  CHECK_MESSAGE(!r.err.empty(), describe(r));
  const auto key = split_key(read_file(key_file), KeyLayout::openssl80);
  REQUIRE(key.id() == k2);
  server.reload();

  for (const Tls version : k_versions) {
    const std::string tls = name_of(version);
    CAPTURE(tls);
    // SSL_CTX_set_tlsext_ticket_keys holds one key: K1's sessions are lost.
    const auto old = s_client(server.port(), version,
                              {.sess_in = saved(ws, "s1", version),
                               .sess_out = saved(ws, "s1-after", version)});
    REQUIRE_MESSAGE(old.ok, old.details());
    CHECK_FALSE_MESSAGE(old.reused, old.details());
    CHECK(key_id_of(old.ticket) == k2);
    CHECK(open_ticket(old.ticket, key).has_value());
    const auto again =
      s_client(server.port(), version, {.sess_in = saved(ws, "s1-after", version)});
    CHECK_MESSAGE(again.reused, again.details());
  }
}

} // namespace
} // namespace stek::interop
