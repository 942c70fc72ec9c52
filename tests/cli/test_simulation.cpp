// SPDX-License-Identifier: Apache-2.0
// Thirty days of `stekctl rotate` from cron every minute, through the real
// command path (argument parsing, locking, atomic writes), with clock jitter,
// randomly missed runs and two six-hour outages. After every simulated
// minute the invariants of DESIGN.md section 2 are checked against the file.
#include <stek/formats/native_keystore.hpp>

#include "support/cli.hpp"
#include "support/files.hpp"
#include "support/keys.hpp"

#include <doctest/doctest.h>

#include <map>
#include <random>

using namespace std::chrono_literals;
using stek::test::at;
using stek::test::contains;
using stek::test::run_cli;

namespace {

struct KeyHistory {
  stek::Timestamp first_seen;         // run that first wrote it
  std::optional<stek::Timestamp> first_encrypting;
  std::optional<stek::Timestamp> last_encrypting;
};

struct Outage {
  stek::Timestamp from;
  stek::Timestamp until;
  bool contains(stek::Timestamp t) const { return t >= from && t < until; }
};

stek::Keystore load() {
  auto ks = stek::formats::load_native_keystore("ks.json");
  REQUIRE_MESSAGE(ks.ok(), ks.error().message);
  return std::move(ks).value();
}

} // namespace

TEST_CASE("stekctl rotate from cron for 30 days keeps every invariant") {
  const auto t0 = at("2026-12-01T00:00:00Z");
  const stek::Policy policy; // the default: 12h, 1h ahead, 12h, 24h
  REQUIRE(run_cli({"generate", "--quiet", "--at", stek::format_time(t0),
                   "ks.json"})
            .code == 0);
  auto ks = load();

  // Keys start every 12h from t0. Outage A swallows the due point of the
  // key starting at t0+5d but ends before that key is needed, so rotate
  // runs late and must stretch. Outage B covers both the due point and the
  // start of the key at t0+15d, so no key encrypts until cron is back.
  const Outage outage_a{t0 + 120h - 6h, t0 + 120h - 20min};
  const Outage outage_b{t0 + 360h - 2h, t0 + 360h + 4h};
  const std::vector<Outage> outages{outage_a, outage_b};

  std::mt19937 rng(20261128);
  std::uniform_int_distribution<int> jitter(-40, 40);
  std::uniform_int_distribution<int> percent(0, 99);

  std::map<stek::KeyId, KeyHistory> history;
  for (const auto& key : ks.keys) {
    history[key.id].first_seen = t0;
  }
  std::size_t runs = 0, writes = 0, max_keys = 0, gap_minutes = 0;
  std::size_t stretch_warnings = 0, gap_warnings = 0;
  std::optional<stek::Timestamp> gap_since;
  std::optional<stek::Timestamp> gap_closed;

  for (auto minute = t0 + 1min; minute < t0 + 30 * 24h; minute += 1min) {
    const bool down = std::any_of(outages.begin(), outages.end(),
                                  [&](const Outage& o) { return o.contains(minute); });
    // cron fires every minute, a little early or late; 3% of runs are lost.
    if (!down && percent(rng) >= 3) {
      const auto t = minute + std::chrono::seconds(jitter(rng));
      const auto before = stek::test::read_file("ks.json");
      const auto r = run_cli({"rotate", "--quiet", "--at", stek::format_time(t),
                              "ks.json"});
      REQUIRE_MESSAGE(r.code == 0, r.err);
      ++runs;
      if (contains(r.err, "rotation ran late")) {
        ++stretch_warnings;
        CHECK(outage_a.until - 40s <= t);
        CHECK(t < outage_a.until + 3min);
      }
      if (contains(r.err, "no key was encrypting")) {
        ++gap_warnings;
        // Only the outage that outlived a key can leave a gap, and the first
        // run after it closes the gap at once.
        CHECK(outage_b.until - 40s <= t);
        CHECK(t < outage_b.until + 3min);
        REQUIRE(gap_since);
        gap_since.reset();
        gap_closed = t;
      }
      if (stek::test::read_file("ks.json") != before) {
        ++writes;
        ks = load();
        for (const auto& key : ks.keys) {
          if (!history.contains(key.id)) {
            history[key.id].first_seen = t;
          }
        }
      }
      // Right after a run, a key encrypts.
      REQUIRE(ks.encrypting_key(t) != nullptr);
    }

    // The checks for this minute, against the file as it is now.
    max_keys = std::max(max_keys, ks.keys.size());
    const stek::Key* encrypting = ks.encrypting_key(minute);
    if (encrypting == nullptr) {
      ++gap_minutes;
      // From inside the outage until the first run after it.
      CHECK(minute >= outage_b.from);
      CHECK((!gap_closed || minute < *gap_closed));
      gap_since = gap_since.value_or(minute);
      continue;
    }
    auto& h = history[encrypting->id];
    if (!h.first_encrypting) {
      h.first_encrypting = minute;
      const auto notice = encrypting->not_before - h.first_seen;
      // Every key had its notice, except the first and the one that closed
      // the gap.
      const bool exempt = encrypting->id == ks.keys.front().id ||
                          encrypting->not_before == encrypting->created;
      if (!exempt) {
        CHECK(notice >= policy.publish_ahead);
      }
    }
    h.last_encrypting = minute;
    // A ticket minted under any key decrypts for decrypt_for after that key
    // last encrypted.
    for (const auto& [id, past] : history) {
      if (past.last_encrypting &&
          minute < *past.last_encrypting + policy.decrypt_for) {
        const auto* key = ks.find(id);
        CAPTURE(id.hex());
        REQUIRE(key != nullptr);
        CHECK(stek::state_decrypts(key->state_at(minute)));
      }
    }
  }

  MESSAGE("runs: " << runs << ", writes: " << writes << ", keys made: "
                   << history.size() << ", most keys in the file: " << max_keys
                   << ", minutes without an encrypting key: " << gap_minutes);
  // 60 rotations in 30 days, a few extra for the outages.
  CHECK(history.size() >= 60);
  CHECK(history.size() <= 64);
  // The file never grows without bound: active, pending and decrypt-only
  // keys of a 36-hour life, one every 12 hours.
  CHECK(max_keys <= 5);
  CHECK(stretch_warnings == 1);
  CHECK(gap_warnings == 1);
  CHECK(gap_minutes > 0);
  CHECK(gap_minutes <= 2 * 60 + 4 * 60);
}
