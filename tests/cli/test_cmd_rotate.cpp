// SPDX-License-Identifier: Apache-2.0
#include <stek/formats/native_keystore.hpp>

#include "support/cli.hpp"
#include "support/files.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

using stek::test::contains;
using stek::test::run_cli;

namespace {

constexpr const char* k_t0 = "2026-11-28T14:00:00Z";
// The third key starts at t0+24h; it is due 2h12m before.
constexpr const char* k_due = "2026-11-29T11:48:00Z";

void generate() {
  stek::test::generate_keystore(k_t0);
  std::filesystem::remove("hook.log");
}

stek::Keystore load() {
  auto ks = stek::formats::load_native_keystore("ks.json");
  REQUIRE(ks.ok());
  return std::move(ks).value();
}

} // namespace

TEST_CASE("stekctl rotate when nothing is due leaves the file byte-identical") {
  generate();
  const auto before = stek::test::read_file("ks.json");
  const auto r = run_cli({"rotate", "--at", "2026-11-29T11:47:59Z", "ks.json"});
  CHECK(r.code == 0);
  CHECK(r.out == "nothing to do; next rotation due 2026-11-29T11:48:00Z (in 1s)\n");
  CHECK(stek::test::read_file("ks.json") == before);
}

TEST_CASE("stekctl rotate when due publishes a successor") {
  generate();
  const auto r = run_cli({"rotate", "--at", k_due, "ks.json"});
  REQUIRE(r.code == 0);
  const auto ks = load();
  REQUIRE(ks.keys.size() == 3);
  CHECK(stek::format_time(ks.keys[2].not_before) == "2026-11-29T14:00:00Z");
  CHECK(contains(r.out, "published key " + ks.keys[2].id.hex() +
                          ": pending, encrypts 2026-11-29T14:00:00Z to "
                          "2026-11-30T02:00:00Z, decrypts until 2026-12-01T02:00:00Z"));
  CHECK(contains(r.out, "wrote ks.json; next rotation due 2026-11-29T23:48:00Z"));
  CHECK(r.err.empty());
}

TEST_CASE("stekctl rotate --dry-run changes nothing but says what it would do") {
  generate();
  const auto before = stek::test::read_file("ks.json");
  const auto r = run_cli({"rotate", "--dry-run", "--at", k_due, "ks.json"});
  CHECK(r.code == 0);
  CHECK(contains(r.out, "published key"));
  CHECK(contains(r.out, "dry run: keystore not changed"));
  CHECK(stek::test::read_file("ks.json") == before);
}

TEST_CASE("stekctl rotate --now and --revoke-current") {
  generate();
  const auto first = load().keys[0].id.hex();
  SUBCASE("now") {
    const auto r = run_cli({"rotate", "--now", "--at", "2026-11-28T16:00:00Z", "ks.json"});
    REQUIRE(r.code == 0);
    CHECK(contains(r.out, "key " + first + " stopped encrypting"));
    const auto ks = load();
    const auto now = *stek::parse_time("2026-11-28T16:00:00Z");
    CHECK(ks.encrypting_key(now)->not_before == now);
    CHECK(ks.find(*stek::KeyId::from_hex(first))->state_at(now) ==
          stek::KeyState::decrypt_only);
  }
  SUBCASE("revoke current") {
    const auto r = run_cli({"rotate", "--revoke-current", "key file leaked",
                            "--at", "2026-11-28T16:00:00Z", "ks.json"});
    REQUIRE(r.code == 0);
    CHECK(contains(r.out, "revoked key " + first));
    const auto ks = load();
    const auto* old = ks.find(*stek::KeyId::from_hex(first));
    REQUIRE(old->revoked);
    CHECK(old->revoked->reason == "key file leaked");
  }
  SUBCASE("empty reason") {
    CHECK(run_cli({"rotate", "--revoke-current", "", "ks.json"}).code == 2);
  }
}

