// SPDX-License-Identifier: Apache-2.0
// The real stekctl binary, end to end: generate, list, rotate in all its
// forms, deploy hooks, revoke, the clock override, --version and --json.

#include "fixture.hpp"

#include "support/files.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <regex>
#include <set>

using nlohmann::json;
using stek::test::contains;
using stek::test::describe;
using stek::test::file_mode;
using stek::test::format_utc;
using stek::test::parse_utc;
using stek::test::ProcessOptions;
using stek::test::ProcessResult;
using stek::test::read_file;
using stek::test::stekctl;
using stek::test::k_t0;
using stek::test::k_due;
using stek::test::k_after_due;
using stek::test::k_before_due;
using stek::test::k_ks;
using stek::test::generate;

namespace {

// Return `list --json` at `at`, parsed.
json list_json(const std::string& at) {
  const auto r = stekctl({"--json", "--at", at, "list", k_ks});
  REQUIRE_MESSAGE(r.code == 0, describe(r));
  auto doc = stek::test::parse_json(r.out);
  REQUIRE_MESSAGE(doc.is_object(), r.out);
  return doc;
}

// Return the entry of `list --json` output for key `id`.
json listed_key(const json& listing, const std::string& id) {
  for (const auto& key : listing.at("keys")) {
    if (key.at("id") == id) {
      return key;
    }
  }
  FAIL("key " << id << " is not listed");
  return {};
}

// Return the key entries of a keystore file by id.
std::map<std::string, json> keys_by_id(const json& keystore) {
  std::map<std::string, json> out;
  for (const auto& key : keystore.at("keys")) {
    out.emplace(key.at("id").get<std::string>(), key);
  }
  return out;
}

// Return the one key of `after` whose id is not in `before`.
json added_key(const json& before, const json& after) {
  const auto old_keys = keys_by_id(before);
  std::vector<json> added;
  for (const auto& key : after.at("keys")) {
    if (old_keys.count(key.at("id").get<std::string>()) == 0) {
      added.push_back(key);
    }
  }
  REQUIRE(added.size() == 1);
  return added.front();
}

std::string id_of(const json& keystore, std::size_t index) {
  return keystore.at("keys").at(index).at("id").get<std::string>();
}

} // namespace

TEST_CASE("stekctl generate creates a private keystore with an active key and a pending successor") {
  const stek::test::ScratchDir scratch;
  const auto r = stekctl({"--at", k_t0, "generate", k_ks});
  REQUIRE_MESSAGE(r.code == 0, describe(r));
  CHECK(r.err.empty());
  CHECK(file_mode(k_ks) == 0600);
  const auto doc = stek::test::load_json_file(k_ks);
  REQUIRE(doc.is_object());
  CHECK(doc.at("stek_keystore") == 1);
  CHECK(doc.at("policy") == json{{"rotate_every", "12h"},
                                 {"publish_ahead", "1h"},
                                 {"encrypt_for", "12h"},
                                 {"decrypt_for", "24h"},
                                 {"sni_binding", true}});
  REQUIRE(doc.at("keys").size() == 2);
  const auto& first = doc.at("keys").at(0);
  const auto& second = doc.at("keys").at(1);
  CHECK(first.at("not_before") == k_t0);
  CHECK(first.at("encrypt_until") == "2026-11-29T02:00:00Z");
  CHECK(second.at("not_before") == "2026-11-29T02:00:00Z");
  CHECK(first.at("id") != second.at("id"));
  CHECK(first.at("material") != second.at("material"));
  CHECK(r.out.starts_with("created keystore ks.json\n"));
  CHECK(contains(r.out, first.at("id").get<std::string>()));
  CHECK(contains(r.out, second.at("id").get<std::string>()));

  SUBCASE("refuses to overwrite without --force") {
    const auto before = read_file(k_ks);
    const auto again = stekctl({"--at", k_t0, "generate", k_ks});
    CHECK(again.code == 1);
    CHECK(again.err.starts_with("stekctl: error: keystore already exists"));
    CHECK(read_file(k_ks) == before);
  }
}

