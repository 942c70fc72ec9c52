// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "../context.hpp"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace stekctl {

struct InspectOptions {
  std::vector<std::string> inputs; // "-" is standard input
  std::optional<std::filesystem::path> keystore;
  std::optional<std::string> sni;
  std::optional<std::filesystem::path> keylog;
  bool summary = false;
};

void register_inspect(CLI::App& app, Dispatch& dispatch);

stek::Result<void> run_inspect(const InspectOptions& options, Context& ctx);

} // namespace stekctl
