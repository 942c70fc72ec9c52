// SPDX-License-Identifier: Apache-2.0
// What every process test starts from: a keystore generated at a fixed time
// under the default policy.
#pragma once

#include "process.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <string>

namespace stek::test {

// The default policy: rotate every 12h, publish 1h ahead, encrypt for 12h,
// decrypt for 24h. Generated at k_t0, the keystore holds key 1 (active,
// 14:00 to 02:00) and key 2 (pending, 02:00 to 14:00). Key 3 starts at
// 2026-11-29T14:00:00Z and is due 1h (publish_ahead) + 1h12m (a tenth of
// rotate_every) before: at 11:48.
inline constexpr const char* k_t0 = "2026-11-28T14:00:00Z";
inline constexpr const char* k_due = "2026-11-29T11:48:00Z";
inline constexpr const char* k_after_due = "2026-11-29T11:49:00Z";
inline constexpr const char* k_before_due = "2026-11-29T11:47:59Z";
inline constexpr const char* k_ks = "ks.json";

// Generate a keystore at k_t0 with the real binary and return the file as
// JSON.
inline nlohmann::json generate(const std::string& path = k_ks) {
  const auto r = stekctl({"--at", k_t0, "generate", path});
  REQUIRE_MESSAGE(r.code == 0, describe(r));
  auto doc = load_json_file(path);
  REQUIRE(doc.is_object());
  REQUIRE(doc.at("keys").size() == 2);
  return doc;
}

} // namespace stek::test