TEST_CASE("stekctl list prints a table and JSON with exactly the contract fields") {
  const stek::test::ScratchDir scratch;
  const auto ks = generate();
  const auto id1 = id_of(ks, 0);
  const auto id2 = id_of(ks, 1);

  const auto table = stekctl({"--at", k_t0, "list", k_ks});
  REQUIRE_MESSAGE(table.code == 0, describe(table));
  CHECK(table.err.empty());
  const auto header = table.out.substr(0, table.out.find('\n'));
  CHECK(std::regex_match(header,
                         std::regex("ID +STATE +ENCRYPTING +NOT BEFORE +"
                                    "ENCRYPT UNTIL +DECRYPT UNTIL +NOTE")));
  // The encrypting key first, its successor after; aligned columns.
  CHECK(std::regex_search(
    table.out, std::regex("\n" + id2 + " +pending +no +2026-11-29T02:00:00Z +"
                          "2026-11-29T14:00:00Z +2026-11-30T14:00:00Z\n")));
  CHECK(std::regex_search(
    table.out, std::regex("\n" + id1 + " +active +yes +2026-11-28T14:00:00Z +"
                          "2026-11-29T02:00:00Z +2026-11-30T02:00:00Z\n")));
  CHECK(contains(table.out, "next rotation due 2026-11-29T11:48:00Z (in 21h48m)\n"));

  const auto listing = list_json(k_t0);
  CHECK(listing.at("keystore") == k_ks);
  CHECK(listing.at("now") == k_t0);
  REQUIRE(listing.at("keys").is_array());
  REQUIRE(listing.at("keys").size() == 2);
  const std::set<std::string> contract_fields{
    "id",         "state",         "encrypting",
    "created",    "not_before",    "encrypt_until",
    "decrypt_until", "origin",     "revoked"};
  for (const auto& key : listing.at("keys")) {
    std::set<std::string> fields;
    for (const auto& item : key.items()) {
      fields.insert(item.key());
    }
    CHECK(fields == contract_fields);
  }
  const auto file_keys = keys_by_id(ks);
  for (const auto& key : listing.at("keys")) {
    const auto& stored = file_keys.at(key.at("id").get<std::string>());
    for (const char* field :
         {"created", "not_before", "encrypt_until", "decrypt_until"}) {
      CHECK(key.at(field) == stored.at(field));
    }
    CHECK(key.at("origin").is_null());
    CHECK(key.at("revoked").is_null());
  }
  CHECK(listed_key(listing, id1).at("state") == "active");
  CHECK(listed_key(listing, id1).at("encrypting") == true);
  CHECK(listed_key(listing, id2).at("state") == "pending");
  CHECK(listed_key(listing, id2).at("encrypting") == false);

  // At 02:00 the successor takes over.
  const auto later = list_json("2026-11-29T02:00:00Z");
  CHECK(listed_key(later, id1).at("state") == "decrypt-only");
  CHECK(listed_key(later, id1).at("encrypting") == false);
  CHECK(listed_key(later, id2).at("state") == "active");
  CHECK(listed_key(later, id2).at("encrypting") == true);
}

TEST_CASE("stekctl rotate when nothing is due leaves the file byte-identical") {
  const stek::test::ScratchDir scratch;
  generate();
  const auto before = read_file(k_ks);
  const auto inode = stek::test::inode_of(k_ks);
  const auto r = stekctl({"--at", k_before_due, "rotate", k_ks});
  REQUIRE_MESSAGE(r.code == 0, describe(r));
  CHECK(r.out == "nothing to do; next rotation due 2026-11-29T11:48:00Z (in 1s)\n");
  CHECK(r.err.empty());
  CHECK(read_file(k_ks) == before);
  // Not rewritten, not even with the same bytes.
  CHECK(stek::test::inode_of(k_ks) == inode);
  CHECK(list_json(k_before_due).at("next_rotation_due") == k_due);
  CHECK(stek::test::temporaries_of(k_ks).empty());
}

