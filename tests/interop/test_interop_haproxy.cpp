// SPDX-License-Identifier: Apache-2.0
// HAProxy 2.6 driven by `stekctl export --format haproxy|haproxy48`: three
// base64 lines, the penultimate encrypts; TLS 1.2 and TLS 1.3 sessions
// resume and every ticket is named by the key `list` says encrypts. After
// a rotation (re-export, restart: HAProxy reads the file at start-up) the
// old session resumes under the "previous" line and new tickets carry the
// new encrypting key.
//
// HAProxy 2.6 issues no new ticket on a resumed connection (TLS 1.2 or
// 1.3), so nothing here expects one.
#include "interop/harness.hpp"

#include <doctest/doctest.h>

namespace stek::interop {
namespace {

void check_haproxy_export(const std::string& format, KeyLayout layout) {
  Workspace ws;
  const auto ks = ws.path("ks.json");
  generate_keystore(ks, utc_in(-1h));
  const auto file = ws.path("haproxy.keys");
  export_keys(ks, format, file);

  const auto encrypting = encrypting_id(ks);
  INFO("tls-ticket-keys file:\n" << read_file(file));
  const auto lines = haproxy_lines(file);
  REQUIRE(lines.size() == 3);
  for (const auto& line : lines) {
    REQUIRE(line.size() == size_of(layout));
    // The parts sit where HAProxy reads them.
    CHECK(split_key(line, layout) == generated_key_parts(ks, key_id_of(line), size_of(layout)));
  }
  // HAProxy encrypts with the penultimate line.
  CHECK(key_id_of(lines[1]) == encrypting);
  CHECK(stek::test::file_mode(file) == 0600);
  const auto key = split_key(lines[1], layout);

  HaproxyServer haproxy(ws.path("haproxy"), ws.cert, file);
  haproxy.start();
  for (const Tls version : k_versions) {
    CAPTURE(name_of(version));
    const auto saved = ws.path(std::string("session-") + file_tag(version) + ".pem");
    const auto first = s_client(haproxy.port(), version, {.sess_out = saved});
    REQUIRE_MESSAGE(first.ok, first.details());
    CHECK_FALSE(first.reused);
    REQUIRE_MESSAGE(!first.ticket.empty(), first.details());
    CHECK(key_id_of(first.ticket) == encrypting);
    const auto session = open_ticket(first.ticket, key);
    REQUIRE(session.has_value());
    CHECK(session_id_context_of(*session) == haproxy_session_id_context());

    const auto again = s_client(haproxy.port(), version, {.sess_in = saved});
    CHECK_MESSAGE(again.reused, again.details());
  }

  // After a rotation all three slots differ: previous (the old key, now
  // decrypt-only), encrypting, next (the pending key).
  const auto now = utc_in(0s);
  require_ok(stekctl_at(now, {"rotate", ks.string(), "--now"}));
  const auto rotated = encrypting_id(ks, now);
  REQUIRE(rotated != encrypting);
  export_keys(ks, format, file, now);
  const auto after = haproxy_lines(file);
  REQUIRE(after.size() == 3);
  CHECK(key_id_of(after[0]) == encrypting);
  CHECK(key_id_of(after[1]) == rotated);
  CHECK(find_key(list_keys(ks, now), key_id_of(after[2])).state == "pending");
  haproxy.reload();
  for (const Tls version : k_versions) {
    CAPTURE(name_of(version));
    // The session from before resumes under the previous line...
    const auto saved = ws.path(std::string("session-") + file_tag(version) + ".pem");
    const auto old = s_client(haproxy.port(), version, {.sess_in = saved});
    CHECK_MESSAGE(old.reused, old.details());
    // ...and new tickets carry the penultimate line's key.
    const auto fresh = s_client(haproxy.port(), version,
                                {.sess_out = ws.path("fresh-" + file_tag(version) + ".pem")});
    REQUIRE_MESSAGE(fresh.ok, fresh.details());
    CHECK(key_id_of(fresh.ticket) == rotated);
  }
}

TEST_CASE("haproxy: export --format haproxy (80-byte keys) resumes TLS 1.2 and 1.3 sessions") {
  check_haproxy_export("haproxy", KeyLayout::haproxy80);
}

TEST_CASE("haproxy: export --format haproxy48 (48-byte keys) resumes TLS 1.2 and 1.3 sessions") {
  check_haproxy_export("haproxy48", KeyLayout::haproxy48);
}

} // namespace
} // namespace stek::interop
