// SPDX-License-Identifier: Apache-2.0
// Many real stekctl processes rotating one keystore at once: the lock
// serializes them, and none loses another's key.

#include "fixture.hpp"

#include "support/files.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <set>

using nlohmann::json;
using stek::test::describe;
using stek::test::format_utc;
using stek::test::parse_utc;
using stek::test::Process;
using stek::test::ProcessResult;
using stek::test::stekctl;
using stek::test::k_t0;
using stek::test::k_after_due;
using stek::test::k_ks;
using stek::test::generate;

namespace {

// After k_after_due exactly one successor is due; the next only 12h later.
constexpr std::size_t k_processes = 20;

// Start `k_processes` runs of stekctl with `args`, all before waiting for
// any, and return their results.
std::vector<ProcessResult> run_all_at_once(const std::vector<std::string>& args) {
  std::vector<Process> running;
  running.reserve(k_processes);
  for (std::size_t i = 0; i < k_processes; ++i) {
    running.push_back(stek::test::start_stekctl(args));
  }
  std::vector<ProcessResult> results;
  for (auto& p : running) {
    results.push_back(p.wait());
  }
  return results;
}

// Check that the keystore is valid for stekctl itself and return it.
json load_checked() {
  const auto list = stekctl({"--json", "--at", k_after_due, "list", k_ks});
  REQUIRE_MESSAGE(list.code == 0, describe(list));
  REQUIRE(stek::test::parse_json(list.out).is_object());
  auto doc = stek::test::load_json_file(k_ks);
  REQUIRE(doc.is_object());
  return doc;
}

// Check that every key of `before` is in `after`, unchanged.
void check_kept(const json& before, const json& after) {
  for (const auto& old_key : before.at("keys")) {
    std::size_t found = 0;
    for (const auto& key : after.at("keys")) {
      if (key.at("id") == old_key.at("id")) {
        ++found;
        CHECK(key == old_key);
      }
    }
    CHECK_MESSAGE(found == 1, "key " << old_key.at("id") << " was lost");
  }
}

} // namespace

TEST_CASE("stekctl rotate --force from 20 processes at once adds exactly 20 keys") {
  const stek::test::ScratchDir scratch;
  const auto before = generate();
  const auto results = run_all_at_once(
    {"--json", "--at", k_after_due, "rotate", "--force", k_ks});

  std::set<std::string> reported;
  for (const auto& r : results) {
    INFO(describe(r));
    REQUIRE(r.code == 0);
    const auto doc = stek::test::parse_json(r.out);
    REQUIRE(doc.is_object());
    CHECK(doc.at("changed") == true);
    REQUIRE(doc.at("added").size() == 1);
    reported.insert(doc.at("added").at(0).at("id").get<std::string>());
  }
  CHECK(reported.size() == k_processes);

  const auto after = load_checked();
  REQUIRE(after.at("keys").size() == 2 + k_processes);
  std::set<std::string> ids;
  std::set<std::string> secrets;
  std::set<std::string> starts;
  for (const auto& key : after.at("keys")) {
    ids.insert(key.at("id").get<std::string>());
    secrets.insert(key.at("material").get<std::string>());
    starts.insert(key.at("not_before").get<std::string>());
  }
  CHECK(ids.size() == 2 + k_processes);
  CHECK(secrets.size() == 2 + k_processes);
  // The original keys survive unchanged.
  check_kept(before, after);
  // Every reported key is in the file.
  for (const auto& id : reported) {
    CHECK(ids.count(id) == 1);
  }
  // Each run saw the one before it: the successors follow one another,
  // 12h apart, after key 2 (which starts 2026-11-29T02:00:00Z).
  const auto tail = parse_utc(before.at("keys").at(1).at("not_before"));
  for (std::size_t i = 1; i <= k_processes; ++i) {
    CHECK_MESSAGE(starts.count(format_utc(tail + std::chrono::hours(12 * i))) == 1,
                  "no key starts at " << format_utc(tail + std::chrono::hours(12 * i)));
  }
  CHECK(stek::test::temporaries_of(k_ks).empty());
}

TEST_CASE("stekctl rotate from 20 processes at once when one rotation is due adds exactly one key") {
  const stek::test::ScratchDir scratch;
  const auto before = generate();
  const auto results =
    run_all_at_once({"--json", "--at", k_after_due, "rotate", k_ks});

  std::size_t changed = 0;
  for (const auto& r : results) {
    INFO(describe(r));
    REQUIRE(r.code == 0);
    const auto doc = stek::test::parse_json(r.out);
    REQUIRE(doc.is_object());
    if (doc.at("changed") == true) {
      ++changed;
      CHECK(doc.at("added").size() == 1);
    } else {
      CHECK(doc.at("added").empty());
    }
  }
  CHECK(changed == 1);

  const auto after = load_checked();
  REQUIRE(after.at("keys").size() == 3);
  check_kept(before, after);
  std::size_t new_keys = 0;
  for (const auto& key : after.at("keys")) {
    if (key.at("created") == k_after_due) {
      ++new_keys;
      CHECK(key.at("not_before") == "2026-11-29T14:00:00Z");
    }
  }
  CHECK(new_keys == 1);
  CHECK(stek::test::temporaries_of(k_ks).empty());
}