TEST_CASE("stekctl rotate when due publishes a successor with full notice") {
  const stek::test::ScratchDir scratch;
  const auto before = generate();
  const auto r = stekctl({"--at", k_after_due, "rotate", k_ks});
  REQUIRE_MESSAGE(r.code == 0, describe(r));
  CHECK(r.err.empty());
  const auto after = stek::test::load_json_file(k_ks);
  REQUIRE(after.is_object());
  REQUIRE(after.at("keys").size() == 3);
  // The old keys are untouched.
  const auto after_keys = keys_by_id(after);
  for (const auto& key : before.at("keys")) {
    CHECK(after_keys.at(key.at("id").get<std::string>()) == key);
  }
  const auto added = added_key(before, after);
  const auto id = added.at("id").get<std::string>();
  // It follows the previous tail (key 2) by rotate_every ...
  const auto tail_start = parse_utc(before.at("keys").at(1).at("not_before"));
  const auto start = parse_utc(added.at("not_before"));
  CHECK(start == tail_start + std::chrono::hours(12));
  CHECK(added.at("created") == k_after_due);
  // ... with at least publish_ahead of notice.
  CHECK(start - parse_utc(added.at("created")) >= std::chrono::hours(1));
  CHECK(added.at("encrypt_until") ==
        format_utc(start + std::chrono::hours(12)));
  CHECK(added.at("decrypt_until") ==
        format_utc(start + std::chrono::hours(12 + 24)));
  CHECK(file_mode(k_ks) == 0600);
  CHECK(r.out == "published key " + id +
                   ": pending, encrypts 2026-11-29T14:00:00Z to "
                   "2026-11-30T02:00:00Z, decrypts until 2026-12-01T02:00:00Z\n"
                   "wrote ks.json; next rotation due 2026-11-29T23:48:00Z "
                   "(in 11h59m)\n");

  SUBCASE("a second run at the same instant changes nothing") {
    const auto bytes = read_file(k_ks);
    const auto inode = stek::test::inode_of(k_ks);
    const auto again = stekctl({"--at", k_after_due, "rotate", k_ks});
    CHECK(again.code == 0);
    CHECK(again.out.starts_with("nothing to do; "));
    CHECK(read_file(k_ks) == bytes);
    CHECK(stek::test::inode_of(k_ks) == inode);
  }
}

TEST_CASE("stekctl rotate --now makes a new key encrypt at once") {
  const stek::test::ScratchDir scratch;
  const auto before = generate();
  const auto old_id = id_of(before, 0);
  constexpr const char* at = "2026-11-28T19:00:00Z";
  const auto r = stekctl({"--at", at, "rotate", "--now", k_ks});
  REQUIRE_MESSAGE(r.code == 0, describe(r));
  const auto after = stek::test::load_json_file(k_ks);
  REQUIRE(after.at("keys").size() == 3);
  const auto added = added_key(before, after);
  const auto new_id = added.at("id").get<std::string>();
  CHECK(added.at("not_before") == at);
  CHECK(keys_by_id(after).at(old_id).at("encrypt_until") == at);
  // The old key keeps decrypting as long as before.
  CHECK(keys_by_id(after).at(old_id).at("decrypt_until") ==
        before.at("keys").at(0).at("decrypt_until"));

  const auto listing = list_json(at);
  CHECK(listed_key(listing, new_id).at("state") == "active");
  CHECK(listed_key(listing, new_id).at("encrypting") == true);
  CHECK(listed_key(listing, old_id).at("state") == "decrypt-only");
  CHECK(listed_key(listing, old_id).at("encrypting") == false);
  CHECK(contains(r.out, "published key " + new_id + ": active, encrypts " +
                          at + " to "));
  CHECK(contains(r.out, "key " + old_id +
                          " stopped encrypting; it still decrypts\n"));
}

TEST_CASE("stekctl rotate --revoke-current revokes the encrypting key and replaces it") {
  const stek::test::ScratchDir scratch;
  const auto before = generate();
  const auto old_id = id_of(before, 0);
  constexpr const char* at = "2026-11-28T19:00:00Z";
  const auto r = stekctl(
    {"--at", at, "rotate", "--revoke-current", "key leaked in core dump", k_ks});
  REQUIRE_MESSAGE(r.code == 0, describe(r));
  const auto after = stek::test::load_json_file(k_ks);
  REQUIRE(after.at("keys").size() == 3);
  const auto new_id = added_key(before, after).at("id").get<std::string>();
  CHECK(keys_by_id(after).at(old_id).at("revoked") ==
        json{{"at", at}, {"reason", "key leaked in core dump"}});

  const auto listing = list_json(at);
  const auto old_key = listed_key(listing, old_id);
  CHECK(old_key.at("state") == "revoked");
  CHECK(old_key.at("encrypting") == false);
  CHECK(old_key.at("revoked") ==
        json{{"at", at}, {"reason", "key leaked in core dump"}});
  CHECK(listed_key(listing, new_id).at("encrypting") == true);
  CHECK(listed_key(listing, new_id).at("not_before") == at);
  CHECK(contains(r.out, "revoked key " + old_id + "\n"));
}

