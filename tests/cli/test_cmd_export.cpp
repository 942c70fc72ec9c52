// SPDX-License-Identifier: Apache-2.0
#include <stek/formats/native_keystore.hpp>

#include "support/cli.hpp"
#include "support/files.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <filesystem>

namespace fs = std::filesystem;
using stek::test::contains;
using stek::test::run_cli;

namespace {

constexpr const char* k_t0 = "2026-11-28T14:00:00Z";

ino_t inode(const fs::path& p) {
  struct stat st {};
  ::stat(p.c_str(), &st);
  return st.st_ino;
}

std::set<std::string> names_in(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    out.insert(e.path().filename().string());
  }
  return out;
}

stek::Keystore load() {
  auto ks = stek::formats::load_native_keystore("ks.json");
  REQUIRE(ks.ok());
  return std::move(ks).value();
}

} // namespace

TEST_CASE("stekctl export nginx writes a directory of 0600 files once") {
  stek::test::generate_keystore(k_t0);
  fs::remove_all("out");
  const auto ks = load();
  const auto r = run_cli({"export", "ks.json", "--format", "nginx", "--out", "out",
                          "--at", k_t0});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  const auto first = ks.keys[0].id.hex() + ".key";
  const auto second = ks.keys[1].id.hex() + ".key";
  CHECK(names_in("out") == std::set<std::string>{first, second, "ssl_session_tickets.conf"});
  CHECK(stek::test::file_mode("out") == 0700);
  for (const auto& name : names_in("out")) {
    CHECK(stek::test::file_mode(fs::path("out") / name) == 0600);
  }
  const auto conf = stek::test::read_file("out/ssl_session_tickets.conf");
  const auto abs = fs::absolute("out").string();
  CHECK(conf.find("ssl_session_ticket_key " + abs + "/" + first + ";") <
        conf.find("ssl_session_ticket_key " + abs + "/" + second + ";"));
  CHECK(contains(r.out, "exported 2 key(s) as nginx to out"));

  SUBCASE("again: nothing is rewritten") {
    const auto before = inode(fs::path("out") / first);
    const auto again = run_cli({"export", "ks.json", "--format", "nginx", "--out", "out",
                                "--at", k_t0});
    CHECK(contains(again.out, "export unchanged"));
    CHECK(inode(fs::path("out") / first) == before);
  }
  SUBCASE("after the first key expires it is removed, not left behind") {
    // A day and a half later: the first key expired, a new one encrypts.
    REQUIRE(run_cli({"rotate", "-q", "ks.json", "--at", "2026-11-30T03:00:00Z"}).code == 0);
    const auto now_encrypting = load().keys.back().id.hex() + ".key";
    const auto later = run_cli({"export", "ks.json", "--format", "nginx", "--out", "out",
                                "--at", "2026-11-30T03:00:00Z"});
    REQUIRE_MESSAGE(later.code == 0, later.err);
    CHECK(names_in("out") ==
          std::set<std::string>{second, now_encrypting, "ssl_session_tickets.conf"});
    CHECK(contains(later.out, "removed " + fs::path("out/" + first).string()));
  }
}

TEST_CASE("stekctl export to standard output: text formats only") {
  stek::test::generate_keystore(k_t0);
  const auto haproxy = run_cli({"export", "ks.json", "--format", "haproxy", "--out", "-"});
  CHECK(haproxy.code == 0);
  CHECK(std::count(haproxy.out.begin(), haproxy.out.end(), '\n') == 3);
  for (const char* format : {"nginx", "apache", "openssl", "envoy"}) {
    CAPTURE(std::string(format));
    const auto r = run_cli({"export", "ks.json", "--format", format, "--out", "-"});
    CHECK(r.code == 2);
    CHECK(contains(r.err, "cannot go to standard output"));
    CHECK(r.out.empty());
  }
}

TEST_CASE("stekctl export usage and operational errors") {
  stek::test::generate_keystore(k_t0);
  SUBCASE("unknown format") {
    const auto r = run_cli({"export", "ks.json", "--format", "caddy", "--out", "x"});
    CHECK(r.code == 1);
    CHECK(contains(r.err, "unknown format \"caddy\""));
  }
  SUBCASE("nothing encrypts") {
    const auto r = run_cli({"export", "ks.json", "--format", "haproxy", "--out", "h.keys",
                            "--at", "2027-01-01T00:00:00Z"});
    CHECK(r.code == 1);
    CHECK(contains(r.err, "no key encrypts at 2027-01-01T00:00:00Z"));
    CHECK_FALSE(fs::exists("h.keys"));
  }
  SUBCASE("bad server name") {
    CHECK(run_cli({"export", "ks.json", "--format", "nginx", "--out", "o", "--sni", "a b"})
            .code == 2);
  }
  SUBCASE("relative --config-dir") {
    CHECK(run_cli({"export", "ks.json", "--format", "nginx", "--out", "o", "--config-dir",
                   "rel"})
            .code == 2);
  }
  SUBCASE("output path is a file where a directory is needed") {
    stek::test::write_file("plain", "x");
    const auto r = run_cli({"export", "ks.json", "--format", "nginx", "--out", "plain"});
    CHECK(r.code == 1);
    CHECK(contains(r.err, "exists and is not a directory (plain)"));
    CHECK(stek::test::read_file("plain") == "x");
  }
}

