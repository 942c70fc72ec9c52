// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "../context.hpp"

#include <CLI/CLI.hpp>

#include <filesystem>

namespace stekctl {

struct ListOptions {
  std::filesystem::path keystore;
};

void register_list(CLI::App& app, Dispatch& dispatch);
stek::Result<void> run_list(const ListOptions& options, Context& ctx);

} // namespace stekctl
