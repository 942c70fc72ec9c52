// SPDX-License-Identifier: Apache-2.0
#pragma once

// Quoting for the generated scripts: every name and description goes in
// quotes, so no help text can become shell code.
#include <string>
#include <string_view>
#include <vector>

namespace stekctl::completion {

// 'text' for sh, bash and zsh: a ' inside becomes '\''.
inline std::string sh_quote(std::string_view text) {
  std::string out = "'";
  for (const char c : text) {
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  return out + "'";
}

// 'text' for fish, where \ and ' are escaped inside single quotes.
inline std::string fish_quote(std::string_view text) {
  std::string out = "'";
  for (const char c : text) {
    if (c == '\\' || c == '\'') {
      out += '\\';
    }
    out += c;
  }
  return out + "'";
}

inline std::string join(const std::vector<std::string>& words, std::string_view sep = " ") {
  std::string out;
  for (const auto& word : words) {
    if (!out.empty()) {
      out += sep;
    }
    out += word;
  }
  return out;
}

} // namespace stekctl::completion
