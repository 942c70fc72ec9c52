// SPDX-License-Identifier: Apache-2.0
#include <stek/rotation.hpp>

#include "support/keys.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace std::chrono_literals;
using stek::KeyState;
using stek::test::at;

namespace {

// Check invariant 1: some key encrypts at every instant of
// [now, now + publish_ahead]. Encrypting keys only change at window edges,
// so checking `now` and every edge inside the range covers all instants.
void check_covered(const stek::Keystore& ks, stek::Timestamp now) {
  const auto end = now + ks.policy.publish_ahead;
  std::vector<stek::Timestamp> instants{now, end};
  for (const auto& key : ks.keys) {
    for (const auto t : {key.not_before, key.encrypt_until}) {
      if (t >= now && t <= end) {
        instants.push_back(t);
      }
    }
  }
  for (const auto t : instants) {
    CAPTURE(stek::format_time(t));
    CHECK(ks.encrypting_key(t) != nullptr);
  }
}

const stek::Key& added(const stek::Keystore& ks,
                       const stek::RotationReport& report,
                       std::size_t i = 0) {
  REQUIRE(report.added.size() > i);
  const auto* key = ks.find(report.added[i]);
  REQUIRE(key != nullptr);
  return *key;
}

} // namespace

TEST_CASE("stek::create_keystore") {
  const auto t0 = at("2026-11-28T12:00:00Z");
  auto ks = stek::create_keystore(stek::Policy{}, t0);
  REQUIRE(ks.ok());
  REQUIRE(ks->keys.size() == 2);
  CHECK(ks->validate().ok());
  const auto& first = ks->keys[0];
  const auto& next = ks->keys[1];
  CHECK(first.state_at(t0) == KeyState::active);
  CHECK(ks->encrypting_key(t0) == &first);
  CHECK(first.encrypt_until == t0 + 12h);
  CHECK(first.decrypt_until == t0 + 36h);
  CHECK(next.state_at(t0) == KeyState::pending);
  CHECK(next.not_before == first.encrypt_until);
  CHECK(next.decrypt_until == next.encrypt_until + 24h);
  check_covered(*ks, t0);

  SUBCASE("an invalid policy is refused") {
    stek::Policy bad;
    bad.encrypt_for = 1h;
    CHECK_FALSE(stek::create_keystore(bad, t0).ok());
  }
}

TEST_CASE("stek::rotate when nothing is due changes nothing") {
  const auto t0 = at("2026-11-28T12:00:00Z");
  auto ks = std::move(stek::create_keystore(stek::Policy{}, t0)).value();
  // The third key starts at t0+24h; it is due publish_ahead (1h) plus a
  // tenth of rotate_every (72min) before that.
  const auto due = t0 + 24h - 1h - 72min;
  CHECK(stek::next_rotation_due(ks, t0) == due);
  for (const auto t : {t0, t0 + 12h, due - 1s}) {
    auto report = stek::rotate(ks, t);
    REQUIRE(report.ok());
    CHECK_FALSE(report->changed());
    CHECK(report->next_due == due);
    CHECK(ks.keys.size() == 2);
  }
}

TEST_CASE("stek::rotate publishes a successor exactly publish_ahead ahead") {
  const auto t0 = at("2026-11-28T12:00:00Z");
  auto ks = std::move(stek::create_keystore(stek::Policy{}, t0)).value();
  const auto due = t0 + 24h - 1h - 72min;
  auto report = stek::rotate(ks, due);
  REQUIRE(report.ok());
  REQUIRE(report->added.size() == 1);
  const auto& key = added(ks, *report);
  CHECK(key.not_before == t0 + 24h);
  CHECK(key.not_before - key.created == ks.policy.publish_ahead + 72min);
  CHECK(key.encrypt_until == t0 + 36h);
  CHECK(key.decrypt_until == t0 + 60h);
  CHECK(report->stretched.empty());
  CHECK_FALSE(report->gap);
  CHECK(report->next_due == t0 + 36h - 1h - 72min);
  check_covered(ks, due);
  // Running again at once is a no-op.
  CHECK_FALSE(stek::rotate(ks, due)->changed());
}

