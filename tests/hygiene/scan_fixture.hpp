// SPDX-License-Identifier: Apache-2.0
#pragma once

// What the secret-scan test cases share: fixed instants (every run says
// --at, so nothing depends on the day the test runs), a deploy hook that
// prints everything it is given, and small file helpers.

#include "hygiene/scan_session.hpp"
#include "integration/process.hpp"
#include "support/files.hpp"

#include <nlohmann/json.hpp>

#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

namespace stek::hygiene {

// The default policy generated at k_t0 holds key 1 (active 14:00 to 02:00)
// and key 2 (pending, 02:00 to 14:00 the next day); key 3 is due at 11:48.
inline constexpr const char* k_t0 = "2026-11-28T14:00:00Z";
inline constexpr const char* k_after_due = "2026-11-29T11:49:00Z";
// Less than publish_ahead before key 2 stops encrypting: rotate stretches it.
inline constexpr const char* k_late = "2026-11-29T13:30:00Z";
// Long after every key of a k_t0 keystore expired: a gap.
inline constexpr const char* k_much_later = "2026-12-09T00:00:00Z";

// A deploy hook that prints its whole environment and its arguments, so
// that a secret handed to a hook shows up in what is scanned.
inline constexpr const char* k_printing_hook =
  "env | sort; printf 'hook argument: %s\\n' \"$0\" \"$@\"";

// Fresh random bytes, for secrets the test chooses itself.
inline Bytes random_bytes(std::size_t n) {
  static std::random_device device;
  Bytes out(n);
  for (auto& b : out) {
    b = static_cast<std::uint8_t>(device() & 0xff);
  }
  return out;
}

inline void write_bytes(const std::string& path,
                        const Bytes& bytes,
                        mode_t mode = 0600) {
  stek::test::write_file(path, std::string(bytes.begin(), bytes.end()), mode);
}

inline void write_text(const std::string& path,
                       const std::string& text,
                       mode_t mode = 0600) {
  stek::test::write_file(path, text, mode);
}

inline nlohmann::json read_json(const std::string& path) {
  return stek::test::load_json_file(path);
}

// The id of the key that encrypts at `at` in `keystore`, from `list --json`
// (a scanned run like any other).
inline std::string encrypting_id(ScanSession& session,
                                 const std::string& keystore,
                                 const std::string& at) {
  const auto r = session.ok({"--json", "--at", at, "list", keystore});
  const auto doc = stek::test::parse_json(r.out);
  REQUIRE(doc.is_object());
  for (const auto& key : doc.at("keys")) {
    if (key.at("encrypting").get<bool>()) {
      return key.at("id").get<std::string>();
    }
  }
  FAIL("no key encrypts at " << at << " in " << keystore);
  return {};
}

// The ids of the keys of `keystore`, in file order.
inline std::vector<std::string> key_ids(const std::string& keystore) {
  std::vector<std::string> out;
  const auto doc = read_json(keystore);
  for (const auto& key : doc.at("keys")) {
    out.push_back(key.at("id").get<std::string>());
  }
  return out;
}

} // namespace stek::hygiene
