// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stek/derived_keystore.hpp>
#include <stek/key.hpp>
#include <stek/result.hpp>
#include <stek/time.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace stek {

// How a keystore rotates. Every key lives `encrypt_for` as an encrypting key
// and `decrypt_for` after that; a successor starts every `rotate_every` and is
// published `publish_ahead` before it starts.
struct Policy {
  Duration rotate_every = std::chrono::hours(12);
  Duration publish_ahead = std::chrono::hours(1);
  Duration encrypt_for = std::chrono::hours(12);
  Duration decrypt_for = std::chrono::hours(24);
  bool sni_binding = true;

  // Check the durations fit together; errors name the field, e.g.
  // "policy.encrypt_for".
  Result<void> validate() const;
};

// The keys of one keystore file, in file order, and its policy.
struct Keystore {
  Policy policy;
  std::vector<Key> keys;
  // Set for a derived keystore: `keys` is then empty in the file, and the
  // keys of each epoch come from the oracle (stek/derived_keystore.hpp).
  std::optional<Derivation> derivation;

  bool is_derived() const { return derivation.has_value(); }

  // Check every key and the invariants between keys: valid secret sizes,
  // non-zero secrets, times in order, unique ids, unique secrets. Errors name
  // the key (position and id) and the field.
  Result<void> validate() const;

  // Return the key that encrypts at `t`: the active key with the latest
  // `not_before` (ties: later `created`, then larger id), or null.
  const Key* encrypting_key(Timestamp t) const;
  Key* encrypting_key(Timestamp t);

  // Return the key with `id`, or null.
  const Key* find(const KeyId& id) const;
  Key* find(const KeyId& id);

  // Return the index of the key whose hex id starts with `prefix` (see
  // check_key_id_prefix): Errc::not_found or Errc::ambiguous otherwise.
  Result<std::size_t> find_by_prefix(std::string_view prefix) const;

  Keystore clone() const;
};

// Check that `prefix` can name a key: 4 to 32 hex digits, either case;
// Errc::invalid_argument otherwise.
Result<void> check_key_id_prefix(std::string_view prefix);

// Describe key `index` for error messages: "key #3 (id 0a1b...)".
std::string describe_key(const Keystore& keystore, std::size_t index);

// Return true if `a` is preferred over `b` as the encrypting key when both
// are active (later not_before, then later created, then larger id).
bool encrypts_before(const Key& a, const Key& b);

// What `revoke_key` did.
enum class RevokeOutcome { revoked, already_revoked };

// Mark the key at `index` revoked at `at` with `reason` (non-empty).
Result<RevokeOutcome> revoke_key(Keystore& keystore,
                                 std::size_t index,
                                 Timestamp at,
                                 std::string reason);

} // namespace stek
