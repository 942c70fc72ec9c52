// SPDX-License-Identifier: Apache-2.0
// The fish script: `complete` lines guarded by functions that parse the
// command line the way stekctl does (options, their values, the command,
// its arguments).
#include "model.hpp"
#include "quote.hpp"

#include <algorithm>
#include <sstream>

namespace stekctl::completion {
namespace {

// -s/-l/-o for each spelling of `option`.
std::string spellings(const Option& option) {
  std::string out;
  for (const auto& name : option.names) {
    if (name.starts_with("--")) {
      out += " -l " + name.substr(2);
    } else {
      out += " -s " + name.substr(1);
    }
  }
  return out;
}

// What fish offers for a value of `kind` (after -r or -x).
std::string values(ValueKind kind, const std::vector<std::string>& choices) {
  switch (kind) {
  case ValueKind::none:
    return "";
  case ValueKind::free:
    return " -x";
  case ValueKind::file:
    return " -r -F";
  case ValueKind::directory:
    return " -x -a '(__fish_complete_directories)'";
  case ValueKind::choice:
    return " -x -a " + fish_quote(join(choices));
  case ValueKind::env_var:
    return " -x -a '(set --names --export)'";
  case ValueKind::key_id:
    return " -x -a '(__stekctl_key_ids)'";
  }
  return " -x";
}

std::string complete_option(const std::string& condition, const Option& option) {
  return "complete -c stekctl" + condition + spellings(option) +
         values(option.kind, option.choices) + " -d " + fish_quote(option.description) +
         "\n";
}

} // namespace

std::string fish_script(const Model& model) {
  std::ostringstream s;
  s << "# fish completion for stekctl(1), written by `stekctl completion fish`\n"
       "# (stekctl " STEK_VERSION ").\n"
       "# Install it: stekctl completion fish > "
       "~/.config/fish/completions/stekctl.fish\n\n";

  s << "# Whether option $2 of command $1 takes a value.\n"
       "function __stekctl_takes_value\n"
       "    switch \"$argv[1] $argv[2]\"\n";
  for (const auto& command : model.commands) {
    for (const auto& option : command.options) {
      if (option.kind == ValueKind::none) {
        continue;
      }
      for (const auto& name : option.names) {
        s << "        case " << fish_quote(command.name + " " + name) << "\n"
          << "            return 0\n";
      }
    }
  }
  for (const auto& option : model.global_options) {
    if (option.kind == ValueKind::none) {
      continue;
    }
    for (const auto& name : option.names) {
      s << "        case " << fish_quote("* " + name) << "\n"
        << "            return 0\n";
    }
  }
  s << "    end\n"
       "    return 1\n"
       "end\n\n";

  s << R"SH(# Print the command and its arguments before the cursor, one per line,
# then "=" if an option waits for its value there.
function __stekctl_parse
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l command
    set -l pending 0
    for token in $tokens
        if test $pending -eq 1
            set pending 0
            continue
        end
        switch $token
            case '-*=*'
                continue
            case '-*'
                if __stekctl_takes_value "$command" $token
                    set pending 1
                end
                continue
        end
        if test -z "$command"
            set command $token
        end
        echo $token
    end
    if test $pending -eq 1
        echo =
    end
end

function __stekctl_needs_command
    set -l words (__stekctl_parse)
    test (count $words) -eq 0
end

# Whether the command is $1.
function __stekctl_using
    set -l words (__stekctl_parse)
    test (count $words) -gt 0 -a "$words[1]" = "$argv[1]"
end

# Whether the word at the cursor is argument $2 of command $1 (or a later
# one, with a third argument "repeats").
function __stekctl_argument
    set -l words (__stekctl_parse)
    test (count $words) -gt 0 -a "$words[1]" = "$argv[1]"; or return 1
    test "$words[-1]" != =; or return 1
    if test (count $argv) -ge 3
        test (count $words) -ge $argv[2]
    else
        test (count $words) -eq $argv[2]
    end
end

# The key ids of the keystore named by the command's first argument, as
# `stekctl list` shows them.
function __stekctl_key_ids
    set -l words (__stekctl_parse)
    set -l keystore (string replace -r '^~/' "$HOME/" -- $words[2])
    test -r "$keystore"; or return
    set -l program (commandline -opc)[1]
    set -l insecure
    contains -- --allow-insecure-permissions (commandline -opc); and set insecure --allow-insecure-permissions
    $program $insecure list --json -- $keystore 2>/dev/null |
        string replace -rf '^\s*"id": "([0-9a-f]+)",?$' '$1'
end

complete -c stekctl -f
)SH";
  for (const auto& command : model.commands) {
    s << "complete -c stekctl -n __stekctl_needs_command -a " << fish_quote(command.name)
      << " -d " << fish_quote(command.summary) << "\n";
  }
  // Global options apply before the command and after it.
  for (const auto& option : model.global_options) {
    const bool top_only =
      std::find(option.names.begin(), option.names.end(), "--version") != option.names.end();
    s << complete_option(top_only ? " -n __stekctl_needs_command" : "", option);
  }
  for (const auto& command : model.commands) {
    s << "\n";
    const auto condition = " -n " + fish_quote("__stekctl_using " + command.name);
    for (const auto& option : command.options) {
      // -h/--help is already offered everywhere as a global option.
      if (std::find(option.names.begin(), option.names.end(), "--help") != option.names.end()) {
        continue;
      }
      s << complete_option(condition, option);
    }
    for (std::size_t i = 0; i < command.arguments.size(); ++i) {
      const auto& argument = command.arguments[i];
      const auto guard = "__stekctl_argument " + command.name + " " +
                         std::to_string(i + 1) + (argument.repeats ? " repeats" : "");
      const auto offered = values(argument.kind, argument.choices);
      if (offered.empty() || argument.kind == ValueKind::free) {
        continue;
      }
      // Arguments are not option values: drop -r/-x, keep what is offered.
      std::string what = offered;
      for (const std::string flag : {" -r", " -x"}) {
        if (const auto at = what.find(flag); at != std::string::npos) {
          what.erase(at, flag.size());
        }
      }
      s << "complete -c stekctl -n " << fish_quote(guard) << what << " -d "
        << fish_quote(argument.description) << "\n";
    }
  }
  return s.str();
}

} // namespace stekctl::completion
