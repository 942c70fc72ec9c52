// SPDX-License-Identifier: Apache-2.0
#include "support/cli.hpp"
#include "support/files.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <set>
#include <sstream>

using stek::test::contains;
using stek::test::run_cli;

namespace {

void generate_at(const std::string& when) { stek::test::generate_keystore(when); }

} // namespace

TEST_CASE("stekctl list prints an aligned table in schedule order") {
  generate_at("2026-11-28T14:00:00Z");
  const auto r = run_cli({"list", "--at", "2026-11-28T15:00:00Z", "ks.json"});
  REQUIRE(r.code == 0);
  std::istringstream lines(r.out);
  std::string header, first, second;
  std::getline(lines, header);
  std::getline(lines, first);
  std::getline(lines, second);
  CHECK(header.starts_with("ID  "));
  // Columns line up: each column starts at the same offset in every row.
  const auto state_at = header.find("STATE");
  CHECK(first.substr(state_at, 6) == "active");
  CHECK(second.substr(state_at, 7) == "pending");
  const auto enc_at = header.find("ENCRYPTING");
  CHECK(first.substr(enc_at, 3) == "yes");
  CHECK(second.substr(enc_at, 2) == "no");
  CHECK(contains(first, "2026-11-28T14:00:00Z  2026-11-29T02:00:00Z  2026-11-30T02:00:00Z"));
  CHECK(contains(r.out, "policy: rotate every 12h, publish 1h ahead, encrypt for 12h, "
                        "decrypt for 24h, SNI binding on"));
  CHECK(contains(r.out, "next rotation due 2026-11-29T11:48:00Z (in 20h48m)"));
}

TEST_CASE("stekctl list --json has exactly the contract fields") {
  generate_at("2026-11-28T14:00:00Z");
  const auto r = run_cli({"list", "--json", "--at", "2026-11-29T03:00:00Z", "ks.json"});
  REQUIRE(r.code == 0);
  const auto doc = nlohmann::json::parse(r.out);
  CHECK(doc["keystore"] == "ks.json");
  CHECK(doc["now"] == "2026-11-29T03:00:00Z");
  REQUIRE(doc["keys"].size() == 2);
  const std::set<std::string> fields{"id", "state", "encrypting", "created",
                                     "not_before", "encrypt_until",
                                     "decrypt_until", "origin", "revoked"};
  for (const auto& key : doc["keys"]) {
    std::set<std::string> seen;
    for (const auto& [name, value] : key.items()) {
      seen.insert(name);
    }
    CHECK(seen == fields);
    CHECK(key["origin"].is_null());
    CHECK(key["revoked"].is_null());
  }
  CHECK(doc["keys"][0]["state"] == "decrypt-only");
  CHECK(doc["keys"][0]["encrypting"] == false);
  CHECK(doc["keys"][1]["state"] == "active");
  CHECK(doc["keys"][1]["encrypting"] == true);
}

TEST_CASE("stekctl list never prints a secret") {
  generate_at("2026-11-28T14:00:00Z");
  const auto doc = nlohmann::json::parse(stek::test::read_file("ks.json"));
  for (const auto& args : {std::vector<std::string>{"list", "ks.json"},
                           std::vector<std::string>{"list", "--json", "ks.json"}}) {
    const auto r = run_cli(args);
    for (const auto& key : doc["keys"]) {
      const std::string material = key["material"];
      CHECK_FALSE(contains(r.out + r.err, material.substr(0, 16)));
    }
  }
}

TEST_CASE("stekctl list refuses a keystore others can read") {
  generate_at("2026-11-28T14:00:00Z");
  ::chmod("ks.json", 0640);
  const auto r = run_cli({"list", "ks.json"});
  CHECK(r.code == 1);
  CHECK(contains(r.err, "mode 0640"));
  CHECK(contains(r.err, "chmod 600 ks.json"));
  CHECK(run_cli({"list", "--allow-insecure-permissions", "ks.json"}).code == 0);
}

TEST_CASE("stekctl list warns when no key encrypts") {
  generate_at("2026-11-28T14:00:00Z");
  const auto r = run_cli({"list", "--at", "2026-12-10T00:00:00Z", "ks.json"});
  CHECK(r.code == 0);
  CHECK(contains(r.err, "stekctl: warning: no key encrypts"));
  CHECK(contains(r.out, "expired"));
}

TEST_CASE("stekctl list --quiet prints nothing but warnings") {
  generate_at("2026-11-28T14:00:00Z");
  const auto r = run_cli({"list", "--quiet", "ks.json"});
  CHECK(r.code == 0);
  CHECK(r.out.empty());
  CHECK(r.err.empty());
  const auto stale = run_cli({"list", "--quiet", "--at", "2030-01-01T00:00:00Z", "ks.json"});
  CHECK(stale.out.empty());
  CHECK(contains(stale.err, "stekctl: warning: no key encrypts"));
  const auto json = run_cli({"list", "--json", "--at", "2030-01-01T00:00:00Z", "ks.json"});
  CHECK(contains(json.err, "stekctl: warning: no key encrypts"));
}
