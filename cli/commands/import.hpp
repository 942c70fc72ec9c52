// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "../context.hpp"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace stekctl {

struct ImportOptions {
  std::filesystem::path keystore;
  std::string format;
  std::vector<std::string> files;
};

void register_import(CLI::App& app, Dispatch& dispatch);
stek::Result<void> run_import(const ImportOptions& options, Context& ctx);

} // namespace stekctl
