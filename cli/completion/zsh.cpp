// SPDX-License-Identifier: Apache-2.0
// The zsh script: _arguments specs for stekctl and each command, with the
// descriptions help prints. Works from $fpath (autoloaded as _stekctl) and
// when sourced after compinit.
#include "model.hpp"
#include "quote.hpp"

#include <sstream>

namespace stekctl::completion {
namespace {

// A description inside an _arguments spec's [...].
std::string bracketed(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '[' || c == ']' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out;
}

// The message and action after an option or argument's ':' ("FMT:(a b)").
std::string action(std::string_view message, ValueKind kind,
                   const std::vector<std::string>& choices) {
  std::string text(message);
  for (auto& c : text) {
    if (c == ':') {
      c = ' ';
    }
  }
  switch (kind) {
  case ValueKind::none:
  case ValueKind::free:
    return text + ": ";
  case ValueKind::file:
    return text + ":_files";
  case ValueKind::directory:
    return text + ":_files -/";
  case ValueKind::choice:
    return text + ":(" + join(choices) + ")";
  case ValueKind::env_var:
    return text + ":_parameters -g \"*export*\"";
  case ValueKind::key_id:
    return text + ":_stekctl_key_ids";
  }
  return text + ": ";
}

// One option as _arguments specs, quoted: '(-q --quiet)'{-q,--quiet}'[...]'.
std::string option_spec(const Option& option) {
  std::string value;
  if (option.kind != ValueKind::none) {
    value = ":" + action(option.value_name, option.kind, option.choices);
  }
  const auto rest = "[" + bracketed(option.description) + "]" + value;
  if (option.names.size() == 1) {
    // "--format=" takes the value in the same word after '=' or in the
    // next one.
    const auto& name = option.names.front();
    return sh_quote(name + (option.kind != ValueKind::none && name.starts_with("--") ? "=" : "") +
                    rest);
  }
  return sh_quote("(" + join(option.names) + ")") + "{" + join(option.names, ",") + "}" +
         sh_quote(rest);
}

std::string specs(const std::vector<Option>& options, const std::string& indent) {
  std::string out;
  for (const auto& option : options) {
    out += indent + option_spec(option) + " \\\n";
  }
  return out;
}

} // namespace

std::string zsh_script(const Model& model) {
  std::ostringstream s;
  s << "#compdef stekctl\n"
       "# zsh completion for stekctl(1), written by `stekctl completion zsh`\n"
       "# (stekctl " STEK_VERSION ").\n"
       "# Install it as _stekctl in a directory of $fpath, e.g.\n"
       "#   stekctl completion zsh > /usr/local/share/zsh/site-functions/_stekctl\n"
       "# or, after compinit: source <(stekctl completion zsh)\n\n";

  s << R"SH(# The key ids of the keystore named by the command's first argument, as
# `stekctl list` shows them.
_stekctl_key_ids() {
  local keystore=${(Q)line[1]}
  keystore=${keystore/#\~/$HOME}
  [[ -r $keystore ]] || return 1
  local -a ids
  ids=(${(f)"$("$_stekctl_program" $_stekctl_insecure list --json -- "$keystore" 2>/dev/null |
    sed -n 's/^ *"id": "\([0-9a-f]*\)",*$/\1/p')"})
  _wanted key-ids expl 'key id' compadd -a ids
}

_stekctl() {
  local curcontext=$curcontext state state_descr line ret=1
  local -A opt_args
  local _stekctl_program=${words[1]/#\~/$HOME}
  local -a _stekctl_insecure
  (( ${words[(I)--allow-insecure-permissions]} )) && _stekctl_insecure=(--allow-insecure-permissions)
  _arguments -C \
)SH";
  for (const auto& option : model.global_options) {
    s << "    " << option_spec(option) << " \\\n";
  }
  s << "    ': :->command' \\\n"
       "    '*:: :->argument' && ret=0\n"
       "  case $state in\n"
       "  command)\n"
       "    local -a commands=(\n";
  for (const auto& command : model.commands) {
    s << "      " << sh_quote(command.name + ":" + command.summary) << "\n";
  }
  s << "    )\n"
       "    _describe -t commands 'stekctl command' commands && ret=0\n"
       "    ;;\n"
       "  argument)\n"
       "    curcontext=${curcontext%:*:*}:stekctl-$words[1]:\n"
       "    case $words[1] in\n";
  for (const auto& command : model.commands) {
    s << "    " << sh_quote(command.name) << ")\n"
      << "      _arguments \\\n"
      << specs(options_of(model, command), "        ");
    for (std::size_t i = 0; i < command.arguments.size(); ++i) {
      const auto& argument = command.arguments[i];
      const auto position =
        argument.repeats ? std::string("*") : std::to_string(i + 1);
      s << "        "
        << sh_quote(position + ":" + action(argument.name, argument.kind, argument.choices))
        << " \\\n";
    }
    s << "        && ret=0\n"
         "      ;;\n";
  }
  s << R"SH(    *)
      _message 'no such stekctl command'
      ;;
    esac
    ;;
  esac
  return ret
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  _stekctl "$@"
else
  compdef _stekctl stekctl
fi
)SH";
  return s.str();
}

} // namespace stekctl::completion
