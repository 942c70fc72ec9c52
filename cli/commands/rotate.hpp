// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "../context.hpp"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <optional>
#include <string>

namespace stekctl {

struct RotateOptions {
  std::filesystem::path keystore;
  bool force = false;
  bool now = false;
  std::optional<std::string> revoke_current;
  bool dry_run = false;
  std::optional<std::string> deploy_hook;
};

void register_rotate(CLI::App& app, Dispatch& dispatch);
stek::Result<void> run_rotate(const RotateOptions& options, Context& ctx);

} // namespace stekctl
