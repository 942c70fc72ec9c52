// SPDX-License-Identifier: Apache-2.0
#include "options.hpp"

#include <stek/time.hpp>

namespace stekctl {

CLI::Validator duration_validator() {
  return CLI::Validator(
    [](std::string& text) -> std::string {
      auto parsed = stek::parse_duration(text);
      return parsed ? std::string() : parsed.error().message;
    },
    "DURATION");
}

} // namespace stekctl
