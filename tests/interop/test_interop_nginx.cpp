// SPDX-License-Identifier: Apache-2.0
// nginx 1.22 driven by `stekctl export --format nginx|nginx48`: the
// exported directory is included in a server block, TLS 1.2 and TLS 1.3
// sessions resume, and every ticket is named by the key `list` says
// encrypts and decrypts under that key file read in nginx's layout.
#include "interop/harness.hpp"

#include <doctest/doctest.h>

namespace stek::interop {
namespace {

void check_nginx_export(const std::string& format, KeyLayout layout) {
  Workspace ws;
  const auto ks = ws.path("ks.json");
  // Generated an hour ago: its first key encrypts now, the second is pending.
  generate_keystore(ks, utc_in(-1h));
  const auto out = ws.path("nginx-keys");
  export_keys(ks, format, out);

  const auto encrypting = encrypting_id(ks);
  const auto conf = out / "ssl_session_tickets.conf";
  const auto files = nginx_conf_keys(conf);
  INFO("ssl_session_tickets.conf:\n" << read_file(conf));
  REQUIRE(files.size() == 2);
  // nginx encrypts with its first ssl_session_ticket_key.
  CHECK(files[0] == out / (encrypting + ".key"));
  for (const auto& file : files) {
    CHECK(file.is_absolute());
    const auto bytes = read_file(file);
    REQUIRE(bytes.size() == size_of(layout));
    const auto id = to_hex(bytes.substr(0, 16));
    CHECK(file.filename().string() == id + ".key");
    CHECK(stek::test::file_mode(file) == 0600);
    // The parts sit where nginx reads them.
    CHECK(split_key(bytes, layout) == generated_key_parts(ks, id, size_of(layout)));
  }
  const auto key = split_key(read_file(files[0]), layout);

  NginxServer nginx(ws.path("nginx"), ws.cert, {.include = conf});
  nginx.start();
  for (const Tls version : k_versions) {
    CAPTURE(name_of(version));
    const auto saved = ws.path(std::string("session-") + file_tag(version) + ".pem");
    const auto first = s_client(nginx.port(), version, {.sess_out = saved});
    REQUIRE_MESSAGE(first.ok, first.details());
    CHECK_FALSE(first.reused);
    CHECK(first.protocol == (version == Tls::v1_2 ? "TLSv1.2" : "TLSv1.3"));
    REQUIRE_MESSAGE(!first.ticket.empty(), first.details());
    CHECK(key_id_of(first.ticket) == encrypting);
    // The ticket is nginx's: it verifies and decrypts under the exported
    // file split the way nginx reads it, to a DER SSL_SESSION.
    const auto session = open_ticket(first.ticket, key);
    REQUIRE(session.has_value());
    CHECK(session_id_context_of(*session) == nginx_http_session_id_context(ws.cert));

    const auto again = s_client(nginx.port(), version, {.sess_in = saved});
    CHECK_MESSAGE(again.reused, again.details());
  }
}

TEST_CASE("nginx: export --format nginx (80-byte keys) resumes TLS 1.2 and 1.3 sessions") {
  check_nginx_export("nginx", KeyLayout::nginx80);
}

TEST_CASE("nginx: export --format nginx48 (48-byte keys) resumes TLS 1.2 and 1.3 sessions") {
  check_nginx_export("nginx48", KeyLayout::nginx48);
}

} // namespace
} // namespace stek::interop
