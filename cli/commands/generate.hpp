// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "../context.hpp"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <optional>
#include <string>

namespace stekctl {

struct GenerateOptions {
  std::filesystem::path keystore;
  std::string rotate_every = "12h";
  std::string publish_ahead = "1h";
  // Defaults to rotate_every: each key encrypts until its successor starts.
  std::optional<std::string> encrypt_for;
  std::string decrypt_for = "24h";
  bool no_sni_binding = false;
  bool force = false;
};

void register_generate(CLI::App& app, Dispatch& dispatch);
stek::Result<void> run_generate(const GenerateOptions& options, Context& ctx);

} // namespace stekctl
