// SPDX-License-Identifier: Apache-2.0
// The keystore a server's provider sees between two rotations, shared by
// stek_provider_bench and stek_reload_latency.
#pragma once

#include <stek/crypto.hpp>
#include <stek/keystore.hpp>
#include <stek/result.hpp>
#include <stek/time.hpp>

#include <chrono>
#include <utility>

namespace stek::bench {

// Return the 4 keys `stekctl rotate` keeps under the default policy at
// `now`: the previous key decrypt-only, the current one encrypting (for
// another 11 hours), two successors pending. Built around the real clock
// because the provider under test reads the system clock on every lookup,
// as it does in a server.
inline Result<Keystore> serving_keystore(Timestamp now, bool sni_binding) {
  using std::chrono::hours;
  Keystore ks;
  ks.policy.sni_binding = sni_binding;
  for (int i = -1; i <= 2; ++i) {
    const Timestamp not_before = now - hours(1) + hours(12) * i;
    const Timestamp encrypt_until = not_before + ks.policy.encrypt_for;
    STEK_TRY_ASSIGN(auto id, KeyId::random());
    STEK_TRY_ASSIGN(auto material, random_secret(Material::k_size));
    ks.keys.push_back(Key{id,
                          now - hours(24),
                          not_before,
                          encrypt_until,
                          encrypt_until + ks.policy.decrypt_for,
                          std::nullopt,
                          Material{std::move(material)},
                          std::nullopt,
                          std::nullopt});
  }
  STEK_TRY(ks.validate());
  return ks;
}

// Return the system clock as the provider reads it (whole seconds).
inline Timestamp system_now() {
  return std::chrono::floor<std::chrono::seconds>(
    std::chrono::system_clock::now());
}

} // namespace stek::bench
