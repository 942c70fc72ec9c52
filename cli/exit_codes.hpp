// SPDX-License-Identifier: Apache-2.0
#pragma once

namespace stekctl {

// Exit statuses of stekctl(1); `check` adds its own (commands/check.hpp),
// documented in stekctl-check(1).
enum ExitCode : int {
  k_exit_ok = 0,
  k_exit_failure = 1, // operational error: bad file, I/O, crypto, lock
  k_exit_usage = 2,   // the command line itself is wrong
};

} // namespace stekctl
