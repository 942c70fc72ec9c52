// SPDX-License-Identifier: Apache-2.0
// Benchmark fixtures: keystores of N keys built with the library's own types.
#pragma once

#include <stek/crypto.hpp>
#include <stek/keystore.hpp>
#include <stek/result.hpp>
#include <stek/time.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

namespace stek::bench {

// The instant fixtures are built for, unless told otherwise.
inline constexpr const char* k_default_at = "2026-01-01T00:00:00Z";

// Return a policy under which a chain of `count` keys one `rotate_every`
// apart are all live (not expired) at the instant the chain is built for:
// rotate every minute, encrypt for a minute, publish a minute ahead, and
// decrypt for 30 days (or longer if `count` minutes need it).
inline Policy chain_policy(std::size_t count) {
  Policy policy;
  policy.rotate_every = std::chrono::minutes(1);
  policy.encrypt_for = std::chrono::minutes(1);
  policy.publish_ahead = std::chrono::minutes(1);
  const Duration needed = std::chrono::minutes(1) *
                            static_cast<std::int64_t>(count) +
                          std::chrono::days(1);
  policy.decrypt_for = std::max<Duration>(std::chrono::days(30), needed);
  policy.sni_binding = true;
  return policy;
}

// Return a keystore of `count` (at least 2) keys with fresh random ids and
// material, chained one `rotate_every` apart so that at `at`: key N-1 is
// active (it started at `at`), key N is its pending successor (published
// `publish_ahead` ahead), and every earlier key is decrypt-only. A plain
// `rotate` at `at` has nothing to do; `rotate --force` adds exactly one key.
inline Result<Keystore> make_chain(std::size_t count, Timestamp at) {
  STEK_ENSURE(count >= 2, Errc::invalid_argument,
              "a fixture needs at least 2 keys (an active key and its "
              "successor)");
  Keystore ks{chain_policy(count), {}, std::nullopt};
  ks.keys.reserve(count);
  const auto last_active = static_cast<std::int64_t>(count) - 2;
  for (std::size_t i = 0; i < count; ++i) {
    const std::int64_t offset = static_cast<std::int64_t>(i) - last_active;
    const Timestamp not_before = at + ks.policy.rotate_every * offset;
    const Timestamp encrypt_until = not_before + ks.policy.encrypt_for;
    STEK_TRY_ASSIGN(auto id, KeyId::random());
    STEK_TRY_ASSIGN(auto material, random_secret(Material::k_size));
    ks.keys.push_back(Key{id,
                          not_before - ks.policy.publish_ahead,
                          not_before,
                          encrypt_until,
                          encrypt_until + ks.policy.decrypt_for,
                          std::nullopt,
                          Material{std::move(material)}, std::nullopt, std::nullopt});
  }
  return ks;
}

} // namespace stek::bench
