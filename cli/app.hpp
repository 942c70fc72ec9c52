// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "completion/model.hpp"
#include "context.hpp"

#include <CLI/CLI.hpp>

#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace stekctl {

// One row of the command table: help, man-page checks and completion read
// it.
struct CommandInfo {
  std::string_view name;
  std::string_view summary;
  void (*register_command)(CLI::App& app, Dispatch& dispatch);
};

// Return every subcommand, in the order help lists them.
std::span<const CommandInfo> command_table();

// What `stekctl completion` describes: the parser run() builds.
completion::Model completion_model();

// Run stekctl with `args` (args[0] is the program name), writing to `out`
// and `err`; `env_now` stands for STEKCTL_NOW. Return the exit status.
int run(const std::vector<std::string>& args,
        std::ostream& out,
        std::ostream& err,
        std::optional<std::string> env_now = std::nullopt);

// Run stekctl as a process: real streams and environment.
int run(int argc, const char* const* argv);

} // namespace stekctl
