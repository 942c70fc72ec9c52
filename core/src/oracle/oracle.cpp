// SPDX-License-Identifier: Apache-2.0
#include <stek/oracle.hpp>

namespace stek {

std::string_view oracle_type_name(const OracleConfig& config) {
  return std::holds_alternative<Pkcs11OracleConfig>(config) ? "pkcs11"
                                                           : "command";
}

std::string_view command_output_name(CommandOracleConfig::Output output) {
  switch (output) {
  case CommandOracleConfig::Output::base64:
    return "base64";
  case CommandOracleConfig::Output::hex:
    return "hex";
  case CommandOracleConfig::Output::binary:
    return "binary";
  }
  return "base64";
}

Result<std::unique_ptr<MacOracle>> open_oracle(const OracleConfig& config) {
  if (const auto* pkcs11 = std::get_if<Pkcs11OracleConfig>(&config)) {
    return open_pkcs11_oracle(*pkcs11);
  }
  return open_command_oracle(std::get<CommandOracleConfig>(config));
}

} // namespace stek