TEST_CASE("stekctl rotate --json reports every change") {
  generate();
  const auto r = run_cli({"rotate", "--json", "--at", "2026-11-29T13:40:00Z", "ks.json"});
  REQUIRE(r.code == 0);
  const auto doc = nlohmann::json::parse(r.out);
  CHECK(doc["changed"] == true);
  CHECK(doc["dry_run"] == false);
  REQUIRE(doc["added"].size() == 1);
  CHECK(doc["added"][0]["not_before"] == "2026-11-29T14:40:00Z");
  REQUIRE(doc["stretched"].size() == 1);
  CHECK(doc["stretched"][0]["old_encrypt_until"] == "2026-11-29T14:00:00Z");
  CHECK(doc["stretched"][0]["new_encrypt_until"] == "2026-11-29T14:40:00Z");
  CHECK(doc["gap"].is_null());
  CHECK(doc["pruned"].empty());
  // Late runs warn on stderr even with --json.
  CHECK(contains(r.err, "stekctl: warning: rotation ran late"));
}

TEST_CASE("stekctl rotate after a long outage closes the gap and says so") {
  generate();
  const auto r = run_cli({"rotate", "--at", "2026-12-02T00:00:00Z", "ks.json"});
  REQUIRE(r.code == 0);
  CHECK(contains(r.err, "no key was encrypting since 2026-11-29T14:00:00Z"));
  CHECK(contains(r.out, "pruned expired key"));
  const auto ks = load();
  CHECK(ks.keys.size() == 1);
  CHECK(ks.encrypting_key(*stek::parse_time("2026-12-02T00:00:00Z")) != nullptr);
}

TEST_CASE("stekctl rotate reports when a revoked key stopped a keystore encrypting") {
  generate();
  const auto current = load().keys[0].id.hex();
  REQUIRE(run_cli({"revoke", "--quiet", "--at", "2026-11-28T15:00:00Z", "ks.json",
                   current, "--reason", "x"})
            .code == 0);
  const auto r = run_cli({"rotate", "--at", "2026-11-28T15:30:00Z", "ks.json"});
  CHECK(contains(r.err, "no key was encrypting since 2026-11-28T15:00:00Z (30m)"));
}

TEST_CASE("stekctl rotate --deploy-hook tells the hook the revoked key") {
  generate();
  const auto current = load().keys[0].id.hex();
  CHECK(run_cli({"rotate", "--quiet", "--revoke-current", "x", "--at",
                 "2026-11-28T15:00:00Z", "--deploy-hook",
                 "echo \"$STEKCTL_KEYS_REVOKED\" > hook.log", "ks.json"})
          .code == 0);
  CHECK(stek::test::read_file("hook.log") == current + "\n");
}

TEST_CASE("stekctl rotate --deploy-hook runs once, only on change") {
  generate();
  const std::string hook =
    "echo \"$STEKCTL_KEYSTORE $STEKCTL_KEYS_ADDED\" >> hook.log";
  CHECK(run_cli({"rotate", "--quiet", "--deploy-hook", hook, "--at",
                 "2026-11-28T15:00:00Z", "ks.json"})
          .code == 0);
  CHECK_FALSE(std::filesystem::exists("hook.log"));
  CHECK(run_cli({"rotate", "--quiet", "--dry-run", "--deploy-hook", hook, "--at",
                 k_due, "ks.json"})
          .code == 0);
  CHECK_FALSE(std::filesystem::exists("hook.log"));
  CHECK(run_cli({"rotate", "--quiet", "--deploy-hook", hook, "--at", k_due, "ks.json"})
          .code == 0);
  const auto ks = load();
  CHECK(stek::test::read_file("hook.log") == "ks.json " + ks.keys[2].id.hex() + "\n");
  CHECK(run_cli({"rotate", "--quiet", "--deploy-hook", hook, "--at", k_due, "ks.json"})
          .code == 0);
  CHECK(stek::test::read_file("hook.log") == "ks.json " + ks.keys[2].id.hex() + "\n");

  SUBCASE("a failing hook is an error, but the keystore was written") {
    const auto r = run_cli({"rotate", "--force", "--deploy-hook", "exit 3",
                            "--at", k_due, "ks.json"});
    CHECK(r.code == 1);
    CHECK(contains(r.err, "deploy hook exited with status 3; the keystore was updated all the same (ks.json)"));
    CHECK(load().keys.size() == 4);
  }
}

TEST_CASE("stekctl rotate refuses a corrupt keystore and leaves it alone") {
  stek::test::write_file("ks.json", "{\"stek_keystore\": 1");
  const auto r = run_cli({"rotate", "--force", "ks.json"});
  CHECK(r.code == 1);
  CHECK(r.err == "stekctl: error: truncated JSON: the file ends before the keystore "
                 "does (ks.json)\n");
  CHECK(stek::test::read_file("ks.json") == "{\"stek_keystore\": 1");
}
