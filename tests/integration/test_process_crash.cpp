// SPDX-License-Identifier: Apache-2.0
// Crash safety of the real binary: rotate killed with SIGKILL at random
// moments leaves either the old keystore or the new one, never a mix, and no
// temporary files that later runs trip over.

#include "fixture.hpp"

#include "support/files.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

using nlohmann::json;
using stek::test::describe;
using stek::test::read_file;
using stek::test::stekctl;
using stek::test::k_t0;
using stek::test::k_ks;

namespace {

constexpr int k_min_runs = 200;
constexpr int k_max_runs = 400;

const std::vector<std::string>& rotate_args() {
  static const std::vector<std::string> args = {"--quiet", "--at", k_t0,
                                                "rotate", "--force", k_ks};
  return args;
}

// Return how long an uninterrupted `rotate --force` takes here, the median
// of a few runs on a copy of the keystore.
std::chrono::microseconds time_one_rotation() {
  std::filesystem::copy_file(k_ks, "calibrate.json");
  std::vector<std::chrono::microseconds> times;
  for (int i = 0; i < 5; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const auto r =
      stekctl({"--quiet", "--at", k_t0, "rotate", "--force", "calibrate.json"});
    const auto end = std::chrono::steady_clock::now();
    REQUIRE_MESSAGE(r.code == 0, describe(r));
    times.push_back(
      std::chrono::duration_cast<std::chrono::microseconds>(end - start));
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

std::map<std::string, json> keys_by_id(const json& keystore) {
  std::map<std::string, json> out;
  for (const auto& key : keystore.at("keys")) {
    out.emplace(key.at("id").get<std::string>(), key);
  }
  return out;
}

// Check that `after` is `before` plus exactly one new key, every old key
// unchanged.
void check_one_key_added(const json& before, const json& after) {
  REQUIRE_MESSAGE(after.is_object(), "the keystore does not parse");
  CHECK(after.at("stek_keystore") == before.at("stek_keystore"));
  CHECK(after.at("policy") == before.at("policy"));
  const auto old_keys = keys_by_id(before);
  const auto new_keys = keys_by_id(after);
  REQUIRE(after.at("keys").size() == before.at("keys").size() + 1);
  REQUIRE(new_keys.size() == after.at("keys").size());
  std::size_t added = 0;
  for (const auto& [id, key] : new_keys) {
    const auto old = old_keys.find(id);
    if (old == old_keys.end()) {
      ++added;
    } else {
      CHECK(key == old->second);
    }
  }
  CHECK(added == 1);
}

} // namespace

TEST_CASE("stekctl rotate killed by SIGKILL leaves the old or the new keystore") {
  const stek::test::ScratchDir scratch;
  {
    const auto r = stekctl({"--at", k_t0, "generate", k_ks});
    REQUIRE_MESSAGE(r.code == 0, describe(r));
  }
  const auto typical = time_one_rotation();
  // Kill anywhere from before exec to a little after a normal run ends.
  const auto longest = typical * 6 / 5;
  const auto seed = std::random_device()();
  std::mt19937 random(seed);
  std::uniform_int_distribution<long> delay_us(0, longest.count());
  MESSAGE("an uninterrupted rotate takes " << typical.count()
          << " us; killing after 0 to " << longest.count()
          << " us; seed " << seed);

  int unchanged = 0;       // killed before the rename
  int killed_changed = 0;  // killed after the rename
  int completed = 0;       // finished before the kill
  int left_temporary = 0;  // killed while writing the temporary
  int runs = 0;
  for (; runs < k_max_runs; ++runs) {
    if (runs >= k_min_runs && unchanged > 0 && killed_changed + completed > 0) {
      break;
    }
    const auto old_bytes = read_file(k_ks);
    const auto old_doc = stek::test::parse_json(old_bytes);
    REQUIRE(old_doc.is_object());

    auto process = stek::test::start_stekctl(rotate_args());
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us(random)));
    process.kill(SIGKILL);
    const auto r = process.wait();
    const bool killed = r.signal == SIGKILL;
    INFO("run " << runs << ": " << describe(r));
    if (!killed) {
      REQUIRE(r.code == 0);
    }

    const auto new_bytes = read_file(k_ks);
    if (new_bytes == old_bytes) {
      // A run that finished must have written.
      REQUIRE(killed);
      ++unchanged;
    } else {
      check_one_key_added(old_doc, stek::test::parse_json(new_bytes));
      ++(killed ? killed_changed : completed);
    }
    CHECK(stek::test::file_mode(k_ks) == 0600);

    // stekctl itself still accepts the file.
    const auto list = stekctl({"--json", "--at", k_t0, "list", k_ks});
    REQUIRE_MESSAGE(list.code == 0, describe(list));
    REQUIRE(stek::test::parse_json(list.out).at("keys").size() ==
            stek::test::parse_json(new_bytes).at("keys").size());

    // A killed run leaves at most its own temporary: each writer removes
    // its predecessors' under the lock.
    const auto temporaries = stek::test::temporaries_of(k_ks);
    REQUIRE(temporaries.size() <= 1);
    if (!temporaries.empty()) {
      ++left_temporary;
    }
  }

  MESSAGE(runs << " runs: " << unchanged << " left the old keystore, "
          << killed_changed + completed << " the new one (" << killed_changed
          << " killed after the rename, " << completed
          << " finished first); " << left_temporary
          << " left a temporary file behind");
  CHECK(runs >= k_min_runs);
  CHECK(unchanged >= 1);
  CHECK(killed_changed + completed >= 1);

  // One more run, left alone, cleans up.
  const auto before = stek::test::load_json_file(k_ks);
  const auto last = stekctl(rotate_args());
  REQUIRE_MESSAGE(last.code == 0, describe(last));
  check_one_key_added(before, stek::test::load_json_file(k_ks));
  CHECK(stek::test::temporaries_of(k_ks).empty());
  CHECK(stek::test::load_json_file(k_ks).at("keys").size() ==
        static_cast<std::size_t>(2 + killed_changed + completed + 1));
}
