// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stek/derived_provider.hpp>

namespace stek::detail {

// What tests need of a DerivedProvider beyond its API: a way to make its
// fetching thread follow a clock they moved, without sleeping.
struct DerivedProviderTesting {
  // Wake the fetching thread and return once it has run a whole pass
  // (plan, prune, fetch what is due, warn) that began after this call, so
  // it saw the clock as it is now.
  static void run_pass(DerivedProvider& provider);
};

} // namespace stek::detail
