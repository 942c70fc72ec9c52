// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stek/time.hpp>

#include <time.h>

namespace stek::detail {

// What providers read on every lookup. Key states change on whole seconds,
// so the coarse clock (the kernel's last tick, read without a syscall or a
// TSC read) is exact enough, and a quarter of a lookup cheaper than
// system_clock::now().
inline Timestamp coarse_now() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME_COARSE, &now);
  return Timestamp(std::chrono::seconds(now.tv_sec));
}

} // namespace stek::detail
