// SPDX-License-Identifier: Apache-2.0
#pragma once

// Run the real stekctl with its memory bounded and measured: under an
// address-space limit (RLIMIT_AS, set by the shell's ulimit so the process
// helpers of tests/integration are used as they are), and with the peak
// resident size of the child read back through getrusage.

#include "integration/process.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace stek::test::limits {

#if defined(STEK_LIMITS_SANITIZED) || defined(__SANITIZE_ADDRESS__) || \
  defined(__SANITIZE_THREAD__)
inline constexpr bool k_sanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool k_sanitized = true;
#else
inline constexpr bool k_sanitized = false;
#endif
#else
inline constexpr bool k_sanitized = false;
#endif

// The address space a child may map: an allocation sized by a hostile
// length field fails instead of succeeding lazily.
inline constexpr long k_address_space_kib = 1024 * 1024; // 1 GiB
// The peak resident size every run must stay under. Sanitizer runtimes add
// shadow memory and a quarantine of freed blocks.
inline constexpr long k_max_rss_kib = k_sanitized ? 1024 * 1024 : 256 * 1024;

struct BoundedResult {
  ProcessResult process;
  // Peak resident set of the largest child waited for, in KiB.
  long max_rss_kib = 0;
};

// Run `script` with /bin/sh, "$0" being stekctl and "$@" `args`, under the
// address-space limit (none in sanitizer builds).
inline BoundedResult run_shell(const std::string& script,
                               std::vector<std::string> args) {
  std::string limited = script;
  if (!k_sanitized) {
    limited = "ulimit -v " + std::to_string(k_address_space_kib) +
              " || exit 125\n" + script;
  }
  std::vector<std::string> argv{"/bin/sh", "-c", limited, stekctl_path()};
  argv.insert(argv.end(), args.begin(), args.end());
  BoundedResult r;
  r.process = run_process(std::move(argv));
  rusage usage{};
  if (::getrusage(RUSAGE_CHILDREN, &usage) != 0) {
    throw std::runtime_error("getrusage failed");
  }
  r.max_rss_kib = usage.ru_maxrss;
  return r;
}

// Run stekctl with `args`, bounded.
inline BoundedResult bounded(std::vector<std::string> args) {
  return run_shell("exec \"$0\" \"$@\"", std::move(args));
}

// Run stekctl with `args` and standard input read from `path`, bounded.
inline BoundedResult bounded_with_stdin(const std::filesystem::path& path,
                                        std::vector<std::string> args) {
  args.insert(args.begin(), path.string());
  return run_shell("in=$1; shift; exec \"$0\" \"$@\" < \"$in\"",
                   std::move(args));
}

inline std::string describe(const BoundedResult& r) {
  return stek::test::describe(r.process) + "--- peak RSS " +
         std::to_string(r.max_rss_kib) + " KiB ---\n";
}

// Make `path` hold `prefix` and then zeros up to `size` bytes, without
// writing them: a sparse file that claims gigabytes on almost no disk.
inline void sparse_file(const std::filesystem::path& path,
                        const std::string& prefix,
                        std::uintmax_t size,
                        mode_t mode = 0600) {
  write_file(path, prefix, mode);
  std::filesystem::resize_file(path, size);
}

inline constexpr std::uintmax_t k_gib = std::uintmax_t{1} << 30;
inline constexpr std::uintmax_t k_mib = std::uintmax_t{1} << 20;

} // namespace stek::test::limits
