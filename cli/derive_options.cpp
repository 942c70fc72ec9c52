// SPDX-License-Identifier: Apache-2.0
#include "derive_options.hpp"

#include "derived_keys.hpp"
#include "options.hpp"
#include "output.hpp"

#include <stek/derived_keystore.hpp>
#include <stek/oracle.hpp>

namespace stekctl {
namespace {

// Replace the keystore's field names in `message` by the options that set
// them: the user typed options, not fields.
std::string name_options(std::string message) {
  for (const auto& [field, option] :
       {std::pair<std::string, std::string>{"\"derived.fleet\"", "--fleet"},
        {"\"derived.generation\"", "--generation"},
        {"\"derived.oracle.module\"", "--pkcs11-module"},
        {"\"derived.oracle.token\"", "--pkcs11-token"},
        {"\"derived.oracle.key\"", "--pkcs11-key"},
        {"\"derived.oracle.command\"", "--oracle-command"},
        {"\"derived.oracle.timeout\"", "--oracle-timeout"},
        {"\"pin_file\"", "--pkcs11-pin-file"},
        {"\"pin_env\"", "--pkcs11-pin-env"},
        {"\"derived.oracle\"", "--derive"},
        {"\"policy.rotate_every\"", "--rotate-every"}}) {
    for (auto at = message.find(field); at != std::string::npos;
         at = message.find(field)) {
      message.replace(at, field.size(), option);
    }
  }
  return message;
}

stek::Result<stek::OracleConfig> oracle_from(const GenerateOptions& o) {
  const bool pkcs11 = o.pkcs11_module.has_value();
  const bool command = o.oracle_command.has_value();
  STEK_ENSURE(pkcs11 != command, stek::Errc::invalid_argument,
              "--derive needs an oracle: either --pkcs11-module (with "
              "--pkcs11-token, --pkcs11-key and a PIN source) or "
              "--oracle-command, not both");
  if (command) {
    STEK_ENSURE(!o.pkcs11_token && !o.pkcs11_key && !o.pkcs11_pin_file &&
                  !o.pkcs11_pin_env,
                stek::Errc::invalid_argument,
                "--pkcs11-* options need --pkcs11-module, not --oracle-command");
    stek::CommandOracleConfig config;
    config.command = *o.oracle_command;
    config.output = o.oracle_output == "hex"      ? stek::CommandOracleConfig::Output::hex
                    : o.oracle_output == "binary" ? stek::CommandOracleConfig::Output::binary
                                                  : stek::CommandOracleConfig::Output::base64;
    config.timeout = *stek::parse_duration(o.oracle_timeout);
    return stek::OracleConfig(std::move(config));
  }
  STEK_ENSURE(o.pkcs11_token && o.pkcs11_key, stek::Errc::invalid_argument,
              "--pkcs11-module needs --pkcs11-token and --pkcs11-key");
  STEK_ENSURE(o.pkcs11_pin_file.has_value() != o.pkcs11_pin_env.has_value(),
              stek::Errc::invalid_argument,
              "--pkcs11-module needs exactly one of --pkcs11-pin-file and "
              "--pkcs11-pin-env; a PIN is never taken on the command line");
  stek::Pkcs11OracleConfig config;
  config.module = *o.pkcs11_module;
  config.token = *o.pkcs11_token;
  config.key = *o.pkcs11_key;
  config.pin_file = o.pkcs11_pin_file;
  config.pin_env = o.pkcs11_pin_env;
  return stek::OracleConfig(std::move(config));
}

} // namespace

void add_derive_options(CLI::App& cmd, GenerateOptions& o) {
  const std::string group = "Derived keystores (keys from an HSM or KMS)";
  cmd.add_flag("--derive", o.derive,
               "Create a derived keystore: each epoch's key is a MAC by an "
               "oracle; the file holds no secret")
    ->group(group);
  cmd.add_option("--fleet", o.fleet,
                 "Name of the fleet sharing these keys (A-Z a-z 0-9 . _ -)")
    ->type_name("NAME")
    ->group(group);
  cmd.add_option("--generation", o.generation,
                 "Start a new series of keys from the same oracle key")
    ->type_name("N")
    ->check(CLI::Range(1u, 4294967295u))
    ->group(group)
    ->capture_default_str();
  cmd.add_option("--pkcs11-module", o.pkcs11_module,
                 "PKCS#11 module (.so) of the HSM")
    ->type_name("FILE")
    ->group(group);
  cmd.add_option("--pkcs11-token", o.pkcs11_token, "Token label")
    ->type_name("LABEL")
    ->group(group);
  cmd.add_option("--pkcs11-key", o.pkcs11_key,
                 "Label of the HMAC key (sensitive, not extractable)")
    ->type_name("LABEL")
    ->group(group);
  cmd.add_option("--pkcs11-pin-file", o.pkcs11_pin_file,
                 "File holding the user PIN (mode 0600)")
    ->type_name("FILE")
    ->group(group);
  cmd.add_option("--pkcs11-pin-env", o.pkcs11_pin_env,
                 "Environment variable holding the user PIN")
    ->type_name("VAR")
    ->group(group);
  cmd.add_option("--oracle-command", o.oracle_command,
                 "Shell command that reads a message on stdin and prints its "
                 "HMAC-SHA256 (e.g. aws kms generate-mac)")
    ->type_name("CMD")
    ->group(group);
  cmd.add_option("--oracle-output", o.oracle_output,
                 "How the command prints the MAC")
    ->check(CLI::IsMember(
      std::vector<std::string>(k_oracle_outputs.begin(), k_oracle_outputs.end())))
    ->type_name("ENCODING")
    ->group(group)
    ->capture_default_str();
  cmd.add_option("--oracle-timeout", o.oracle_timeout,
                 "Kill the command after this long")
    ->check(duration_validator())
    ->group(group)
    ->capture_default_str();
  cmd.add_flag("--no-oracle-check", o.no_oracle_check,
               "Do not call the oracle once to check it works")
    ->group(group);
}

stek::Result<stek::Keystore> make_derived_keystore(const GenerateOptions& o,
                                                   const stek::Policy& policy,
                                                   Context& ctx) {
  STEK_ENSURE(o.fleet.has_value(), stek::Errc::invalid_argument,
              "--derive needs --fleet NAME");
  STEK_TRY_ASSIGN(auto oracle, oracle_from(o));
  stek::Keystore keystore;
  keystore.policy = policy;
  keystore.derivation = stek::Derivation{*o.fleet, o.generation, std::move(oracle)};
  if (auto valid = keystore.validate(); !valid) {
    return stek::fail(stek::Errc::invalid_argument,
                      name_options(valid.error().message));
  }
  if (!o.no_oracle_check) {
    // One call for the epoch that encrypts now: a fleet should not learn
    // of a wrong PIN or a missing permission from its first server.
    const auto n = stek::epoch_at(policy, ctx.now);
    STEK_TRY(derive_keys(keystore, {n}));
  }
  return keystore;
}

void report_derived_created(const GenerateOptions& o,
                            const stek::Keystore& keystore,
                            Context& ctx) {
  const auto schedule = derived_schedule(keystore, ctx.now);
  if (ctx.json) {
    Json doc;
    doc["keystore"] = o.keystore.string();
    doc["now"] = stek::format_time(ctx.now);
    doc["policy"] = policy_json(keystore.policy);
    doc["derived"] = derivation_json(keystore);
    doc["oracle_checked"] = !o.no_oracle_check;
    doc["keys"] = keys_json(schedule, ctx.now);
    print_json(ctx.out, doc);
    return;
  }
  if (!ctx.chatty()) {
    return;
  }
  ctx.out << "created derived keystore " << o.keystore.string() << " for fleet "
          << keystore.derivation->fleet << " (generation "
          << keystore.derivation->generation << ")\n"
          << "oracle: " << oracle_summary(*keystore.derivation)
          << (o.no_oracle_check ? ", not checked\n" : ", checked\n");
  print_key_table(ctx.out, schedule, ctx.now);
}

} // namespace stekctl
