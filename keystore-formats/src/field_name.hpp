// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <string_view>

namespace stek::formats::detail {

// Return `name` in double quotes if it looks like a field name: 1 to 20
// lower-case letters, digits and underscores, like every field of the
// format. Anything else is replaced by a description in angle brackets. A corrupt keystore may
// carry key material where a name belongs (a pasted secret used as a key),
// and errors must never print it: base64 and hex of a 16-byte secret are
// over 20 characters, and raw bytes are not in that alphabet.
inline std::string quoted_field_name(std::string_view name) {
  const bool plain =
    !name.empty() && name.size() <= 20 &&
    name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string_view::npos;
  if (plain) {
    return "\"" + std::string(name) + "\"";
  }
  return "<a name of " + std::to_string(name.size()) +
         " characters, not shown: it may be key material>";
}

} // namespace stek::formats::detail
