// SPDX-License-Identifier: Apache-2.0
// Go 1.19 crypto/tls (Debian's golang-go) driven by `stekctl export --format
// go`: a small Go server (servers/go_ticket_server.go) hands the exported
// keys to Config.SetSessionTicketKeys. TLS 1.2 and TLS 1.3 sessions resume.
//
// Go 1.19 does not put stekctl's key id in its tickets: it names a key with
// SHA-512(key)[0:16] (ticketKeyFromBytes). So the tests check that the
// ticket's first 16 bytes are SHA-512 of the export's first line, that this
// line is the material of the key `list` marks encrypting, and that the
// ticket verifies and decrypts under Go's derivation of that key
// (AES-128-CTR, HMAC-SHA256).
#include "interop/harness.hpp"
#include "interop/servers/test_servers.hpp"

#include <doctest/doctest.h>

#include <algorithm>

namespace stek::interop {
namespace {

std::string saved(const Workspace& ws, const std::string& name, Tls version) {
  return ws.path(name + "-" + file_tag(version) + ".pem").string();
}

// The TLS version a Go 1.19 ticket's plaintext starts with.
std::string go_plaintext_version(const Bytes& plaintext) {
  return plaintext.size() < 2 ? std::string() : to_hex(plaintext.substr(0, 2));
}

TEST_CASE("go: export --format go resumes TLS 1.2 and 1.3 sessions on Go 1.19") {
  Workspace ws;
  const auto ks = ws.path("ks.json");
  // Generated an hour ago: its first key encrypts now, the second is pending.
  generate_keystore(ks, utc_in(-1h));
  const auto keys_file = ws.path("go-ticket-keys");
  export_keys(ks, "go", keys_file);
  CHECK(stek::test::file_mode(keys_file) == 0600);

  const auto encrypting = encrypting_id(ks);
  const auto keys = go_export_keys(keys_file);
  INFO("go export:\n" << read_file(keys_file));
  // Go takes pending keys too: they decrypt from the moment Go has them.
  REQUIRE(keys.size() == 2);
  // The first line encrypts in Go: it must be the key list marks
  // encrypting (an unbound export hands out the material itself).
  CHECK(keys[0] == keystore_material(ks, encrypting));
  const auto go_key = go_ticket_key(keys[0]);

  GoServer go(ws.path("go"), ws.cert, keys_file);
  go.start();
  for (const Tls version : k_versions) {
    const std::string tls = name_of(version);
    CAPTURE(tls);
    const auto first = s_client(go.port(), version, {.sess_out = saved(ws, "s", version)});
    REQUIRE_MESSAGE(first.ok, first.details());
    CHECK_FALSE(first.reused);
    CHECK(first.protocol == (version == Tls::v1_2 ? "TLSv1.2" : "TLSv1.3"));
    REQUIRE_MESSAGE(!first.ticket.empty(), first.details());
    // Go 1.19 names the key SHA-512(key)[0:16], not with stekctl's id.
    CHECK(key_id_of(first.ticket) == to_hex(go_key.name));
    CHECK(key_id_of(first.ticket) != encrypting);
    // The ticket is Go's: name | IV | AES-128-CTR | HMAC-SHA256 under the
    // SHA-512 split of the first key.
    const auto plaintext = open_go_ticket(first.ticket, go_key);
    REQUIRE(plaintext.has_value());
    CHECK(go_plaintext_version(*plaintext) == (version == Tls::v1_2 ? "0303" : "0304"));

    const auto again = s_client(go.port(), version, {.sess_in = saved(ws, "s", version)});
    CHECK_MESSAGE(again.reused, again.details());
  }
}

TEST_CASE("go: after a rotation and SIGHUP, old sessions resume and new tickets use the new first key") {
  Workspace ws;
  const auto ks = ws.path("ks.json");
  generate_keystore(ks, utc_in(-1h));
  const auto keys_file = ws.path("go-ticket-keys");
  export_keys(ks, "go", keys_file);
  const auto k1 = encrypting_id(ks);
  const auto k1_material = keystore_material(ks, k1);
  const auto k1_go = go_ticket_key(k1_material);

  GoServer go(ws.path("go"), ws.cert, keys_file);
  go.start();
  for (const Tls version : k_versions) {
    const std::string tls = name_of(version);
    CAPTURE(tls);
    const auto s1 = s_client(go.port(), version, {.sess_out = saved(ws, "s1", version)});
    REQUIRE_MESSAGE(s1.ok, s1.details());
    REQUIRE(key_id_of(s1.ticket) == to_hex(k1_go.name));
  }

  // An incident-style rotation: a new key encrypts at once, K1 only
  // decrypts. Go gets both, the new one first, on SIGHUP.
  const auto now = utc_in(0s);
  require_ok(stekctl_at(now, {"rotate", ks.string(), "--now"}));
  const auto k2 = encrypting_id(ks, now);
  REQUIRE(k2 != k1);
  CHECK(find_key(list_keys(ks, now), k1).state == "decrypt-only");
  export_keys(ks, "go", keys_file, now);
  const auto keys = go_export_keys(keys_file);
  REQUIRE(keys.size() >= 2);
  CHECK(keys[0] == keystore_material(ks, k2));
  CHECK(std::find(keys.begin(), keys.end(), k1_material) != keys.end());
  const auto k2_go = go_ticket_key(keys[0]);
  go.reload();

  for (const Tls version : k_versions) {
    const std::string tls = name_of(version);
    CAPTURE(tls);
    // The K1 session resumes under K1, now a later key; Go renews it with
    // a ticket under its first key (usedOldKey; on TLS 1.3 always). s_client
    // saves no session after a resumed TLS 1.2 handshake: on TLS 1.2 the
    // renewed ticket is the one the client holds at the end.
    const auto old = s_client(go.port(), version,
                              {.sess_in = saved(ws, "s1", version),
                               .sess_out = saved(ws, "s1-renewed", version)});
    CHECK_MESSAGE(old.reused, old.details());
    const auto renewed =
      version == Tls::v1_2 ? old.held_ticket_id : key_id_of(old.ticket);
    CHECK_MESSAGE(renewed == to_hex(k2_go.name), old.details());
    const auto fresh = s_client(go.port(), version, {.sess_out = saved(ws, "s2", version)});
    REQUIRE_MESSAGE(fresh.ok, fresh.details());
    CHECK_FALSE(fresh.reused);
    CHECK(key_id_of(fresh.ticket) == to_hex(k2_go.name));
    CHECK(open_go_ticket(fresh.ticket, k2_go).has_value());
  }

  // Once K1 is past decrypt_until, a new export leaves it out: its
  // sessions get a full handshake.
  const auto late = find_key(list_keys(ks, now), k1).decrypt_until;
  require_ok(stekctl_at(late, {"rotate", ks.string()}));
  export_keys(ks, "go", keys_file, late);
  for (const auto& key : go_export_keys(keys_file)) {
    CHECK(key != k1_material);
  }
  go.reload();
  for (const Tls version : k_versions) {
    const std::string tls = name_of(version);
    CAPTURE(tls);
    const auto old = s_client(go.port(), version, {.sess_in = saved(ws, "s1", version)});
    REQUIRE_MESSAGE(old.ok, old.details());
    CHECK_FALSE_MESSAGE(old.reused, old.details());
  }
}

} // namespace
} // namespace stek::interop
