// SPDX-License-Identifier: Apache-2.0
// parse_time and parse_duration on any text, and their formatters. Keystore
// times and policy durations are written by format_* and read back by
// parse_*, so whatever parses must format to text that parses to the same
// value (and formats the same again), and accepted values must stay inside
// the documented ranges: 1970 to 9999 for times, 0 to 100 years for
// durations. The first 8 bytes, read as a number and folded into those
// ranges, also go the other way round: format, then parse.
#include <stek/time.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace {

// 9999-12-31T23:59:59Z, the last time parse_time documents.
constexpr std::int64_t k_max_time = 253402300799;
// parse_duration's limit: 100 years of 366 days.
constexpr std::int64_t k_max_duration = 100LL * 366 * 86400;

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "time_parsing: %s: %s\n", what, detail.c_str());
  std::abort();
}

void check_time(stek::Timestamp t, const char* origin) {
  const std::int64_t seconds = t.time_since_epoch().count();
  if (seconds < 0 || seconds > k_max_time) {
    fail(origin, "time out of range: " + std::to_string(seconds));
  }
  const std::string text = stek::format_time(t);
  const auto again = stek::parse_time(text);
  if (!again.ok() || *again != t) {
    fail(origin, "format_time gave \"" + text + "\", which does not parse back");
  }
  if (stek::format_time(*again) != text) {
    fail(origin, "format_time not stable for \"" + text + "\"");
  }
}

void check_duration(stek::Duration d, const char* origin) {
  if (d.count() < 0 || d.count() > k_max_duration) {
    fail(origin, "duration out of range: " + std::to_string(d.count()));
  }
  const std::string text = stek::format_duration(d);
  const auto again = stek::parse_duration(text);
  if (!again.ok() || *again != d) {
    fail(origin,
         "format_duration gave \"" + text + "\", which does not parse back");
  }
  if (stek::format_duration(*again) != text) {
    fail(origin, "format_duration not stable for \"" + text + "\"");
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  if (const auto t = stek::parse_time(text); t.ok()) {
    // `@` takes plain decimal digits only, as documented: no sign.
    if (text.front() == '@' &&
        text.find_first_not_of("0123456789", 1) != std::string_view::npos) {
      fail("parse_time", "accepted \"" + std::string(text) + "\"");
    }
    check_time(*t, "parse_time");
  } else if (t.error().code != stek::Errc::parse || t.error().message.empty()) {
    fail("parse_time", "error without Errc::parse and a message");
  }

  if (const auto d = stek::parse_duration(text); d.ok()) {
    check_duration(*d, "parse_duration");
  } else if (d.error().code != stek::Errc::parse || d.error().message.empty()) {
    fail("parse_duration", "error without Errc::parse and a message");
  }

  if (size >= sizeof(std::uint64_t)) {
    std::uint64_t raw = 0;
    std::memcpy(&raw, data, sizeof raw);
    check_time(stek::Timestamp(std::chrono::seconds(
                 static_cast<std::int64_t>(raw % (static_cast<std::uint64_t>(k_max_time) + 1)))),
               "format_time");
    check_duration(stek::Duration(
                     static_cast<std::int64_t>(raw % (static_cast<std::uint64_t>(k_max_duration) + 1))),
                   "format_duration");
  }
  return 0;
}