TEST_CASE("stek::rotate prunes keys exactly at decrypt_until") {
  const auto t0 = at("2026-11-28T12:00:00Z");
  auto ks = std::move(stek::create_keystore(stek::Policy{}, t0)).value();
  const auto first = ks.keys[0].id;
  REQUIRE(stek::rotate(ks, t0 + 23h)->added.size() == 1);
  auto before = stek::rotate(ks, t0 + 36h - 1s);
  CHECK(before->pruned.empty());
  auto at_end = stek::rotate(ks, t0 + 36h);
  REQUIRE(at_end->pruned.size() == 1);
  CHECK(at_end->pruned[0] == first);
  CHECK(ks.find(first) == nullptr);
  CHECK(at_end->changed());
}

TEST_CASE("stek::rotate run late stretches instead of shortening notice") {
  const auto t0 = at("2026-11-28T12:00:00Z");
  auto ks = std::move(stek::create_keystore(stek::Policy{}, t0)).value();
  const auto second = ks.keys[1].id;
  // Due at t0+21h48m; run 40 minutes before the second key stops
  // encrypting, when even the strict deadline (t0+23h) has passed.
  const auto late = t0 + 24h - 40min;
  auto report = stek::rotate(ks, late);
  REQUIRE(report.ok());
  const auto& key = added(ks, *report);
  CHECK(key.not_before == late + 1h);
  REQUIRE(report->stretched.size() == 1);
  CHECK(report->stretched[0].id == second);
  CHECK(report->stretched[0].old_encrypt_until == t0 + 24h);
  CHECK(report->stretched[0].new_encrypt_until == late + 1h);
  const auto* stretched = ks.find(second);
  CHECK(stretched->encrypt_until == late + 1h);
  CHECK(stretched->decrypt_until == t0 + 48h + 20min);
  CHECK(ks.validate().ok());
  check_covered(ks, late);
}

TEST_CASE("stek::rotate closes a gap at once and reports it") {
  const auto t0 = at("2026-11-28T12:00:00Z");
  auto ks = std::move(stek::create_keystore(stek::Policy{}, t0)).value();
  const auto late = t0 + 30h; // both keys stopped encrypting at t0+24h
  REQUIRE(ks.encrypting_key(late) == nullptr);
  auto report = stek::rotate(ks, late);
  REQUIRE(report.ok());
  REQUIRE(report->gap);
  REQUIRE(report->gap->since);
  CHECK(*report->gap->since == t0 + 24h);
  const auto& now_key = added(ks, *report, 0);
  CHECK(now_key.not_before == late);
  CHECK(ks.encrypting_key(late) == &now_key);
  // The first key expired at t0+36h: not yet. The successor is not due.
  CHECK(report->added.size() == 1);
  check_covered(ks, late);

  SUBCASE("an empty keystore reports a gap with no since") {
    stek::Keystore empty;
    auto r = stek::rotate(empty, t0);
    REQUIRE(r->gap);
    CHECK_FALSE(r->gap->since);
    CHECK(empty.keys.size() == 1);
  }
}

TEST_CASE("stek::rotate --force publishes one successor after the tail") {
  const auto t0 = at("2026-11-28T12:00:00Z");
  auto ks = std::move(stek::create_keystore(stek::Policy{}, t0)).value();
  stek::RotateRequest force;
  force.force = true;
  for (int i = 0; i < 5; ++i) {
    auto report = stek::rotate(ks, t0, force);
    REQUIRE(report.ok());
    REQUIRE(report->added.size() == 1);
    CHECK(added(ks, *report).not_before == t0 + 12h * (i + 2));
  }
  CHECK(ks.keys.size() == 7);
  CHECK(ks.validate().ok());

  SUBCASE("when a successor is due anyway, force adds only that one") {
    auto fresh = std::move(stek::create_keystore(stek::Policy{}, t0)).value();
    auto report = stek::rotate(fresh, t0 + 23h, force);
    CHECK(report->added.size() == 1);
  }
}

