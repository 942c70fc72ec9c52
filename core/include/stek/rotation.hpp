// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stek/keystore.hpp>
#include <stek/result.hpp>
#include <stek/time.hpp>

#include <optional>
#include <string>
#include <vector>

namespace stek {

// What a rotation run is asked to do beyond what is due.
struct RotateRequest {
  // Publish one more successor even if none is due.
  bool force = false;
  // Make a new key encrypt at once (incident response).
  bool now = false;
  // With `now`: also revoke the key that was encrypting, with this reason.
  std::optional<std::string> revoke_current;
};

// Everything a rotation run changed, for reporting.
struct RotationReport {
  struct Stretch {
    KeyId id;
    Timestamp old_encrypt_until;
    Timestamp new_encrypt_until;
  };
  struct Gap {
    // When the last key stopped encrypting, if any key ever did.
    std::optional<Timestamp> since;
  };

  std::vector<KeyId> added;
  std::vector<KeyId> pruned;
  std::vector<Stretch> stretched;
  // The key that stopped encrypting because of `now`.
  std::optional<KeyId> stopped;
  // The key revoked because of `revoke_current`.
  std::optional<KeyId> revoked;
  // Set when no key encrypted at the time of the run.
  std::optional<Gap> gap;
  // When the next successor is due to be published.
  Timestamp next_due;

  bool changed() const {
    return !added.empty() || !pruned.empty() || !stretched.empty() ||
           stopped || revoked;
  }
};

// Bring `keystore` up to date at `now` following its policy and the five
// invariants of the design: prune expired keys, close a gap at once, publish
// every successor that is due (stretching a key rather than shortening a
// successor's notice), and carry out `request`. On error the keystore may be
// partly changed; callers work on a copy or discard it.
Result<RotationReport> rotate(Keystore& keystore,
                              Timestamp now,
                              const RotateRequest& request = {});

// Return a new keystore under `policy`: one key encrypting from `now` and
// its pending successor.
Result<Keystore> create_keystore(const Policy& policy, Timestamp now);

// Return when the next successor is due to be published, from the keys in
// `keystore` at `now`: `publish_ahead` plus a margin of a tenth of
// `rotate_every` before it starts, so a run from cron that comes a little
// after that instant still gives the successor its full notice.
Timestamp next_rotation_due(const Keystore& keystore, Timestamp now);

} // namespace stek
