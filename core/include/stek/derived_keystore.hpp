// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stek/key.hpp>
#include <stek/oracle.hpp>
#include <stek/result.hpp>
#include <stek/time.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stek {

struct Keystore;
struct Policy;

// Epoch n runs from n * rotate_every to (n + 1) * rotate_every, counted
// from the Unix epoch, so every server computes the same n from the clock
// alone.
using Epoch = std::int64_t;

// What makes a keystore derived: its keys are not in the file but computed,
// one per epoch, as MACs by an oracle of public inputs. The file holds this
// and the policy, and no secret.
struct Derivation {
  // Names the fleet whose servers share keys: 1 to 64 characters of
  // [A-Za-z0-9._-]. One oracle key can serve several fleets; their keys
  // differ.
  std::string fleet;
  // Bumped to get a whole new series of ids and secrets from the same
  // oracle key (after a leak of STEKs) or when moving to a new oracle key.
  std::uint32_t generation = 1;
  OracleConfig oracle;

  // Check the fleet name and the oracle's fields; errors name the field,
  // e.g. "derived.fleet".
  Result<void> validate() const;
  Derivation clone() const { return *this; }
};

// Return the epoch that contains `t` under `policy` (floor division).
Epoch epoch_at(const Policy& policy, Timestamp t);
// Return when epoch `n` starts encrypting.
Timestamp epoch_start(const Policy& policy, Epoch n);

// Return the bytes the oracle MACs for epoch `n`:
//   "stekctl derived STEK v1" 0x00 || u8 len(fleet) || fleet
//   || u32be generation || u64be rotate_every (seconds) || u64be n
// The epoch length is bound in, so that changing it never reuses a STEK
// for another span of time.
std::vector<std::uint8_t>
epoch_mac_input(const Policy& policy, const Derivation& derivation, Epoch n);

// Return epoch `n`'s public key id: the first 16 bytes of
// SHA-256("stekctl derived key id v1" 0x00 || the same fields as above).
// Computable without the oracle, so list and inspect name keys offline.
KeyId epoch_key_id(const Policy& policy, const Derivation& derivation, Epoch n);

// Return epoch `n`'s key with its id, times and `epoch` set and an empty
// secret: created = not_before - publish_ahead, not_before = start,
// encrypt_until = start + encrypt_for, decrypt_until = encrypt_until +
// decrypt_for. For listing and id matching only; it cannot encrypt.
Key epoch_key_public(const Policy& policy, const Derivation& derivation, Epoch n);

// Return epoch `n`'s key with its material: one oracle call.
Result<Key> derive_epoch_key(const Policy& policy,
                             const Derivation& derivation,
                             Epoch n,
                             MacOracle& oracle);

// Return the epochs whose keys a server holds at `t`, oldest first: every
// epoch that still decrypts at `t`, and every one already published
// (created <= t).
std::vector<Epoch> epochs_needed_at(const Policy& policy, Timestamp t);

// Return the epoch in [first, last] whose id is `id`, if any.
std::optional<Epoch> find_epoch_by_id(const Policy& policy,
                                      const Derivation& derivation,
                                      const KeyId& id,
                                      Epoch first,
                                      Epoch last);

// Return a plain keystore with the keys of `epochs` derived through
// `oracle` (one call each), in order, for export and for providers.
// Errors from the oracle are returned as they are.
Result<Keystore> materialize(const Keystore& derived,
                             const std::vector<Epoch>& epochs,
                             MacOracle& oracle);

} // namespace stek
