// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stek/result.hpp>

#include <string>
#include <utility>
#include <vector>

namespace stekctl {

// STEKCTL_* variables a deploy hook is given, name and value.
using HookVariables = std::vector<std::pair<std::string, std::string>>;

// Return `items` joined by spaces, as hook variables list ids.
std::string join_ids(const std::vector<std::string>& items);

// Run `command` with /bin/sh -c and wait for it, with `variables` added to
// (and replacing any of the same name in) our environment. Its stdout goes
// to our stderr when `stdout_to_stderr` (so --json output stays one
// document). Errc::hook_failed if it cannot start or exits non-zero; the
// message says that `updated` (e.g. "the keystore") at `path` was written
// all the same.
stek::Result<void> run_deploy_hook(const std::string& command,
                                   const HookVariables& variables,
                                   bool stdout_to_stderr,
                                   const std::string& updated,
                                   const std::string& path);

} // namespace stekctl
