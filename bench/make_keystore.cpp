// SPDX-License-Identifier: Apache-2.0
// stek_bench_fixture: write a valid native keystore of N keys for
// benchmarks.
//
//   stek_bench_fixture [--at TIME] COUNT PATH
//
// The keys are chained one minute apart (rotate every 1m, encrypt for 1m,
// publish 1m ahead, decrypt for 30d) so that at TIME (RFC 3339 or
// @unix-seconds, default 2026-01-01T00:00:00Z) all COUNT keys are live: one
// active, its pending successor, the rest decrypt-only. `stekctl --at TIME
// rotate PATH` then has nothing to do and `rotate --force` adds one key.
// Ids and material are fresh random bytes. PATH is replaced atomically
// (mode 0600).

#include "fixture.hpp"

#include <stek/formats/native_keystore.hpp>

#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace {

int usage(std::string_view problem) {
  std::cerr << "stek_bench_fixture: error: " << problem << "\n"
            << "usage: stek_bench_fixture [--at TIME] COUNT PATH\n";
  return 2;
}

int run(const std::vector<std::string_view>& args) {
  std::string_view at_text = stek::bench::k_default_at;
  std::vector<std::string_view> positional;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--at") {
      if (i + 1 >= args.size()) {
        return usage("--at needs a TIME");
      }
      at_text = args[++i];
    } else if (args[i] == "-h" || args[i] == "--help") {
      std::cout << "usage: stek_bench_fixture [--at TIME] COUNT PATH\n";
      return 0;
    } else {
      positional.push_back(args[i]);
    }
  }
  if (positional.size() != 2) {
    return usage("expected COUNT and PATH");
  }
  std::size_t count = 0;
  const auto count_text = positional[0];
  const auto [end, ec] = std::from_chars(
    count_text.data(), count_text.data() + count_text.size(), count);
  if (ec != std::errc() || end != count_text.data() + count_text.size()) {
    return usage("COUNT must be a whole number");
  }
  const auto at = stek::parse_time(at_text);
  if (!at) {
    return usage("invalid --at: " + at.error().message);
  }
  auto keystore = stek::bench::make_chain(count, *at);
  if (!keystore) {
    return usage(keystore.error().message);
  }
  const std::filesystem::path path{std::string(positional[1])};
  if (auto saved = stek::formats::save_native_keystore(path, *keystore);
      !saved) {
    std::cerr << "stek_bench_fixture: error: " << saved.error().message
              << "\n";
    return 1;
  }
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args;
  for (int i = 1; i < argc; ++i) {
    args.emplace_back(argv[i]);
  }
  return run(args);
}
