// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <CLI/CLI.hpp>

namespace stekctl {

// Accept a duration such as 90s, 12h, 1h30m or 7d.
CLI::Validator duration_validator();

} // namespace stekctl
