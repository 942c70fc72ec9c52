// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "../context.hpp"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <string>

namespace stekctl {

struct RevokeOptions {
  std::filesystem::path keystore;
  std::string key_id;
  std::string reason;
};

void register_revoke(CLI::App& app, Dispatch& dispatch);
stek::Result<void> run_revoke(const RevokeOptions& options, Context& ctx);

} // namespace stekctl
