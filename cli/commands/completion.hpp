// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "../context.hpp"

#include <CLI/CLI.hpp>

#include <array>
#include <string>
#include <string_view>

namespace stekctl {

// The shells `stekctl completion` writes scripts for.
inline constexpr std::array<std::string_view, 3> k_completion_shells{"bash", "zsh",
                                                                     "fish"};

struct CompletionOptions {
  std::string shell;
};

void register_completion(CLI::App& app, Dispatch& dispatch);
// Print the completion script for `o.shell`, describing `app` (stekctl's
// whole parser).
stek::Result<void> run_completion(const CompletionOptions& o, const CLI::App& app,
                                  Context& ctx);

} // namespace stekctl
