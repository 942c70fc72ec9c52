// SPDX-License-Identifier: Apache-2.0
#include <stek/formats/native_keystore.hpp>

#include "support/cli.hpp"
#include "support/files.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

using stek::test::contains;
using stek::test::run_cli;

namespace {

stek::Keystore load() {
  auto ks = stek::formats::load_native_keystore("ks.json");
  REQUIRE(ks.ok());
  return std::move(ks).value();
}

} // namespace

TEST_CASE("stekctl revoke by id prefix") {
  stek::test::generate_keystore();
  const auto pending = load().keys[1].id.hex();
  const auto r = run_cli({"revoke", "--at", "2026-11-28T15:00:00Z", "ks.json",
                          pending.substr(0, 8), "--reason", "copied to a laptop"});
  REQUIRE(r.code == 0);
  CHECK(r.out == "revoked key " + pending + " at 2026-11-28T15:00:00Z\n");
  CHECK(r.err.empty());
  const auto ks = load();
  REQUIRE(ks.keys[1].revoked);
  CHECK(ks.keys[1].revoked->reason == "copied to a laptop");

  SUBCASE("again: nothing changes") {
    const auto before = stek::test::read_file("ks.json");
    const auto again = run_cli({"revoke", "ks.json", pending, "--reason", "twice"});
    CHECK(again.code == 0);
    CHECK(contains(again.out, "was already revoked"));
    CHECK(stek::test::read_file("ks.json") == before);
  }
  SUBCASE("json") {
    const auto list = run_cli({"list", "--json", "--at", "2026-11-28T15:00:00Z", "ks.json"});
    const auto doc = nlohmann::json::parse(list.out);
    CHECK(doc["keys"][1]["state"] == "revoked");
    CHECK(doc["keys"][1]["revoked"]["reason"] == "copied to a laptop");
    CHECK(doc["keys"][1]["revoked"]["at"] == "2026-11-28T15:00:00Z");
  }
}

TEST_CASE("stekctl revoke of the encrypting key warns about the gap") {
  stek::test::generate_keystore();
  const auto current = load().keys[0].id.hex();
  const auto r = run_cli({"revoke", "--at", "2026-11-28T15:00:00Z", "ks.json", current,
                          "--reason", "leak"});
  CHECK(r.code == 0);
  CHECK(contains(r.err, "was the encrypting key"));
  CHECK(contains(r.err, "stekctl rotate --now"));
}

TEST_CASE("stekctl revoke of the encrypting key names the key taking over") {
  // With windows overlapping, the previous key is still active.
  std::filesystem::remove("ks.json");
  REQUIRE(run_cli({"generate", "--quiet", "--encrypt-for", "18h", "--at",
                   "2026-11-28T14:00:00Z", "ks.json"})
            .code == 0);
  const auto ks = load();
  const auto r = run_cli({"revoke", "--at", "2026-11-29T03:00:00Z", "ks.json",
                          ks.keys[1].id.hex(), "--reason", "leak"});
  CHECK(r.code == 0);
  CHECK(contains(r.err, "key " + ks.keys[0].id.hex() + " encrypts in its place"));
}

TEST_CASE("stekctl revoke errors") {
  stek::test::generate_keystore();
  const auto before = stek::test::read_file("ks.json");
  SUBCASE("unknown id") {
    const auto r = run_cli({"revoke", "ks.json", "00000000", "--reason", "x"});
    // A random id starting with eight zero digits is a 2^-32 event.
    CHECK(r.code == 1);
    CHECK(contains(r.err, "no key with id \"00000000\" (ks.json)"));
  }
  SUBCASE("not hex") {
    CHECK(run_cli({"revoke", "ks.json", "xyz!", "--reason", "x"}).code == 2);
    // Checked before the file: a usage error whatever the keystore.
    CHECK(run_cli({"revoke", "missing.json", "xyz!", "--reason", "x"}).code == 2);
  }
  SUBCASE("no reason") {
    CHECK(run_cli({"revoke", "ks.json", "abcd"}).code == 2);
    CHECK(run_cli({"revoke", "ks.json", "abcd", "--reason", ""}).code == 2);
  }
  CHECK(stek::test::read_file("ks.json") == before);
}
