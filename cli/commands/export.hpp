// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "../context.hpp"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <optional>
#include <string>

namespace stekctl {

struct ExportOptions {
  std::filesystem::path keystore;
  std::string format;
  std::string out;
  std::optional<std::string> sni;
  std::optional<std::string> config_dir;
  // k8s-secret only; unset means its default.
  std::optional<std::string> secret_of;
  std::optional<std::string> secret_name;
  std::optional<std::string> secret_namespace;
  std::optional<std::string> deploy_hook;
};

void register_export(CLI::App& app, Dispatch& dispatch);
stek::Result<void> run_export(const ExportOptions& options, Context& ctx);

} // namespace stekctl
