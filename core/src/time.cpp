// SPDX-License-Identifier: Apache-2.0
#include <stek/time.hpp>

#include <array>
#include <charconv>
#include <cstdint>
#include <cstdio>

namespace stek {
namespace {

using namespace std::chrono;

constexpr std::int64_t k_max_duration_seconds = 100LL * 366 * 86400;
// 9999-12-31T23:59:59Z: format_time writes four-digit years only.
constexpr std::int64_t k_max_time_seconds = 253402300799;

// Read exactly `width` decimal digits at `pos`.
bool read_digits(std::string_view text,
                 std::size_t& pos,
                 std::size_t width,
                 int& out) {
  if (pos + width > text.size()) {
    return false;
  }
  int value = 0;
  for (std::size_t i = 0; i < width; ++i) {
    const char c = text[pos + i];
    if (c < '0' || c > '9') {
      return false;
    }
    value = value * 10 + (c - '0');
  }
  pos += width;
  out = value;
  return true;
}

bool expect(std::string_view text, std::size_t& pos, char c) {
  if (pos < text.size() && text[pos] == c) {
    ++pos;
    return true;
  }
  return false;
}

Result<Timestamp> parse_unix_seconds(std::string_view digits) {
  // Digits only: from_chars would also take a minus sign, so "@-0" passed
  // the value >= 0 check below.
  STEK_ENSURE(!digits.empty() && digits.front() >= '0' && digits.front() <= '9',
              Errc::parse, "expected @<unix seconds>");
  std::int64_t value = 0;
  const auto* end = digits.data() + digits.size();
  const auto [ptr, ec] = std::from_chars(digits.data(), end, value);
  STEK_ENSURE(ec == std::errc() && ptr == end && value >= 0, Errc::parse,
              "expected @<unix seconds>");
  STEK_ENSURE(value <= k_max_time_seconds, Errc::parse,
              "time after year 9999");
  return Timestamp(seconds(value));
}

} // namespace

Result<Timestamp> parse_time(std::string_view text) {
  if (!text.empty() && text.front() == '@') {
    return parse_unix_seconds(text.substr(1));
  }
  const auto bad = [&] {
    return fail(Errc::parse,
                "expected an RFC 3339 time such as 2026-11-28T14:00:00Z");
  };
  std::size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!read_digits(text, pos, 4, year) || !expect(text, pos, '-') ||
      !read_digits(text, pos, 2, month) || !expect(text, pos, '-') ||
      !read_digits(text, pos, 2, day)) {
    return bad();
  }
  if (pos >= text.size() ||
      (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ')) {
    return bad();
  }
  ++pos;
  if (!read_digits(text, pos, 2, hour) || !expect(text, pos, ':') ||
      !read_digits(text, pos, 2, minute) || !expect(text, pos, ':') ||
      !read_digits(text, pos, 2, second)) {
    return bad();
  }
  if (expect(text, pos, '.')) {
    const std::size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      ++pos;
    }
    if (pos == start) {
      return bad();
    }
  }
  int offset_seconds = 0;
  if (expect(text, pos, 'Z') || expect(text, pos, 'z')) {
    // UTC.
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const int sign = text[pos] == '+' ? 1 : -1;
    ++pos;
    int off_h = 0, off_m = 0;
    if (!read_digits(text, pos, 2, off_h) || !expect(text, pos, ':') ||
        !read_digits(text, pos, 2, off_m) || off_h > 23 || off_m > 59) {
      return bad();
    }
    offset_seconds = sign * (off_h * 3600 + off_m * 60);
  } else {
    return bad();
  }
  if (pos != text.size()) {
    return bad();
  }
  const year_month_day ymd{std::chrono::year(year),
                           std::chrono::month(static_cast<unsigned>(month)),
                           std::chrono::day(static_cast<unsigned>(day))};
  // RFC 3339 allows a leap second (60); a keystore time has no use for one.
  STEK_ENSURE(ymd.ok() && year >= 1970 && hour <= 23 && minute <= 59 &&
                second <= 59,
              Errc::parse,
              "date or time out of range");
  const auto t = sys_days(ymd) + hours(hour) + minutes(minute) +
                 seconds(second) - seconds(offset_seconds);
  STEK_ENSURE(t.time_since_epoch().count() >= 0, Errc::parse,
              "time before 1970");
  // A negative offset can carry 9999-12-31 past the year's end, to a time
  // format_time would write with a five-digit year that does not parse.
  STEK_ENSURE(t.time_since_epoch().count() <= k_max_time_seconds, Errc::parse,
              "time after year 9999");
  return Timestamp(t);
}

std::string format_time(Timestamp t) {
  const auto day_point = floor<days>(t);
  const year_month_day ymd{day_point};
  const hh_mm_ss hms{t - day_point};
  std::array<char, 32> buffer{};
  std::snprintf(buffer.data(),
                buffer.size(),
                "%04d-%02u-%02uT%02d:%02d:%02dZ",
                static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buffer.data();
}

Result<Duration> parse_duration(std::string_view text) {
  STEK_ENSURE(!text.empty(), Errc::parse,
              "expected a duration such as 90s, 30m, 12h, 1h30m or 7d");
  constexpr std::string_view units = "dhms";
  constexpr std::array<std::int64_t, 4> unit_seconds{86400, 3600, 60, 1};
  std::size_t next_unit = 0;
  std::int64_t total = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      ++pos;
    }
    STEK_ENSURE(pos > start && pos < text.size(), Errc::parse,
                "expected a duration such as 90s, 30m, 12h, 1h30m or 7d");
    std::int64_t value = 0;
    const auto [ptr, ec] =
      std::from_chars(text.data() + start, text.data() + pos, value);
    STEK_ENSURE(ec == std::errc() && value <= k_max_duration_seconds,
                Errc::parse, "duration too long");
    const auto unit = units.find(text[pos], next_unit);
    STEK_ENSURE(unit != std::string_view::npos, Errc::parse,
                "unknown or repeated duration unit (use d, h, m, s in order)");
    total += value * unit_seconds[unit];
    STEK_ENSURE(total <= k_max_duration_seconds, Errc::parse,
                "duration too long (at most 100 years)");
    next_unit = unit + 1;
    ++pos;
  }
  return Duration(total);
}

std::string format_duration(Duration d) {
  std::int64_t s = d.count();
  std::string out;
  if (s < 0) {
    out = "-";
    s = -s;
  }
  if (s >= 2 * 86400 && s % 86400 == 0) {
    return out + std::to_string(s / 86400) + "d";
  }
  if (s == 0) {
    return "0s";
  }
  if (const auto h = s / 3600; h > 0) {
    out += std::to_string(h) + "h";
  }
  if (const auto m = s % 3600 / 60; m > 0) {
    out += std::to_string(m) + "m";
  }
  if (const auto rest = s % 60; rest > 0) {
    out += std::to_string(rest) + "s";
  }
  return out;
}

Timestamp SystemClock::now() const {
  return floor<seconds>(system_clock::now());
}

} // namespace stek
