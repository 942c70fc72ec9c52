// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stek/result.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace stekctl {

// What a deploy hook is told through its environment.
struct HookEnvironment {
  std::filesystem::path keystore;       // STEKCTL_KEYSTORE
  std::vector<std::string> keys_added;   // STEKCTL_KEYS_ADDED, space-separated
  std::vector<std::string> keys_removed; // STEKCTL_KEYS_REMOVED
  std::vector<std::string> keys_revoked; // STEKCTL_KEYS_REVOKED
};

// Run `command` with /bin/sh -c and wait for it. Its stdout goes to our
// stderr when `stdout_to_stderr` (so --json output stays one document).
// Errc::hook_failed if it cannot start or exits non-zero.
stek::Result<void> run_deploy_hook(const std::string& command,
                                   const HookEnvironment& env,
                                   bool stdout_to_stderr);

} // namespace stekctl