TEST_CASE("stekctl export --deploy-hook runs only when the export changed") {
  stek::test::generate_keystore(k_t0);
  fs::remove("h.keys");
  fs::remove("hook.log");
  const std::string hook = "echo \"$STEKCTL_FORMAT $STEKCTL_EXPORT\" >> hook.log";
  for (int i = 0; i < 2; ++i) {
    CHECK(run_cli({"export", "-q", "ks.json", "--format", "haproxy", "--out", "h.keys",
                   "--deploy-hook", hook, "--at", k_t0})
            .code == 0);
  }
  CHECK(stek::test::read_file("hook.log") == "haproxy h.keys\n");
  // The pending key starts encrypting: HAProxy's lines change.
  CHECK(run_cli({"export", "-q", "ks.json", "--format", "haproxy", "--out", "h.keys",
                 "--deploy-hook", hook, "--at", "2026-11-29T03:00:00Z"})
          .code == 0);
  CHECK(stek::test::read_file("hook.log") == "haproxy h.keys\nhaproxy h.keys\n");
}

TEST_CASE("stekctl export warnings: from cron only when something changed") {
  stek::test::generate_keystore(k_t0);
  fs::remove("a.key");
  const auto first = run_cli({"export", "-q", "ks.json", "--format", "apache", "--out",
                              "a.key", "--at", k_t0});
  CHECK(contains(first.err, "Apache holds one key"));
  CHECK(contains(first.err, "sni_binding"));
  const auto second = run_cli({"export", "-q", "ks.json", "--format", "apache", "--out",
                               "a.key", "--at", k_t0});
  CHECK(second.err.empty());
  const auto interactive = run_cli({"export", "ks.json", "--format", "apache", "--out",
                                    "a.key", "--at", k_t0});
  CHECK(contains(interactive.err, "Apache holds one key"));
}

TEST_CASE("stekctl export --json and --sni") {
  stek::test::generate_keystore(k_t0);
  const auto r = run_cli({"export", "--json", "ks.json", "--format", "haproxy", "--out",
                          "h.keys", "--sni", "A.Example", "--at", k_t0});
  REQUIRE(r.code == 0);
  const auto doc = nlohmann::json::parse(r.out);
  CHECK(doc["format"] == "haproxy");
  CHECK(doc["sni"] == "a.example"); // as keys are bound to it
  CHECK(doc["changed"] == true);
  REQUIRE(doc["keys"].size() == 3);
  CHECK(doc["keys"][1]["role"] == "encrypts");
  CHECK(doc["warnings"].is_array());
  // No sni_binding warning when bound to a name.
  CHECK_FALSE(contains(r.err, "sni_binding"));
  const auto bound = stek::test::read_file("h.keys");
  const auto other = run_cli({"export", "ks.json", "--format", "haproxy", "--out", "-",
                              "--sni", "b.example", "--at", k_t0});
  CHECK(other.out != bound);
  const auto same = run_cli({"export", "ks.json", "--format", "haproxy", "--out", "-",
                             "--sni", "a.example.", "--at", k_t0});
  CHECK(same.out == bound);
}

TEST_CASE("stekctl export refuses options its format would ignore") {
  stek::test::generate_keystore(k_t0);
  for (const auto& args : std::vector<std::vector<std::string>>{
         {"--format", "haproxy", "--out", "-", "--json"},
         {"--format", "haproxy", "--out", "h", "--secret-name", "x"},
         {"--format", "nginx", "--out", "n", "--namespace", "x"},
         {"--format", "haproxy", "--out", "h", "--config-dir", "/etc/haproxy"},
         {"--format", "k8s-secret", "--out", "-", "--sni", "a.example"}}) {
    auto full = std::vector<std::string>{"export", "ks.json"};
    full.insert(full.end(), args.begin(), args.end());
    const auto r = run_cli(full);
    CAPTURE(r.err);
    CHECK(r.code == 2);
    CHECK(r.out.empty());
  }
}

TEST_CASE("stekctl export sets a loosened file back to 0600 without rewriting it") {
  stek::test::generate_keystore(k_t0);
  fs::remove("h.keys");
  REQUIRE(run_cli({"export", "-q", "ks.json", "--format", "haproxy", "--out", "h.keys",
                   "--at", k_t0})
            .code == 0);
  ::chmod("h.keys", 0644);
  const auto before = inode("h.keys");
  const auto r = run_cli({"export", "ks.json", "--format", "haproxy", "--out", "h.keys",
                          "--at", k_t0});
  CHECK(contains(r.out, "export unchanged"));
  CHECK(stek::test::file_mode("h.keys") == 0600);
  CHECK(inode("h.keys") == before);
}

TEST_CASE("stekctl import reads back stekctl's own HAProxy export") {
  // Only two live keys: the encrypting key fills two of the three lines.
  stek::test::generate_keystore(k_t0);
  REQUIRE(run_cli({"export", "-q", "ks.json", "--format", "haproxy", "--out", "h.keys",
                   "--at", k_t0})
            .code == 0);
  fs::remove("copy.json");
  const auto r = run_cli({"import", "-q", "copy.json", "--format", "haproxy", "h.keys",
                          "--at", k_t0});
  CHECK_MESSAGE(r.code == 0, r.err);
  const auto list = run_cli({"list", "--json", "copy.json", "--at", k_t0});
  const auto doc = nlohmann::json::parse(list.out);
  CHECK(doc["keys"].size() == 2);
  const auto original = load();
  for (const auto& key : doc["keys"]) {
    const bool encrypting = key["id"] == original.keys[0].id.hex();
    CHECK(key["encrypting"] == encrypting);
  }
}
