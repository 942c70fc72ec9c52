// SPDX-License-Identifier: Apache-2.0
#pragma once

// Checks shared by the parts of the native keystore reader: each error
// names where in the file the field sits.
#include "field_name.hpp"

#include <stek/result.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <initializer_list>
#include <string>
#include <string_view>

namespace stek::formats::detail {

using nlohmann::json;

// Where in the keystore a field sits, for error messages.
struct Place {
  std::string what; // "policy", "key #3 (id ...)", "top level"
};

inline Error field_error(const Place& place,
                  std::string_view field,
                  std::string_view problem) {
  return fail(Errc::invalid_keystore,
              place.what + ": \"" + std::string(field) + "\" " +
                std::string(problem));
}

inline Result<void> only_fields(const json& object,
                         const Place& place,
                         std::initializer_list<std::string_view> allowed) {
  for (const auto& [name, value] : object.items()) {
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      return fail(Errc::invalid_keystore,
                  place.what + ": unknown field " + quoted_field_name(name));
    }
  }
  return {};
}

inline Result<const json*> required(const json& object,
                             const Place& place,
                             std::string_view field,
                             json::value_t type,
                             std::string_view type_name) {
  const auto it = object.find(field);
  STEK_ENSURE(it != object.end(), Errc::invalid_keystore,
              field_error(place, field, "is missing").message);
  // Integers parse as unsigned or signed; both count as a number here.
  const bool type_ok =
    it->type() == type || (type == json::value_t::number_unsigned &&
                           it->type() == json::value_t::number_integer);
  STEK_ENSURE(type_ok, Errc::invalid_keystore,
              field_error(place, field,
                          "must be " + std::string(type_name))
                .message);
  return &*it;
}

} // namespace stek::formats::detail
