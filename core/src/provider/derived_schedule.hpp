// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stek/derived_keystore.hpp>
#include <stek/keystore.hpp>
#include <stek/time.hpp>

#include <chrono>
#include <cstdint>
#include <vector>

namespace stek::detail {

// When a DerivedProvider calls the oracle: pure functions of the policy and
// a random number, so the schedule can be checked without threads.

// The span before an epoch starts in which it is fetched: publish_ahead, or
// if that is 0, a tenth of rotate_every but at most a minute (and at least a
// second), so that a key is in memory before it starts encrypting.
Duration fetch_window(const Policy& policy);

// The moment epoch `n` is fetched: uniform over the first half of its fetch
// window, [start(n) - W, start(n) - W/2), picked with `random`. The spread
// keeps a fleet from calling the oracle at once; the second half is left
// for retries before the key is needed.
Timestamp fetch_moment(const Policy& policy, Epoch n, std::uint64_t random);

// How far ahead of running out the provider warns: publish_ahead, or a
// tenth of rotate_every if that is 0.
Duration run_out_warning(const Policy& policy);

// The delay before retry number `failures` (1 after the first failure):
// `first` doubled per failure up to `cap`, times a factor in [0.8, 1.2)
// from `random`, rounded up to whole seconds and at least one.
Duration retry_delay(std::chrono::milliseconds first,
                     std::chrono::milliseconds cap,
                     std::uint64_t failures,
                     std::uint64_t random);

// Put `epochs` in the order they are fetched when several are due at once:
// `current` first (it encrypts), then the older ones newest first (they
// decrypt tickets clients hold), then the newer ones oldest first.
std::vector<Epoch> fetch_order(std::vector<Epoch> epochs, Epoch current);

} // namespace stek::detail