TEST_CASE("stekctl rotate --dry-run leaves the file unchanged and says what it would do") {
  const stek::test::ScratchDir scratch;
  generate();
  const auto before = read_file(k_ks);
  const auto inode = stek::test::inode_of(k_ks);

  SUBCASE("text") {
    const auto r = stekctl({"--at", k_after_due, "rotate", "--dry-run", k_ks});
    REQUIRE_MESSAGE(r.code == 0, describe(r));
    CHECK(std::regex_search(
      r.out, std::regex("^published key [0-9a-f]{32}: pending, encrypts "
                        "2026-11-29T14:00:00Z to 2026-11-30T02:00:00Z")));
    CHECK(contains(r.out, "dry run: keystore not changed; next rotation due "));
  }
  SUBCASE("json") {
    const auto r =
      stekctl({"--json", "--at", k_after_due, "rotate", "--dry-run", k_ks});
    REQUIRE_MESSAGE(r.code == 0, describe(r));
    const auto doc = stek::test::parse_json(r.out);
    REQUIRE(doc.is_object());
    CHECK(doc.at("dry_run") == true);
    CHECK(doc.at("changed") == false);
    REQUIRE(doc.at("added").size() == 1);
    CHECK(doc.at("added").at(0).at("not_before") == "2026-11-29T14:00:00Z");
  }
  SUBCASE("--now") {
    const auto r = stekctl({"--at", k_t0, "rotate", "--now", "--dry-run", k_ks});
    REQUIRE_MESSAGE(r.code == 0, describe(r));
    CHECK(contains(r.out, "dry run: keystore not changed"));
  }
  CHECK(read_file(k_ks) == before);
  CHECK(stek::test::inode_of(k_ks) == inode);
  CHECK(stek::test::temporaries_of(k_ks).empty());
}

TEST_CASE("stekctl rotate --deploy-hook runs once, and only when the file changed") {
  const stek::test::ScratchDir scratch;
  const auto before = generate();
  const std::string hook =
    "printf '%s|%s\\n' \"$STEKCTL_KEYSTORE\" \"$STEKCTL_KEYS_ADDED\" >> hook.log";

  // Nothing due: no hook.
  auto r = stekctl({"--at", k_before_due, "rotate", "--deploy-hook", hook, k_ks});
  REQUIRE_MESSAGE(r.code == 0, describe(r));
  CHECK_FALSE(std::filesystem::exists("hook.log"));

  // Dry run: no hook.
  r = stekctl(
    {"--at", k_after_due, "rotate", "--dry-run", "--deploy-hook", hook, k_ks});
  REQUIRE_MESSAGE(r.code == 0, describe(r));
  CHECK_FALSE(std::filesystem::exists("hook.log"));

  // Due: the hook runs once and sees the keystore and the new key.
  r = stekctl({"--at", k_after_due, "rotate", "--deploy-hook", hook, k_ks});
  REQUIRE_MESSAGE(r.code == 0, describe(r));
  const auto after = stek::test::load_json_file(k_ks);
  const auto new_id = added_key(before, after).at("id").get<std::string>();
  CHECK(read_file("hook.log") == "ks.json|" + new_id + "\n");

  // Run again at the same instant: nothing changes, the hook does not run.
  r = stekctl({"--at", k_after_due, "rotate", "--deploy-hook", hook, k_ks});
  REQUIRE_MESSAGE(r.code == 0, describe(r));
  CHECK(read_file("hook.log") == "ks.json|" + new_id + "\n");

  SUBCASE("a failing hook is an error, after the write") {
    const auto bytes = read_file(k_ks);
    const auto failed = stekctl(
      {"--at", k_after_due, "rotate", "--force", "--deploy-hook", "exit 3", k_ks});
    CHECK(failed.code == 1);
    CHECK(failed.err ==
          "stekctl: error: deploy hook exited with status 3; the keystore was "
          "updated all the same (ks.json)\n");
    const auto updated = stek::test::load_json_file(k_ks);
    CHECK(updated.at("keys").size() == 4);
    CHECK(read_file(k_ks) != bytes);
  }
  SUBCASE("under --json the hook's output stays off stdout") {
    const auto with_json = stekctl({"--json", "--at", k_after_due, "rotate",
                                    "--force", "--deploy-hook",
                                    "echo hook says hello", k_ks});
    REQUIRE_MESSAGE(with_json.code == 0, describe(with_json));
    CHECK(stek::test::parse_json(with_json.out).is_object());
    CHECK(contains(with_json.err, "hook says hello"));
  }
}

