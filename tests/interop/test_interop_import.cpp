// SPDX-License-Identifier: Apache-2.0
// Import round trip: keys made by hand in nginx's and HAProxy's own
// formats serve real sessions; `stekctl import` brings them under
// management; `stekctl export` writes them back byte for byte; the server
// restarted on the export resumes the sessions it issued before.
//
// Each server also ran earlier with another key encrypting, so there is a
// session under a key the import makes decrypt-only.
#include "interop/harness.hpp"

#include <doctest/doctest.h>

#include <set>

namespace stek::interop {
namespace {

struct Sessions {
  std::vector<fs::path> files;
};

// Make a TLS 1.2 and a TLS 1.3 session on `server`, saved as
// <tag>-tls1x.pem, checking that their tickets are named `key_id`.
void add_sessions(Sessions& sessions, const Workspace& ws, TlsServer& server,
                  const std::string& tag, const std::string& key_id) {
  for (const Tls version : k_versions) {
    CAPTURE(name_of(version));
    const auto saved = ws.path(tag + "-" + file_tag(version) + ".pem");
    const auto h = s_client(server.port(), version, {.sess_out = saved});
    REQUIRE_MESSAGE(h.ok, h.details());
    REQUIRE(key_id_of(h.ticket) == key_id);
    sessions.files.push_back(saved);
  }
}

void check_resume(const Sessions& sessions, TlsServer& server) {
  for (const auto& saved : sessions.files) {
    CAPTURE(saved.filename().string());
    const auto version = saved.string().find("tls12") != std::string::npos ? Tls::v1_2 : Tls::v1_3;
    const auto h = s_client(server.port(), version, {.sess_in = saved});
    CHECK_MESSAGE(h.reused, h.details());
  }
}

void check_nginx_round_trip(const std::string& format, KeyLayout layout) {
  Workspace ws;
  const auto hand = ws.path("hand-made");
  fs::create_directories(hand);
  std::vector<fs::path> files;
  std::vector<Bytes> keys;
  for (int i = 1; i <= 3; ++i) {
    keys.push_back(random_bytes(size_of(layout)));
    files.push_back(hand / ("key" + std::to_string(i) + ".key"));
    write_file(files.back(), keys.back(), 0600);
  }
  const auto id = [&](std::size_t i) { return key_id_of(keys[i]); };

  Sessions sessions;
  {
    // Yesterday's configuration: key 2 encrypted.
    NginxServer earlier(ws.path("nginx-earlier"), ws.cert, {.ticket_keys = {files[1], files[2]}});
    earlier.start();
    add_sessions(sessions, ws, earlier, "earlier", id(1));
  }
  // Today's: key 1 encrypts.
  NginxServer nginx(ws.path("nginx"), ws.cert, {.ticket_keys = files});
  nginx.start();
  add_sessions(sessions, ws, nginx, "today", id(0));
  check_resume(sessions, nginx);

  const auto ks = ws.path("ks.json");
  REQUIRE_FALSE(fs::exists(ks));
  require_ok(stekctl({"import", ks.string(), "--format", format, files[0].string(),
                      files[1].string(), files[2].string()}));
  REQUIRE(fs::exists(ks));
  // The key nginx encrypted with (the first file) still encrypts.
  CHECK(encrypting_id(ks) == id(0));
  const auto listed = list_keys(ks);
  CHECK(listed.size() == 3);
  CHECK(find_key(listed, id(1)).state == "decrypt-only");
  CHECK(find_key(listed, id(2)).state == "decrypt-only");

  const auto out = ws.path("exported");
  export_keys(ks, format, out);
  const auto conf = out / "ssl_session_tickets.conf";
  const auto exported = nginx_conf_keys(conf);
  REQUIRE(exported.size() == 3);
  CHECK(exported[0].filename() == id(0) + ".key");
  for (std::size_t i = 0; i < 3; ++i) {
    CAPTURE(i);
    // The bytes come back as they were.
    CHECK(read_file(out / (id(i) + ".key")) == keys[i]);
  }

  // Imported as nginx reads the files: exported for HAProxy, the key
  // nginx encrypted with opens the tickets nginx issued under it.
  const auto haproxy_format = layout == KeyLayout::nginx80 ? "haproxy" : "haproxy48";
  const auto haproxy_layout =
    layout == KeyLayout::nginx80 ? KeyLayout::haproxy80 : KeyLayout::haproxy48;
  const auto haproxy_file = ws.path("exported.haproxy");
  export_keys(ks, haproxy_format, haproxy_file);
  const auto lines = haproxy_lines(haproxy_file);
  REQUIRE(lines.size() == 3);
  CHECK(key_id_of(lines[1]) == id(0));
  const auto today = read_ticket(ws.path("today-tls12.pem"));
  CHECK(open_ticket(today, split_key(lines[1], haproxy_layout)).has_value());

  nginx.site() = {.include = conf};
  nginx.restart();
  check_resume(sessions, nginx);
  // New tickets still use the key nginx used before the import.
  const auto fresh = s_client(nginx.port(), Tls::v1_2, {.sess_out = ws.path("fresh.pem")});
  REQUIRE_MESSAGE(fresh.ok, fresh.details());
  CHECK(key_id_of(fresh.ticket) == id(0));
}

void check_haproxy_round_trip(const std::string& format, KeyLayout layout) {
  Workspace ws;
  std::vector<Bytes> keys;
  for (int i = 0; i < 3; ++i) {
    keys.push_back(random_bytes(size_of(layout)));
  }
  const auto id = [&](std::size_t i) { return key_id_of(keys[i]); };

  Sessions sessions;
  {
    // Yesterday's file: key 0 was penultimate, so it encrypted.
    const auto earlier_file = ws.path("earlier.keys");
    write_haproxy_lines(earlier_file, {keys[2], keys[0], keys[1]});
    HaproxyServer earlier(ws.path("haproxy-earlier"), ws.cert, earlier_file);
    earlier.start();
    add_sessions(sessions, ws, earlier, "earlier", id(0));
  }
  const auto file = ws.path("haproxy.keys");
  write_haproxy_lines(file, keys);
  const auto original = read_file(file);
  HaproxyServer haproxy(ws.path("haproxy"), ws.cert, file);
  haproxy.start();
  add_sessions(sessions, ws, haproxy, "today", id(1));
  check_resume(sessions, haproxy);

  const auto ks = ws.path("ks.json");
  require_ok(stekctl({"import", ks.string(), "--format", format, file.string()}));
  CHECK(read_file(file) == original);
  // The penultimate line encrypted and still does.
  CHECK(encrypting_id(ks) == id(1));
  const auto listed = list_keys(ks);
  CHECK(listed.size() == 3);
  CHECK(find_key(listed, id(0)).state == "decrypt-only");
  CHECK(find_key(listed, id(2)).state == "decrypt-only");

  const auto out = ws.path("exported.keys");
  export_keys(ks, format, out);
  const auto lines = haproxy_lines(out);
  REQUIRE(lines.size() == 3);
  CHECK(lines[1] == keys[1]);
  // All three keys, each byte for byte.
  CHECK(std::set<Bytes>(lines.begin(), lines.end()) == std::set<Bytes>(keys.begin(), keys.end()));

  // Imported as HAProxy reads the lines: exported for nginx, the key
  // HAProxy encrypted with opens the tickets HAProxy issued under it.
  const auto nginx_format = layout == KeyLayout::haproxy80 ? "nginx" : "nginx48";
  const auto nginx_layout =
    layout == KeyLayout::haproxy80 ? KeyLayout::nginx80 : KeyLayout::nginx48;
  const auto nginx_out = ws.path("exported-nginx");
  export_keys(ks, nginx_format, nginx_out);
  const auto files = nginx_conf_keys(nginx_out / "ssl_session_tickets.conf");
  REQUIRE(files.size() == 3);
  CHECK(files[0].filename() == id(1) + ".key");
  const auto today = read_ticket(ws.path("today-tls12.pem"));
  CHECK(open_ticket(today, split_key(read_file(files[0]), nginx_layout)).has_value());

  haproxy.ticket_keys() = out;
  haproxy.restart();
  check_resume(sessions, haproxy);
  const auto fresh = s_client(haproxy.port(), Tls::v1_2, {.sess_out = ws.path("fresh.pem")});
  REQUIRE_MESSAGE(fresh.ok, fresh.details());
  CHECK(key_id_of(fresh.ticket) == id(1));
}

TEST_CASE("import round trip: hand-made nginx keys (80 bytes)") {
  check_nginx_round_trip("nginx", KeyLayout::nginx80);
}

TEST_CASE("import round trip: hand-made nginx48 keys") {
  check_nginx_round_trip("nginx48", KeyLayout::nginx48);
}

TEST_CASE("import round trip: hand-made haproxy keys (80 bytes)") {
  check_haproxy_round_trip("haproxy", KeyLayout::haproxy80);
}

TEST_CASE("import round trip: hand-made haproxy48 keys") {
  check_haproxy_round_trip("haproxy48", KeyLayout::haproxy48);
}

} // namespace
} // namespace stek::interop
