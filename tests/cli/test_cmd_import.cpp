// SPDX-License-Identifier: Apache-2.0
#include <stek/crypto.hpp>
#include <stek/encoding.hpp>
#include <stek/formats/native_keystore.hpp>

#include "support/cli.hpp"
#include "support/files.hpp"

#include <doctest/doctest.h>

#include <filesystem>

namespace fs = std::filesystem;
using stek::test::contains;
using stek::test::run_cli;

namespace {

std::string random_bytes(std::size_t n) {
  auto secret = stek::random_secret(n);
  REQUIRE(secret.ok());
  return {secret->reveal().begin(), secret->reveal().end()};
}

std::string hex_name(const std::string& key_file) {
  return stek::hex_encode(std::span(reinterpret_cast<const std::uint8_t*>(key_file.data()), 16));
}

} // namespace

TEST_CASE("stekctl import nginx keys and export them back unchanged") {
  fs::remove("ks.json");
  const auto k1 = random_bytes(80);
  const auto k2 = random_bytes(80);
  stek::test::write_file("one.key", k1);
  stek::test::write_file("two.key", k2);
  const auto r = run_cli({"import", "ks.json", "--format", "nginx", "one.key", "two.key",
                          "--at", "2026-11-28T14:00:00Z"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(contains(r.err, "created ks.json with the default policy"));
  CHECK(stek::test::file_mode("ks.json") == 0600);
  auto ks = stek::formats::load_native_keystore("ks.json");
  REQUIRE(ks.ok());
  const auto now = *stek::parse_time("2026-11-28T14:00:00Z");
  REQUIRE(ks->encrypting_key(now) != nullptr);
  // nginx encrypts with the first file's key; it keeps encrypting.
  CHECK(ks->encrypting_key(now)->id.hex() == hex_name(k1));
  const auto* second = ks->find(*stek::KeyId::from_hex(hex_name(k2)));
  REQUIRE(second != nullptr);
  CHECK(second->state_at(now) == stek::KeyState::decrypt_only);
  CHECK(second->decrypt_until == now + std::chrono::hours(24));

  fs::remove_all("out");
  REQUIRE(run_cli({"export", "-q", "ks.json", "--format", "nginx", "--out", "out", "--at",
                   "2026-11-28T14:00:00Z"})
            .code == 0);
  CHECK(stek::test::read_file("out/" + hex_name(k1) + ".key") == k1);
  CHECK(stek::test::read_file("out/" + hex_name(k2) + ".key") == k2);
}

TEST_CASE("stekctl import into an existing keystore takes over encryption") {
  stek::test::generate_keystore("2026-11-28T14:00:00Z");
  const auto key = random_bytes(80);
  stek::test::write_file("old.key", key);
  REQUIRE(run_cli({"import", "-q", "ks.json", "--format", "openssl", "old.key", "--at",
                   "2026-11-28T15:00:00Z"})
            .code == 0);
  const auto list = run_cli({"list", "ks.json", "--at", "2026-11-28T15:00:00Z"});
  CHECK(contains(list.out, hex_name(key)));
  CHECK(contains(list.out, "imported from openssl"));

  SUBCASE("the same key again is an error naming it, and changes nothing") {
    const auto before = stek::test::read_file("ks.json");
    const auto again = run_cli({"import", "ks.json", "--format", "openssl", "old.key"});
    CHECK(again.code == 1);
    CHECK(contains(again.err, "key " + hex_name(key) + " is already in the keystore"));
    CHECK(stek::test::read_file("ks.json") == before);
  }
  SUBCASE("a key given twice") {
    stek::test::write_file("k.key", random_bytes(80));
    const auto twice = run_cli({"import", "ks.json", "--format", "nginx", "k.key", "k.key"});
    CHECK(twice.code == 1);
    CHECK(contains(twice.err, "is given twice"));
  }
}

TEST_CASE("stekctl import errors leave the keystore alone") {
  stek::test::generate_keystore();
  const auto before = stek::test::read_file("ks.json");
  SUBCASE("wrong size") {
    stek::test::write_file("short.key", random_bytes(47));
    const auto r = run_cli({"import", "ks.json", "--format", "nginx48", "short.key"});
    CHECK(r.code == 1);
    CHECK(contains(r.err, "nginx48 key must be 48 bytes, not 47 (short.key)"));
  }
  SUBCASE("missing file") {
    const auto r = run_cli({"import", "ks.json", "--format", "nginx", "nope.key"});
    CHECK(r.code == 1);
    CHECK(contains(r.err, "nope.key"));
  }
  SUBCASE("export-only format") {
    stek::test::write_file("s.yaml", "x");
    const auto r = run_cli({"import", "ks.json", "--format", "k8s-secret", "s.yaml"});
    CHECK(r.code == 2);
    CHECK(contains(r.err, "cannot be imported"));
  }
  CHECK(stek::test::read_file("ks.json") == before);
}