TEST_CASE("stek::rotate --now and --revoke-current") {
  const auto t0 = at("2026-11-28T12:00:00Z");
  auto ks = std::move(stek::create_keystore(stek::Policy{}, t0)).value();
  const auto first = ks.keys[0].id;
  const auto incident = t0 + 3h;

  SUBCASE("now") {
    stek::RotateRequest now;
    now.now = true;
    auto report = stek::rotate(ks, incident, now);
    REQUIRE(report.ok());
    CHECK(report->stopped == first);
    const auto& key = added(ks, *report);
    CHECK(key.not_before == incident);
    CHECK(ks.encrypting_key(incident) == &key);
    const auto* old = ks.find(first);
    CHECK(old->state_at(incident) == KeyState::decrypt_only);
    // Tickets it minted until now still decrypt for decrypt_for.
    CHECK(old->decrypt_until >= incident + ks.policy.decrypt_for);
  }
  SUBCASE("revoke current") {
    stek::RotateRequest revoke;
    revoke.revoke_current = "leaked in a core dump";
    auto report = stek::rotate(ks, incident, revoke);
    REQUIRE(report.ok());
    CHECK(report->revoked == first);
    const auto* old = ks.find(first);
    CHECK(old->state_at(incident) == KeyState::revoked);
    CHECK(old->revoked->reason == "leaked in a core dump");
    CHECK(ks.encrypting_key(incident)->id == added(ks, *report).id);
    CHECK(ks.validate().ok());
  }
}

TEST_CASE("stek::rotate fills a hole left by a revoked pending key") {
  const auto t0 = at("2026-11-28T12:00:00Z");
  auto ks = std::move(stek::create_keystore(stek::Policy{}, t0)).value();
  stek::RotateRequest force;
  force.force = true;
  REQUIRE(stek::rotate(ks, t0, force).ok()); // third key from t0+24h
  REQUIRE(ks.keys.size() == 3);
  // Revoke the middle key: nothing would encrypt in [t0+12h, t0+24h).
  REQUIRE(stek::revoke_key(ks, 1, t0, "lost").ok());
  CHECK_FALSE(stek::rotate(ks, t0 + 12h - 1h - 72min - 1s)->changed());
  auto report = stek::rotate(ks, t0 + 12h - 1h - 72min);
  REQUIRE(report->added.size() == 1);
  CHECK(added(ks, *report).not_before == t0 + 12h);
  for (auto t = t0; t < t0 + 36h; t += 30min) {
    CAPTURE(stek::format_time(t));
    CHECK(ks.encrypting_key(t) != nullptr);
  }
}

TEST_CASE("stek::rotate with publish_ahead longer than rotate_every") {
  // A fleet that syncs files daily but rotates hourly keeps a day of keys
  // published ahead.
  stek::Policy policy;
  policy.rotate_every = 1h;
  policy.encrypt_for = 1h;
  policy.publish_ahead = 24h;
  policy.decrypt_for = 2h;
  const auto t0 = at("2026-11-28T12:00:00Z");
  auto ks = std::move(stek::create_keystore(policy, t0)).value();
  // No key can have been published a day ahead of a new keystore, so the
  // first one covers that day and its successor follows it.
  REQUIRE(ks.keys.size() == 2);
  CHECK(ks.keys[0].encrypt_until == t0 + 24h);
  CHECK(ks.keys[1].not_before == t0 + 24h);
  check_covered(ks, t0);
  // From then on one key a rotate_every, each published a day ahead.
  for (int hour = 1; hour <= 30; ++hour) {
    const auto t = t0 + std::chrono::hours(hour);
    auto report = stek::rotate(ks, t);
    REQUIRE(report.ok());
    REQUIRE(report->added.size() == 1);
    const auto& key = added(ks, *report);
    CHECK(key.not_before == t + 24h);
    check_covered(ks, t);
  }
  CHECK(ks.keys.size() <= 30);
}

TEST_CASE("stek::rotate with overlapping windows (encrypt_for > rotate_every)") {
  stek::Policy policy;
  policy.rotate_every = 6h;
  policy.encrypt_for = 12h;
  const auto t0 = at("2026-11-28T12:00:00Z");
  auto ks = std::move(stek::create_keystore(policy, t0)).value();
  REQUIRE(ks.keys.size() == 2);
  CHECK(ks.keys[1].not_before == t0 + 6h);
  // At t0+6h both are active; the later one encrypts.
  CHECK(ks.keys[0].state_at(t0 + 6h) == KeyState::active);
  CHECK(ks.encrypting_key(t0 + 6h) == &ks.keys[1]);
  auto report = stek::rotate(ks, t0 + 11h);
  REQUIRE(report->added.size() == 1);
  CHECK(added(ks, *report).not_before == t0 + 12h);
}
