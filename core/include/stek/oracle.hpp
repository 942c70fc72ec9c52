// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stek/result.hpp>
#include <stek/secret.hpp>
#include <stek/time.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>

namespace stek {

// Something that computes HMAC-SHA256 with a key it never lets out: an HSM
// through PKCS#11, or a KMS through its client (AWS KMS GenerateMac). A
// derived keystore's STEKs are its MACs of public inputs
// (stekctl-keystore(5), DERIVED KEYSTORES). Implementations must be safe to
// call from one thread at a time; callers serialize.
class MacOracle {
public:
  // What a MAC is: HMAC-SHA256, so a STEK's 32 bytes of material.
  static constexpr std::size_t k_mac_size = 32;

  virtual ~MacOracle() = default;

  // Return HMAC-SHA256 of `message` under the oracle's key: exactly
  // k_mac_size bytes. Errc::oracle with a message that starts with
  // describe() and says what failed; never a secret (a PIN, the MAC).
  virtual Result<SecretBytes> mac(std::span<const std::uint8_t> message) = 0;

  // A one-line public description for messages, e.g.
  // "pkcs11 oracle (module /usr/lib/softhsm/libsofthsm2.so, token fleet,
  // key stek)" or "command oracle (aws kms generate-mac ...)".
  virtual std::string describe() const = 0;
};

// An HMAC key in a PKCS#11 token. The key must be a secret key that is
// sensitive and not extractable, allowed to sign; the oracle refuses any
// other (an extractable key defeats the point).
struct Pkcs11OracleConfig {
  // Path of the module, e.g. /usr/lib/softhsm/libsofthsm2.so.
  std::string module;
  // The token's label (CKA_LABEL of the token, without padding).
  std::string token;
  // The key's CKA_LABEL.
  std::string key;
  // Where the user PIN comes from: exactly one of a file (first line, no
  // newline needed; must not be readable by group or others) or the name
  // of an environment variable. Never the command line.
  std::optional<std::string> pin_file;
  std::optional<std::string> pin_env;
};

// A program that reads the message on stdin and writes the MAC on stdout,
// e.g. `aws kms generate-mac ... --message fileb:///dev/stdin --query Mac
// --output text`.
struct CommandOracleConfig {
  enum class Output { base64, hex, binary };

  // Run by /bin/sh -c, with the caller's environment.
  std::string command;
  // How stdout spells the MAC; white space anywhere is ignored for base64
  // and hex (so `xxd -p` and wrapped base64 work).
  Output output = Output::base64;
  // A command that runs longer is killed (SIGKILL to its process group)
  // and the call fails.
  Duration timeout = std::chrono::seconds(30);
};

using OracleConfig = std::variant<Pkcs11OracleConfig, CommandOracleConfig>;

// Return the spelling used in keystore files and messages: "pkcs11",
// "command".
std::string_view oracle_type_name(const OracleConfig& config);
// Return "base64", "hex" or "binary".
std::string_view command_output_name(CommandOracleConfig::Output output);

// Return the oracle `config` describes. Opening checks the configuration
// only (Errc::invalid_argument naming the field); it loads no module and
// runs no command. Each mac() call does what it needs, so an oracle that
// fails (module missing, token absent, wrong PIN, command failing) may
// succeed on a later call once the fault is fixed.
Result<std::unique_ptr<MacOracle>> open_oracle(const OracleConfig& config);
Result<std::unique_ptr<MacOracle>> open_pkcs11_oracle(Pkcs11OracleConfig config);
Result<std::unique_ptr<MacOracle>> open_command_oracle(CommandOracleConfig config);

} // namespace stek
