// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stek/result.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace stek {

// An absolute UTC instant with one-second resolution, as keystores store it.
using Timestamp = std::chrono::sys_seconds;
// A span of time with one-second resolution.
using Duration = std::chrono::seconds;

// Parse an RFC 3339 date-time: `2026-11-28T14:00:00Z`, with a `+hh:mm` or
// `-hh:mm` offset, `t`/space as separator and fractional seconds (dropped)
// also accepted; or `@<unix seconds>`. Years 1970 to 9999.
Result<Timestamp> parse_time(std::string_view text);
// Format as `YYYY-MM-DDTHH:MM:SSZ`.
std::string format_time(Timestamp t);

// Parse a duration written as a sequence of `<number><unit>` with units
// d, h, m, s in that order, e.g. `90s`, `12h`, `1h30m`, `7d`. At most 100
// years.
Result<Duration> parse_duration(std::string_view text);
// Format canonically: whole days of two or more as `Nd`, anything else in
// h, m and s, so `24h` stays `24h` and `7d` stays `7d`; zero is `0s`.
std::string format_duration(Duration d);

// A source of the current time, injected into long-lived users such as
// providers; commands take the instant they act at as a Timestamp.
class Clock {
public:
  virtual ~Clock() = default;
  // Return the current instant.
  virtual Timestamp now() const = 0;
};

// The system's real-time clock.
class SystemClock final : public Clock {
public:
  Timestamp now() const override;
};

} // namespace stek
