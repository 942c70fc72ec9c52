// SPDX-License-Identifier: Apache-2.0
#include <stek/rotation.hpp>

#include <stek/crypto.hpp>

#include <algorithm>

namespace stek {
namespace {

// A key takes part in the schedule if it is not revoked and encrypts for a
// non-empty window. Revoked keys never fill a window.
bool in_schedule(const Key& key) {
  return !key.is_revoked() && key.not_before < key.encrypt_until;
}

// Return the first instant at or after `from` at which no scheduled key is
// active. When every window is covered this is the end of the last one.
Timestamp first_uncovered(const Keystore& ks, Timestamp from) {
  std::vector<std::pair<Timestamp, Timestamp>> windows;
  for (const Key& key : ks.keys) {
    if (in_schedule(key) && key.encrypt_until > from) {
      windows.emplace_back(key.not_before, key.encrypt_until);
    }
  }
  std::sort(windows.begin(), windows.end());
  Timestamp cursor = from;
  for (const auto& [start, end] : windows) {
    if (start > cursor) {
      break;
    }
    cursor = std::max(cursor, end);
  }
  return cursor;
}

// Return the last scheduled key that still has encrypting time ahead of
// `now`: the one the next successor follows.
const Key* schedule_tail(const Keystore& ks, Timestamp now) {
  const Key* tail = nullptr;
  for (const Key& key : ks.keys) {
    if (in_schedule(key) && key.encrypt_until > now &&
        (tail == nullptr || encrypts_before(key, *tail))) {
      tail = &key;
    }
  }
  return tail;
}

// Return where the next successor must start: at the first hole in the
// schedule, or one `rotate_every` after the tail started, whichever is
// earlier.
Timestamp next_start(const Keystore& ks, Timestamp now) {
  const Timestamp hole = first_uncovered(ks, now);
  const Key* tail = schedule_tail(ks, now);
  if (tail == nullptr) {
    return hole;
  }
  return std::min(hole, tail->not_before + ks.policy.rotate_every);
}

// How long before its strict deadline (publish_ahead before it starts) a
// successor becomes due. A run from cron comes some time after any given
// instant; publishing a tenth of a rotation period early means a run that
// late still gives the full notice, so stretching stays the exception it
// should be (missed runs), not the rule.
Duration due_margin(const Policy& policy) { return policy.rotate_every / 10; }

// Return when the successor starting at `target` becomes due.
Timestamp due_at(const Policy& policy, Timestamp target) {
  return target - policy.publish_ahead - due_margin(policy);
}

// Make a key with fresh id and material, unique within `ks`.
Result<Key> make_key(const Keystore& ks, Timestamp now, Timestamp not_before) {
  for (;;) {
    STEK_TRY_ASSIGN(auto id, KeyId::random());
    STEK_TRY_ASSIGN(auto material, random_secret(Material::k_size));
    const bool clash =
      std::any_of(ks.keys.begin(), ks.keys.end(), [&](const Key& k) {
        return k.id == id || ct_equal(k.secret_identity(), material.view());
      });
    if (!clash) {
      const Timestamp encrypt_until = not_before + ks.policy.encrypt_for;
      return Key{id,
                 now,
                 not_before,
                 encrypt_until,
                 encrypt_until + ks.policy.decrypt_for,
                 std::nullopt,
                 Material{std::move(material)},
                 std::nullopt,
                 std::nullopt};
    }
  }
}

Result<void> add_key(Keystore& ks,
                     RotationReport& report,
                     Timestamp now,
                     Timestamp not_before) {
  STEK_TRY_ASSIGN(auto key, make_key(ks, now, not_before));
  report.added.push_back(key.id);
  ks.keys.push_back(std::move(key));
  return {};
}

// Extend the scheduled key whose window ends at `hole` so that it reaches
// `until`, moving its decrypt_until by the same amount.
void stretch_to(Keystore& ks,
                RotationReport& report,
                Timestamp hole,
                Timestamp until) {
  Key* target = nullptr;
  for (Key& key : ks.keys) {
    if (in_schedule(key) && key.encrypt_until == hole &&
        (target == nullptr || encrypts_before(key, *target))) {
      target = &key;
    }
  }
  if (target == nullptr) {
    return;
  }
  const Duration delta = until - hole;
  report.stretched.push_back({target->id, target->encrypt_until, until});
  target->encrypt_until = until;
  target->decrypt_until += delta;
}

void prune_expired(Keystore& ks, RotationReport& report, Timestamp now) {
  std::erase_if(ks.keys, [&](const Key& key) {
    if (key.decrypt_until <= now) {
      report.pruned.push_back(key.id);
      return true;
    }
    return false;
  });
}

Result<void> rotate_now(Keystore& ks,
                        RotationReport& report,
                        Timestamp now,
                        const RotateRequest& request) {
  if (Key* current = ks.encrypting_key(now)) {
    if (request.revoke_current) {
      current->revoked = Revocation{now, *request.revoke_current};
      report.revoked = current->id;
    } else {
      current->encrypt_until = now;
      report.stopped = current->id;
    }
  }
  return add_key(ks, report, now, now);
}

// Return when the last key stopped encrypting before `now`: at its
// encrypt_until, or at its revocation if that came first.
std::optional<Timestamp> last_encrypt_end(const Keystore& ks, Timestamp now) {
  std::optional<Timestamp> last;
  for (const Key& key : ks.keys) {
    Timestamp end = key.encrypt_until;
    if (key.revoked) {
      end = std::min(end, key.revoked->at);
    }
    if (key.not_before < end && end <= now) {
      last = std::max(last.value_or(end), end);
    }
  }
  return last;
}

} // namespace

Result<RotationReport> rotate(Keystore& ks,
                              Timestamp now,
                              const RotateRequest& request) {
  STEK_TRY(ks.policy.validate());
  RotationReport report;
  // Read before pruning: the keys that last encrypted may be expired too.
  const auto last_end = last_encrypt_end(ks, now);
  prune_expired(ks, report, now);
  if (request.now || request.revoke_current) {
    STEK_TRY(rotate_now(ks, report, now, request));
  }
  if (first_uncovered(ks, now) == now) {
    // Nothing encrypts: the keystore was left alone longer than a window.
    // Close the gap at once; notice cannot be given for the past.
    report.gap = RotationReport::Gap{last_end};
    STEK_TRY(add_key(ks, report, now, now));
  }
  bool forced = !request.force;
  const Duration notice = ks.policy.publish_ahead;
  // Each pass publishes one successor. The policy bounds how many can be due
  // at once; the cap only guards against a bug turning into a hang.
  for (int pass = 0; pass < 100000; ++pass) {
    const Timestamp target = next_start(ks, now);
    const bool due = due_at(ks.policy, target) <= now;
    if (!due && forced) {
      report.next_due = due_at(ks.policy, target);
      return report;
    }
    forced = true;
    // A late run does not shorten the successor's notice: it stretches the
    // key before the hole instead.
    const Timestamp start = std::max(target, now + notice);
    const Timestamp hole = first_uncovered(ks, now);
    if (start > hole) {
      stretch_to(ks, report, hole, start);
    }
    STEK_TRY(add_key(ks, report, now, start));
  }
  return fail(Errc::invalid_keystore, "rotation did not converge");
}

Result<Keystore> create_keystore(const Policy& policy, Timestamp now) {
  STEK_TRY(policy.validate());
  Keystore ks{policy, {}, std::nullopt};
  RotationReport ignored;
  STEK_TRY(add_key(ks, ignored, now, now));
  RotateRequest request;
  request.force = true;
  STEK_TRY(rotate(ks, now, request));
  return ks;
}

Timestamp next_rotation_due(const Keystore& ks, Timestamp now) {
  return due_at(ks.policy, next_start(ks, now));
}

} // namespace stek
