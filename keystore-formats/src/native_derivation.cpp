// SPDX-License-Identifier: Apache-2.0
#include "native_derivation.hpp"

#include "native_fields.hpp"

#include <stek/time.hpp>

#include <limits>

namespace stek::formats::detail {
namespace {

Result<std::string> string_field(const json& object,
                                 const Place& place,
                                 std::string_view field) {
  STEK_TRY_ASSIGN(const json* value,
                  required(object, place, field, json::value_t::string,
                           "a string"));
  return value->get<std::string>();
}

Result<std::optional<std::string>> optional_string(const json& object,
                                                   const Place& place,
                                                   std::string_view field) {
  if (!object.contains(field)) {
    return std::optional<std::string>();
  }
  STEK_TRY_ASSIGN(auto text, string_field(object, place, field));
  return std::optional<std::string>(std::move(text));
}

Result<OracleConfig> parse_pkcs11(const json& object, const Place& place) {
  STEK_TRY(only_fields(object, place,
                       {"type", "module", "token", "key", "pin_file",
                        "pin_env"}));
  Pkcs11OracleConfig config;
  STEK_TRY_ASSIGN(config.module, string_field(object, place, "module"));
  STEK_TRY_ASSIGN(config.token, string_field(object, place, "token"));
  STEK_TRY_ASSIGN(config.key, string_field(object, place, "key"));
  STEK_TRY_ASSIGN(config.pin_file, optional_string(object, place, "pin_file"));
  STEK_TRY_ASSIGN(config.pin_env, optional_string(object, place, "pin_env"));
  return OracleConfig(std::move(config));
}

Result<OracleConfig> parse_command(const json& object, const Place& place) {
  STEK_TRY(only_fields(object, place, {"type", "command", "output", "timeout"}));
  CommandOracleConfig config;
  STEK_TRY_ASSIGN(config.command, string_field(object, place, "command"));
  STEK_TRY_ASSIGN(auto output, optional_string(object, place, "output"));
  if (output) {
    if (*output == "base64") {
      config.output = CommandOracleConfig::Output::base64;
    } else if (*output == "hex") {
      config.output = CommandOracleConfig::Output::hex;
    } else if (*output == "binary") {
      config.output = CommandOracleConfig::Output::binary;
    } else {
      return field_error(place, "output", "must be base64, hex or binary");
    }
  }
  STEK_TRY_ASSIGN(auto timeout, optional_string(object, place, "timeout"));
  if (timeout) {
    auto parsed = parse_duration(*timeout);
    if (!parsed) {
      return field_error(place, "timeout",
                         "is not a duration: " + parsed.error().message);
    }
    config.timeout = *parsed;
  }
  return OracleConfig(std::move(config));
}

Result<OracleConfig> parse_oracle(const json& derived) {
  STEK_TRY_ASSIGN(const json* object,
                  required(derived, Place{"derived"}, "oracle",
                           json::value_t::object, "an object"));
  const Place place{"derived.oracle"};
  STEK_TRY_ASSIGN(auto type, string_field(*object, place, "type"));
  if (type == "pkcs11") {
    return parse_pkcs11(*object, place);
  }
  if (type == "command") {
    return parse_command(*object, place);
  }
  return field_error(place, "type", "must be \"pkcs11\" or \"command\"");
}

nlohmann::ordered_json oracle_json(const OracleConfig& oracle) {
  nlohmann::ordered_json out;
  out["type"] = std::string(oracle_type_name(oracle));
  if (const auto* p = std::get_if<Pkcs11OracleConfig>(&oracle)) {
    out["module"] = p->module;
    out["token"] = p->token;
    out["key"] = p->key;
    if (p->pin_file) {
      out["pin_file"] = *p->pin_file;
    }
    if (p->pin_env) {
      out["pin_env"] = *p->pin_env;
    }
    return out;
  }
  const auto& c = std::get<CommandOracleConfig>(oracle);
  out["command"] = c.command;
  out["output"] = std::string(command_output_name(c.output));
  out["timeout"] = format_duration(c.timeout);
  return out;
}

} // namespace

Result<Derivation> parse_derivation(const json& value) {
  const Place place{"derived"};
  STEK_ENSURE(value.is_object(), Errc::invalid_keystore,
              "top level: \"derived\" must be an object");
  STEK_TRY(only_fields(value, place, {"fleet", "generation", "oracle"}));
  Derivation derivation;
  STEK_TRY_ASSIGN(derivation.fleet, string_field(value, place, "fleet"));
  if (value.contains("generation")) {
    STEK_TRY_ASSIGN(const json* generation,
                    required(value, place, "generation",
                             json::value_t::number_unsigned,
                             "a positive integer"));
    const bool fits =
      generation->is_number_unsigned() &&
      generation->get<std::uint64_t>() <= std::numeric_limits<std::uint32_t>::max();
    STEK_ENSURE(fits, Errc::invalid_keystore,
                "derived: \"generation\" must be a positive integer below 2^32");
    derivation.generation =
      static_cast<std::uint32_t>(generation->get<std::uint64_t>());
  }
  STEK_TRY_ASSIGN(derivation.oracle, parse_oracle(value));
  return derivation;
}

std::string format_derivation(const Derivation& derivation) {
  nlohmann::ordered_json out;
  out["fleet"] = derivation.fleet;
  out["generation"] = derivation.generation;
  out["oracle"] = oracle_json(derivation.oracle);
  std::string text =
    out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  // Shift every line after the first one level in, under the top level.
  std::string indented;
  indented.reserve(text.size() + 64);
  for (const char c : text) {
    indented += c;
    if (c == '\n') {
      indented += "  ";
    }
  }
  return indented;
}

} // namespace stek::formats::detail
