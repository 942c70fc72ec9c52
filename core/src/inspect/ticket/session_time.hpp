// SPDX-License-Identifier: Apache-2.0
// Turn the times sessions store into Timestamps, refusing values outside the
// years 1970 to 9999 that stekctl can print.
#pragma once
#include <stek/time.hpp>

#include <cstdint>
#include <optional>

namespace stek::inspect::detail {

// 9999-12-31T23:59:59Z.
inline constexpr std::int64_t k_max_unix_seconds = 253402300799;

// Return `seconds` since the epoch as a Timestamp, or nullopt if outside
// 1970..9999.
inline std::optional<Timestamp> from_unix_seconds(std::int64_t seconds) {
  if (seconds < 0 || seconds > k_max_unix_seconds) {
    return std::nullopt;
  }
  return Timestamp(Duration(seconds));
}

// Return `nanoseconds` since the epoch (s2n-tls) as a Timestamp, truncated to
// the second.
inline std::optional<Timestamp> from_unix_nanoseconds(std::uint64_t nanoseconds) {
  return from_unix_seconds(static_cast<std::int64_t>(nanoseconds / 1000000000u));
}

} // namespace stek::inspect::detail
