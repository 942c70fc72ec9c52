// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "../context.hpp"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <cstdint>
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

  // --derive: a derived keystore whose keys an oracle computes per epoch.
  bool derive = false;
  std::optional<std::string> fleet;
  std::uint32_t generation = 1;
  std::optional<std::string> pkcs11_module;
  std::optional<std::string> pkcs11_token;
  std::optional<std::string> pkcs11_key;
  std::optional<std::string> pkcs11_pin_file;
  std::optional<std::string> pkcs11_pin_env;
  std::optional<std::string> oracle_command;
  std::string oracle_output = "base64";
  std::string oracle_timeout = "30s";
  bool no_oracle_check = false;
};

void register_generate(CLI::App& app, Dispatch& dispatch);
stek::Result<void> run_generate(const GenerateOptions& options, Context& ctx);

} // namespace stekctl
