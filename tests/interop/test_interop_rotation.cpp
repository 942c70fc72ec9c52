// SPDX-License-Identifier: Apache-2.0
// A rotation carried through a running nginx: rotate, re-export, reload
// (SIGHUP). Sessions from before the rotation still resume while their key
// is decrypt-only; new tickets carry the new key's id; once the old key is
// past decrypt_until and the export is redone, its sessions no longer
// resume.
//
// Servers check ticket age against the real clock while --at only moves
// stekctl's view, so the sessions stay fresh and only the keystore travels
// in time.
#include "interop/harness.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>

namespace stek::interop {
namespace {

std::string saved(const Workspace& ws, const std::string& name, Tls version) {
  return ws.path(name + "-" + file_tag(version) + ".pem").string();
}

// The key files in the export directory (the snippet excluded).
std::set<std::string> key_files_in(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".key") {
      out.insert(entry.path().filename().string());
    }
  }
  return out;
}

std::set<std::string> key_files_named_in(const fs::path& conf) {
  std::set<std::string> out;
  for (const auto& file : nginx_conf_keys(conf)) {
    out.insert(file.filename().string());
  }
  return out;
}

TEST_CASE("rotation through nginx: old sessions resume until their key expires") {
  Workspace ws;
  const auto ks = ws.path("ks.json");
  generate_keystore(ks, utc_in(-1h));
  const auto out = ws.path("nginx-keys");
  const auto conf = out / "ssl_session_tickets.conf";
  export_keys(ks, "nginx", out);
  const auto k1 = encrypting_id(ks);

  NginxServer nginx(ws.path("nginx"), ws.cert, {.include = conf});
  nginx.start();

  // Sessions under K1.
  for (const Tls version : k_versions) {
    CAPTURE(name_of(version));
    const auto s1 = s_client(nginx.port(), version, {.sess_out = saved(ws, "s1", version)});
    REQUIRE_MESSAGE(s1.ok, s1.details());
    REQUIRE(key_id_of(s1.ticket) == k1);
  }

  // Incident-style rotation: a new key encrypts at once, K1 only decrypts.
  const auto now = utc_in(0s);
  require_ok(stekctl_at(now, {"rotate", ks.string(), "--now"}));
  const auto k2 = encrypting_id(ks, now);
  REQUIRE(k2 != k1);
  const auto listed = list_keys(ks, now);
  CHECK(find_key(listed, k1).state == "decrypt-only");
  export_keys(ks, "nginx", out, now);
  {
    const auto files = nginx_conf_keys(conf);
    REQUIRE_FALSE(files.empty());
    CHECK(files[0].filename() == k2 + ".key");
    CHECK(key_files_named_in(conf).count(k1 + ".key") == 1);
    // One file per listed key, nothing stale.
    CHECK(key_files_in(out) == key_files_named_in(conf));
  }
  nginx.reload();

  for (const Tls version : k_versions) {
    CAPTURE(name_of(version));
    // The old session resumes under K1, now decrypt-only; nginx renews it
    // with a ticket under K2 (its callback returns 2 for a key that is not
    // the first).
    const auto old = s_client(nginx.port(), version,
                              {.sess_in = saved(ws, "s1", version),
                               .sess_out = saved(ws, "s1-renewed", version)});
    CHECK_MESSAGE(old.reused, old.details());
    CHECK((version == Tls::v1_2 ? old.held_ticket_id : key_id_of(old.ticket)) == k2);
    // A new session's ticket carries K2, and resumes.
    const auto fresh = s_client(nginx.port(), version, {.sess_out = saved(ws, "s2", version)});
    REQUIRE_MESSAGE(fresh.ok, fresh.details());
    CHECK_FALSE(fresh.reused);
    CHECK(key_id_of(fresh.ticket) == k2);
    const auto again = s_client(nginx.port(), version, {.sess_in = saved(ws, "s2", version)});
    CHECK_MESSAGE(again.reused, again.details());
  }

  // Move stekctl's clock to K1's decrypt_until: K1 is expired. A rotation
  // an hour before (K1 still decrypt-only, so not pruned) makes sure some
  // key encrypts then; the export, not the pruning, must leave K1 out.
  const auto late = find_key(listed, k1).decrypt_until;
  require_ok(stekctl_at(utc_plus(late, -1h), {"rotate", ks.string()}));
  const auto k3 = encrypting_id(ks, late);
  CHECK(find_key(list_keys(ks, late), k1).state == "expired");
  export_keys(ks, "nginx", out, late);
  CHECK(key_files_named_in(conf).count(k1 + ".key") == 0);
  CHECK_FALSE(fs::exists(out / (k1 + ".key")));
  CHECK(key_files_in(out) == key_files_named_in(conf));
  nginx.reload();

  for (const Tls version : k_versions) {
    CAPTURE(name_of(version));
    // The original K1 session (not its renewed copy) gets a full handshake.
    const auto old = s_client(nginx.port(), version,
                              {.sess_in = saved(ws, "s1", version),
                               .sess_out = saved(ws, "s1-after", version)});
    REQUIRE_MESSAGE(old.ok, old.details());
    CHECK_FALSE_MESSAGE(old.reused, old.details());
    CHECK(key_id_of(old.ticket) == k3);
    if (version == Tls::v1_2) {
      CHECK(old.held_ticket_id == k3);
    }
  }
}

} // namespace
} // namespace stek::interop