TEST_CASE("stekctl revoke marks a key revoked by full id or by prefix") {
  const stek::test::ScratchDir scratch;
  const auto ks = generate();
  const auto id1 = id_of(ks, 0);
  const auto id2 = id_of(ks, 1);
  constexpr const char* at = "2026-11-28T15:00:00Z";

  auto r = stekctl({"--at", at, "revoke", k_ks, id2, "--reason", "lost laptop"});
  REQUIRE_MESSAGE(r.code == 0, describe(r));
  CHECK(r.out == "revoked key " + id2 + " at " + at + "\n");
  auto listing = list_json(at);
  CHECK(listed_key(listing, id2).at("state") == "revoked");
  CHECK(listed_key(listing, id2).at("revoked") ==
        json{{"at", at}, {"reason", "lost laptop"}});
  CHECK(listed_key(listing, id1).at("state") == "active");

  // By a prefix, in upper case: the encrypting key, with a warning.
  const std::string prefix = [&] {
    std::string p = id1.substr(0, 8);
    for (char& c : p) {
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return p;
  }();
  r = stekctl({"--at", at, "revoke", k_ks, prefix, "--reason", "incident 7"});
  REQUIRE_MESSAGE(r.code == 0, describe(r));
  CHECK(contains(r.err, "stekctl: warning: key " + id1 +
                          " was the encrypting key"));
  listing = list_json(at);
  CHECK(listed_key(listing, id1).at("state") == "revoked");
  CHECK(listed_key(listing, id1).at("encrypting") == false);
  CHECK(listed_key(listing, id1).at("revoked").at("reason") == "incident 7");

  // Revoking again changes nothing.
  const auto bytes = read_file(k_ks);
  const auto inode = stek::test::inode_of(k_ks);
  r = stekctl({"--at", "2026-11-28T16:00:00Z", "revoke", k_ks, id1, "--reason",
               "again"});
  CHECK(r.code == 0);
  CHECK(r.out == "key " + id1 + " was already revoked at " + at +
                   " (incident 7); nothing changed\n");
  CHECK(read_file(k_ks) == bytes);
  CHECK(stek::test::inode_of(k_ks) == inode);

  // An id that is not there is an error naming it.
  r = stekctl({"--at", at, "revoke", k_ks, std::string(32, '0'), "--reason", "x"});
  CHECK(r.code == 1);
  CHECK(r.err == "stekctl: error: no key with id \"" + std::string(32, '0') +
                   "\" (ks.json)\n");
  CHECK(read_file(k_ks) == bytes);
}

TEST_CASE("stekctl reads the time from STEKCTL_NOW like --at") {
  const stek::test::ScratchDir scratch;
  const auto before = generate();
  ProcessOptions at_t0;
  at_t0.env = {std::string("STEKCTL_NOW=") + k_t0};

  const auto from_env = stekctl({"--json", "list", k_ks}, at_t0);
  const auto from_flag = stekctl({"--json", "--at", k_t0, "list", k_ks});
  REQUIRE(from_env.code == 0);
  CHECK(stek::test::parse_json(from_env.out).at("now") == k_t0);
  CHECK(from_env.out == from_flag.out);

  // Unix seconds work too: 2026-11-28T14:00:00Z.
  ProcessOptions unix_seconds;
  unix_seconds.env = {"STEKCTL_NOW=@1795874400"};
  CHECK(stekctl({"--json", "list", k_ks}, unix_seconds).out == from_flag.out);

  // --at wins over the environment.
  ProcessOptions late;
  late.env = {"STEKCTL_NOW=2030-01-01T00:00:00Z"};
  CHECK(stekctl({"--json", "--at", k_t0, "list", k_ks}, late).out ==
        from_flag.out);

  // rotate acts at the time it is given.
  ProcessOptions due;
  due.env = {std::string("STEKCTL_NOW=") + k_after_due};
  const auto r = stekctl({"rotate", k_ks}, due);
  REQUIRE_MESSAGE(r.code == 0, describe(r));
  const auto added = added_key(before, stek::test::load_json_file(k_ks));
  CHECK(added.at("created") == k_after_due);
}

TEST_CASE("stekctl --version prints the version") {
  const stek::test::ScratchDir scratch;
  const auto r = stekctl({"--version"});
  CHECK(r.code == 0);
  CHECK(std::regex_match(r.out, std::regex("stekctl [0-9]+\\.[0-9]+\\.[0-9]+\n")));
  CHECK(r.err.empty());
}

TEST_CASE("stekctl --json prints one JSON document on stdout for every command") {
  const stek::test::ScratchDir scratch;
  std::vector<std::vector<std::string>> commands = {
    {"--at", k_t0, "generate", k_ks},
    {"--at", k_t0, "list", k_ks},
    {"--at", k_t0, "rotate", k_ks},
    {"--at", k_after_due, "rotate", "--dry-run", k_ks},
    {"--at", k_after_due, "rotate", k_ks},
    {"--at", k_after_due, "rotate", "--force", k_ks},
    {"--at", k_after_due, "rotate", "--now", k_ks},
    {"--at", k_after_due, "rotate", "--revoke-current", "test", k_ks},
    {"--at", k_after_due, "list", k_ks},
  };
  for (auto args : commands) {
    args.insert(args.begin(), "--json");
    const auto r = stekctl(args);
    INFO(args[3] << ": " << describe(r));
    REQUIRE(r.code == 0);
    const auto doc = stek::test::parse_json(r.out);
    REQUIRE(doc.is_object());
    CHECK(doc.at("keystore") == k_ks);
    CHECK(doc.contains("now"));
    CHECK(r.out.ends_with("}\n"));
  }
  const auto ks = stek::test::load_json_file(k_ks);
  const auto id = id_of(ks, 0);
  for (const char* at : {k_after_due, "2026-11-29T12:00:00Z"}) {
    // The second run finds the key already revoked.
    const auto r =
      stekctl({"--json", "--at", at, "revoke", k_ks, id, "--reason", "test"});
    INFO(describe(r));
    REQUIRE(r.code == 0);
    const auto doc = stek::test::parse_json(r.out);
    REQUIRE(doc.is_object());
    CHECK(doc.at("key").at("id") == id);
    CHECK(doc.at("changed") == (std::string(at) == k_after_due));
  }
}

TEST_CASE("stekctl never prints a secret") {
  const stek::test::ScratchDir scratch;
  std::vector<ProcessResult> results;
  std::set<std::string> secrets;
  const auto run = [&](std::vector<std::string> args) {
    auto r = stekctl(std::move(args));
    CHECK_MESSAGE(r.code == 0, describe(r));
    results.push_back(std::move(r));
    for (auto& s : stek::test::secrets_of(stek::test::load_json_file(k_ks))) {
      secrets.insert(std::move(s));
    }
  };
  for (const bool json_output : {false, true}) {
    std::filesystem::remove(k_ks);
    const auto with = [&](std::vector<std::string> args) {
      if (json_output) {
        args.insert(args.begin(), "--json");
      }
      return args;
    };
    run(with({"--at", k_t0, "generate", k_ks}));
    run(with({"--at", k_t0, "list", k_ks}));
    run(with({"--at", k_t0, "rotate", k_ks}));
    run(with({"--at", k_after_due, "rotate", k_ks}));
    run(with({"--at", k_after_due, "rotate", "--force", k_ks}));
    run(with({"--at", k_after_due, "rotate", "--dry-run", "--force", k_ks}));
    run(with({"--at", k_after_due, "rotate", "--now", k_ks}));
    run(with({"--at", k_after_due, "rotate", "--revoke-current", "r", k_ks}));
    const auto ks = stek::test::load_json_file(k_ks);
    run(with({"--at", k_after_due, "revoke", k_ks, id_of(ks, 0), "--reason", "r"}));
    run(with({"--at", k_after_due, "list", k_ks}));
    run(with({"--at", k_after_due, "generate", "--force", k_ks}));
  }
  REQUIRE(secrets.size() >= 10);
  for (const auto& r : results) {
    for (const auto& secret : secrets) {
      REQUIRE(secret.size() == 44);
      CHECK_FALSE(contains(r.out, secret));
      CHECK_FALSE(contains(r.err, secret));
    }
  }
}
