// SPDX-License-Identifier: Apache-2.0
#include "derived_schedule.hpp"

#include <algorithm>

namespace stek::detail {
namespace {

constexpr Duration k_max_default_window = std::chrono::minutes(1);
constexpr Duration k_min_window = std::chrono::seconds(1);

} // namespace

Duration fetch_window(const Policy& policy) {
  if (policy.publish_ahead > Duration::zero()) {
    return policy.publish_ahead;
  }
  return std::clamp(policy.rotate_every / 10, k_min_window,
                    k_max_default_window);
}

Timestamp fetch_moment(const Policy& policy, Epoch n, std::uint64_t random) {
  const Duration window = fetch_window(policy);
  const auto spread = static_cast<std::uint64_t>((window / 2).count());
  const auto offset =
    spread == 0 ? std::int64_t{0} : static_cast<std::int64_t>(random % spread);
  return epoch_start(policy, n) - window + Duration(offset);
}

Duration run_out_warning(const Policy& policy) {
  if (policy.publish_ahead > Duration::zero()) {
    return policy.publish_ahead;
  }
  return std::max(policy.rotate_every / 10, k_min_window);
}

Duration retry_delay(std::chrono::milliseconds first,
                     std::chrono::milliseconds cap,
                     std::uint64_t failures,
                     std::uint64_t random) {
  using std::chrono::milliseconds;
  cap = std::max(cap, milliseconds(1));
  milliseconds delay = std::clamp(first, milliseconds(1), cap);
  for (std::uint64_t i = 1; i < failures && delay < cap; ++i) {
    delay = std::min(delay * 2, cap);
  }
  // A factor in [0.8, 1.2) in thousandths, so that servers that failed
  // together do not retry together.
  const auto per_mille = static_cast<std::int64_t>(800 + random % 400);
  const auto jittered = milliseconds(delay.count() * per_mille / 1000);
  return std::max(std::chrono::ceil<Duration>(jittered), Duration(1));
}

std::vector<Epoch> fetch_order(std::vector<Epoch> epochs, Epoch current) {
  // Sort key: the current epoch, then older ones by distance, then newer
  // ones by distance.
  const auto rank = [current](Epoch n) {
    if (n == current) {
      return std::pair<int, Epoch>{0, 0};
    }
    return n < current ? std::pair<int, Epoch>{1, current - n}
                       : std::pair<int, Epoch>{2, n - current};
  };
  std::sort(epochs.begin(), epochs.end(),
            [&](Epoch a, Epoch b) { return rank(a) < rank(b); });
  return epochs;
}

} // namespace stek::detail
