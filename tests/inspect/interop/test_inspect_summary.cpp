// SPDX-License-Identifier: Apache-2.0
// stekctl inspect --summary on real nginx captures built for each flag:
// a ticket from a.example resumed under b.example (nginx 1.22 resumes
// across virtual hosts sharing a key, CVE-2025-23419), tickets under a
// key the keystore does not hold, and tickets under a revoked key.
#include "inspect/interop/support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>

namespace stek::inspect_interop {
namespace {

std::string str(const Json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// TLS 1.2 and TLS 1.3, each a full handshake then a resumption.
void run_both_versions(const Workspace& ws, std::uint16_t port) {
  for (const Tls version : k_versions) {
    const auto saved = ws.path("s-" + file_tag(version) + ".pem");
    const auto first = run_client(port, version, {.sess_out = saved});
    REQUIRE_MESSAGE((first.ok && !first.ticket.empty()), first.details());
    const auto again = run_client(port, version, {.sess_in = saved});
    REQUIRE_MESSAGE(again.reused, again.details());
  }
}

// The summary's totals and its entry for `key_id` agree with tshark.
void check_totals(const Json& summary, const std::vector<OracleTicket>& oracle,
                  const std::string& key_id, bool known) {
  CAPTURE(summary.dump(2));
  CHECK(summary.value("tickets", std::uint64_t{0}) == oracle.size());
  REQUIRE(summary.contains("by_key"));
  REQUIRE(summary["by_key"].is_array());
  REQUIRE(summary["by_key"].size() == 1);
  const auto& entry = summary["by_key"][0];
  CHECK(str(entry, "key_id") == key_id);
  CHECK(entry.value("known", !known) == known);
  std::map<std::string, std::size_t> counts;
  if (entry.contains("counts") && entry["counts"].is_object()) {
    for (auto it = entry["counts"].begin(); it != entry["counts"].end(); ++it) {
      if (it.value().get<std::size_t>() > 0) {
        counts[it.key()] = it.value().get<std::size_t>();
      }
    }
  }
  CHECK(counts == kind_counts(oracle));
  std::string first, last;
  for (const auto& o : oracle) {
    first = first.empty() || o.time < first ? o.time : first;
    last = o.time > last ? o.time : last;
  }
  CHECK(str(entry, "first_seen") == first);
  CHECK(str(entry, "last_seen") == last);
}

std::set<std::uint64_t> frames_of(const std::vector<OracleTicket>& oracle) {
  std::set<std::uint64_t> out;
  for (const auto& o : oracle) {
    out.insert(o.frame);
  }
  return out;
}

} // namespace

TEST_CASE("inspect --summary: a.example's ticket resumed under b.example is cross_sni") {
  Workspace ws;
  const auto key = make_key_file(ws.path("a.key"));
  const auto ks = ws.path("ks.json");
  import_keys(ks, "nginx", {key});
  // Two server blocks on one listener, sharing the key.
  const auto b_conf = ws.path("b.conf");
  write_file(b_conf, "    ssl_session_ticket_key " + key.path.string() + ";\n", 0644);
  NginxSite site;
  site.ticket_keys = {key.path};
  site.more_hosts = {{"b.example", b_conf}};
  NginxServer nginx(ws.path("nginx"), ws.cert, site);
  nginx.start();

  PacketCapture cap(ws.path("cross.pcap"), {nginx.port()});
  for (const Tls version : k_versions) {
    CAPTURE(name_of(version));
    const auto saved = ws.path("a-" + file_tag(version) + ".pem");
    const auto a = run_client(nginx.port(), version, {.server_name = "a.example", .sess_out = saved});
    REQUIRE_MESSAGE((a.ok && !a.ticket.empty()), a.details());
    const auto b = run_client(nginx.port(), version, {.server_name = "b.example", .sess_in = saved});
    REQUIRE_MESSAGE(b.reused, "nginx 1.22 resumes across virtual hosts:\n" << b.details());
    // nginx served it from the b.example block.
    CHECK_MESSAGE(b.out.find("b.example") != std::string::npos, b.details());
  }
  cap.stop();
  const auto oracle = tshark_tickets(cap.file(), {.tls_ports = {nginx.port()}});
  // The crossings: the ClientHellos that carry a ticket under b.example.
  std::set<std::uint64_t> crossing_frames;
  for (const auto& o : oracle) {
    if (o.kind != "new_session_ticket") {
      CHECK(o.sni == "b.example");
      crossing_frames.insert(o.frame);
    }
  }
  REQUIRE(crossing_frames.size() == 2); // TLS 1.2 and TLS 1.3

  // Per ticket: the ClientHello's name and the session's differ.
  const auto tickets = inspect_ndjson({"--keystore", ks.string(), cap.file().string()});
  CHECK(tickets.size() == oracle.size());
  for (const auto& t : tickets) {
    CAPTURE(t.dump());
    REQUIRE(t.contains("session"));
    CHECK(str(t["session"], "sni") == "a.example");
    if (str(t, "message") != "new_session_ticket") {
      CHECK(str(t, "sni") == "b.example");
    }
  }

  const auto summary = inspect_summary({"--keystore", ks.string(), cap.file().string()});
  CAPTURE(summary.dump(2));
  check_totals(summary, oracle, key.id, true);
  REQUIRE(summary.contains("flags"));
  std::set<std::uint64_t> flagged;
  for (const auto& flag : summary["flags"]) {
    CAPTURE(flag.dump());
    CHECK(str(flag, "flag") == "cross_sni");
    CHECK(str(flag, "key_id") == key.id);
    CHECK(str(flag, "input") == cap.file().string());
    CHECK(str(flag, "client_hello_sni") == "b.example");
    CHECK(str(flag, "session_sni") == "a.example");
    flagged.insert(flag.value("frame", std::uint64_t{0}));
  }
  CHECK(flagged == crossing_frames);
  CHECK(summary["flags"].size() == 2);
}

TEST_CASE("inspect --summary: tickets under a key the keystore does not hold are unknown_key") {
  Workspace ws;
  const auto used = make_key_file(ws.path("used.key"));
  const auto other = make_key_file(ws.path("other.key"));
  const auto ks = ws.path("ks.json");
  import_keys(ks, "nginx", {other});
  NginxSite site;
  site.ticket_keys = {used.path};
  NginxServer nginx(ws.path("nginx"), ws.cert, site);
  nginx.start();

  PacketCapture cap(ws.path("unknown.pcap"), {nginx.port()});
  run_both_versions(ws, nginx.port());
  cap.stop();
  const auto oracle = tshark_tickets(cap.file(), {.tls_ports = {nginx.port()}});
  REQUIRE(oracle.size() == 3); // TLS 1.2 NST and ClientHello, TLS 1.3 PSK

  const auto tickets = inspect_ndjson({"--keystore", ks.string(), cap.file().string()});
  CHECK(tickets.size() == oracle.size());
  for (const auto& t : tickets) {
    CAPTURE(t.dump());
    CHECK(str(t, "key_id") == used.id);
    REQUIRE(t.contains("key"));
    CHECK(str(t["key"], "match") == "no_key");
    CHECK_FALSE(t.contains("session"));
  }

  const auto summary = inspect_summary({"--keystore", ks.string(), cap.file().string()});
  CAPTURE(summary.dump(2));
  check_totals(summary, oracle, used.id, false);
  REQUIRE(summary.contains("flags"));
  REQUIRE_FALSE(summary["flags"].empty());
  const auto frames = frames_of(oracle);
  for (const auto& flag : summary["flags"]) {
    CAPTURE(flag.dump());
    CHECK(str(flag, "flag") == "unknown_key");
    CHECK(str(flag, "key_id") == used.id);
    CHECK(str(flag, "input") == cap.file().string());
    CHECK(frames.count(flag.value("frame", std::uint64_t{0})) == 1);
  }
}

TEST_CASE("inspect --summary: tickets under a revoked key are revoked_key") {
  Workspace ws;
  const auto key = make_key_file(ws.path("a.key"));
  const auto ks = ws.path("ks.json");
  import_keys(ks, "nginx", {key});
  NginxSite site;
  site.ticket_keys = {key.path};
  NginxServer nginx(ws.path("nginx"), ws.cert, site);
  nginx.start();

  // Revoked ten minutes ago, and the server still uses it (not yet
  // redeployed): the summary judges each ticket by the key's state when the
  // capture saw it, so the revocation must precede the capture.
  require_ok(stekctl_at(utc_in(-10min), {"revoke", ks.string(), key.id, "--reason", "x"}));
  PacketCapture cap(ws.path("revoked.pcap"), {nginx.port()});
  run_both_versions(ws, nginx.port());
  cap.stop();
  const auto oracle = tshark_tickets(cap.file(), {.tls_ports = {nginx.port()}});
  REQUIRE(oracle.size() == 3);

  const auto tickets = inspect_ndjson({"--keystore", ks.string(), cap.file().string()});
  CHECK(tickets.size() == oracle.size());
  for (const auto& t : tickets) {
    CAPTURE(t.dump());
    REQUIRE(t.contains("key"));
    CHECK(str(t["key"], "match") == "found");
    CHECK(str(t["key"], "state_at_capture") == "revoked");
    CHECK(str(t["key"], "state_now") == "revoked");
    CHECK(t.contains("session")); // the key still opens it: forensics
  }

  const auto summary = inspect_summary({"--keystore", ks.string(), cap.file().string()});
  CAPTURE(summary.dump(2));
  check_totals(summary, oracle, key.id, true);
  REQUIRE(summary["by_key"].size() == 1);
  CHECK(str(summary["by_key"][0], "state_now") == "revoked");
  REQUIRE(summary.contains("flags"));
  REQUIRE_FALSE(summary["flags"].empty());
  const auto frames = frames_of(oracle);
  for (const auto& flag : summary["flags"]) {
    CAPTURE(flag.dump());
    CHECK(str(flag, "flag") == "revoked_key");
    CHECK(str(flag, "key_id") == key.id);
    CHECK(frames.count(flag.value("frame", std::uint64_t{0})) == 1);
  }
}

} // namespace stek::inspect_interop
