// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "app.hpp"

#include <doctest/doctest.h>

#include <filesystem>

#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace stek::test {

struct CliResult {
  int code = -1;
  std::string out;
  std::string err;
};

// Run stekctl in-process with `args` (without the program name).
inline CliResult run_cli(std::vector<std::string> args,
                         std::optional<std::string> env_now = std::nullopt) {
  args.insert(args.begin(), "stekctl");
  std::ostringstream out;
  std::ostringstream err;
  CliResult result;
  result.code = stekctl::run(args, out, err, std::move(env_now));
  result.out = out.str();
  result.err = err.str();
  return result;
}

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

} // namespace stek::test

namespace stek::test {

// Generate ks.json afresh at `when`. doctest re-runs a test case once per
// SUBCASE in the same directory, so set-up must not depend on a clean one.
inline void generate_keystore(const std::string& when = "2026-11-28T14:00:00Z") {
  std::filesystem::remove("ks.json");
  const auto r = run_cli({"generate", "--quiet", "--at", when, "ks.json"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
}

} // namespace stek::test
