// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "../context.hpp"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <string>

namespace stekctl {

struct CheckOptions {
  std::filesystem::path keystore;
  bool prometheus = false;
  bool probe_oracle = false;
  std::string grace = "1h";
};

// Exit statuses of `stekctl check` beyond 0, 1 and 2 (stekctl-check(1)).
inline constexpr int k_exit_check_warning = 3;
inline constexpr int k_exit_check_critical = 4;

void register_check(CLI::App& app, Dispatch& dispatch);
stek::Result<void> run_check(const CheckOptions& options, Context& ctx);

} // namespace stekctl
