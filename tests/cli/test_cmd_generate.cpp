// SPDX-License-Identifier: Apache-2.0
#include <stek/formats/native_keystore.hpp>

#include "support/cli.hpp"
#include "support/files.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <sys/stat.h>

using stek::test::contains;
using stek::test::run_cli;

TEST_CASE("stekctl generate creates a 0600 keystore with two keys") {
  const auto old_umask = ::umask(0);
  const auto r = run_cli({"generate", "--at", "2026-11-28T14:00:00Z", "ks.json"});
  ::umask(old_umask);
  REQUIRE(r.code == 0);
  CHECK(stek::test::file_mode("ks.json") == 0600);
  CHECK(contains(r.out, "created keystore ks.json"));
  auto ks = stek::formats::load_native_keystore("ks.json");
  REQUIRE(ks.ok());
  REQUIRE(ks->keys.size() == 2);
  const auto now = *stek::parse_time("2026-11-28T14:00:00Z");
  CHECK(ks->encrypting_key(now) == &ks->keys[0]);
  CHECK(ks->keys[1].state_at(now) == stek::KeyState::pending);
  CHECK(contains(r.out, ks->keys[0].id.hex()));
  CHECK(contains(r.out, ks->keys[1].id.hex()));
}

TEST_CASE("stekctl generate refuses to overwrite without --force") {
  REQUIRE(run_cli({"generate", "--quiet", "ks.json"}).code == 0);
  const auto before = stek::test::read_file("ks.json");
  const auto r = run_cli({"generate", "ks.json"});
  CHECK(r.code == 1);
  CHECK(contains(r.err, "keystore already exists; pass --force"));
  CHECK(stek::test::read_file("ks.json") == before);

  const auto forced = run_cli({"generate", "--force", "ks.json"});
  CHECK(forced.code == 0);
  CHECK(contains(forced.err, "replaced the existing keystore"));
  CHECK(stek::test::read_file("ks.json") != before);
}

TEST_CASE("stekctl generate writes the policy options") {
  const auto r = run_cli({"generate", "--quiet", "--rotate-every", "6h",
                          "--publish-ahead", "30m", "--decrypt-for", "2d",
                          "--no-sni-binding", "ks.json"});
  REQUIRE(r.code == 0);
  const auto doc = nlohmann::json::parse(stek::test::read_file("ks.json"));
  CHECK(doc["policy"]["rotate_every"] == "6h");
  CHECK(doc["policy"]["publish_ahead"] == "30m");
  CHECK(doc["policy"]["encrypt_for"] == "6h"); // defaults to rotate_every
  CHECK(doc["policy"]["decrypt_for"] == "2d");
  CHECK(doc["policy"]["sni_binding"] == false);
}

TEST_CASE("stekctl generate rejects a bad policy as a usage error") {
  SUBCASE("unparseable duration") {
    const auto r = run_cli({"generate", "--rotate-every", "soon", "ks.json"});
    CHECK(r.code == 2);
    CHECK(contains(r.err, "--rotate-every"));
  }
  SUBCASE("durations that do not fit together") {
    const auto r = run_cli({"generate", "--rotate-every", "12h", "--encrypt-for",
                            "6h", "ks.json"});
    CHECK(r.code == 2);
    CHECK(contains(r.err, "stekctl: error: --encrypt-for must be at least --rotate-every"));
  }
  CHECK_FALSE(std::filesystem::exists("ks.json"));
}

TEST_CASE("stekctl generate warns about lifetimes over RFC 8446's 7 days") {
  const auto r = run_cli({"generate", "--quiet", "--decrypt-for", "7d", "ks.json"});
  CHECK(r.code == 0);
  CHECK(contains(r.err, "RFC 8446"));
}

TEST_CASE("stekctl generate into a missing directory fails cleanly") {
  const auto r = run_cli({"generate", "no/such/dir/ks.json"});
  CHECK(r.code == 1);
  CHECK(contains(r.err, "directory does not exist"));
}

TEST_CASE("stekctl generate says when the first key must cover the notice period") {
  const auto r = run_cli({"generate", "--quiet", "--rotate-every", "1h",
                          "--publish-ahead", "3h", "ks.json"});
  CHECK(r.code == 0);
  CHECK(contains(r.err, "the first key encrypts for 3h, longer than --encrypt-for"));
}
