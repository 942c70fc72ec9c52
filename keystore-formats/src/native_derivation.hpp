// SPDX-License-Identifier: Apache-2.0
#pragma once

// The "derived" section of a native keystore (stekctl-keystore(5),
// DERIVED KEYSTORES): fleet, generation and oracle, no secrets.
#include <stek/derived_keystore.hpp>
#include <stek/result.hpp>

#include <nlohmann/json.hpp>

#include <string>

namespace stek::formats::detail {

// Parse the value of "derived"; errors name the field, e.g.
// "derived.oracle: unknown field \"pin\"".
Result<Derivation> parse_derivation(const nlohmann::json& value);

// Return the "derived" object as JSON text indented for the second level
// of the file, fields in documented order.
std::string format_derivation(const Derivation& derivation);

} // namespace stek::formats::detail
