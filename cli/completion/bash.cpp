// SPDX-License-Identifier: Apache-2.0
// The bash script: a table of what each option and argument takes, read by
// one function that walks the words before the cursor. It needs nothing but
// bash 4 (no bash-completion helpers), so `source <(stekctl completion
// bash)` works anywhere.
#include "model.hpp"
#include "quote.hpp"

#include <sstream>

namespace stekctl::completion {
namespace {

std::string kind_word(ValueKind kind) {
  switch (kind) {
  case ValueKind::none:
    return "none";
  case ValueKind::free:
    return "free";
  case ValueKind::file:
    return "file";
  case ValueKind::directory:
    return "dir";
  case ValueKind::choice:
    return "choice";
  case ValueKind::env_var:
    return "env";
  case ValueKind::key_id:
    return "key_id";
  }
  return "free";
}

// One case branch setting the kind (and the choices) of a value.
std::string value_branch(const std::string& pattern, ValueKind kind,
                         const std::vector<std::string>& choices) {
  std::string out = "    " + pattern + ") _stekctl_kind=" + kind_word(kind);
  if (kind == ValueKind::choice) {
    out += " _stekctl_choices=" + sh_quote(join(choices));
  }
  return out + " ;;\n";
}

std::vector<std::string> option_names(const std::vector<Option>& options) {
  std::vector<std::string> names;
  for (const auto& option : options) {
    names.insert(names.end(), option.names.begin(), option.names.end());
  }
  return names;
}

} // namespace

std::string bash_script(const Model& model) {
  std::ostringstream s;
  s << "# bash completion for stekctl(1), written by `stekctl completion bash`\n"
       "# (stekctl " STEK_VERSION ").\n"
       "# Load it with: source <(stekctl completion bash)\n"
       "# or install it: stekctl completion bash > "
       "/usr/share/bash-completion/completions/stekctl\n\n";

  s << "# Set _stekctl_kind (and _stekctl_choices) to what option $2 of command\n"
       "# $1 takes: none (a flag), free, file, dir, choice or env.\n"
       "_stekctl_value() {\n"
       "  _stekctl_kind=none _stekctl_choices=\n"
       "  case \"$1 $2\" in\n";
  for (const auto& command : model.commands) {
    for (const auto& option : command.options) {
      if (option.kind == ValueKind::none) {
        continue;
      }
      for (const auto& name : option.names) {
        s << value_branch(sh_quote(command.name + " " + name), option.kind,
                          option.choices);
      }
    }
  }
  for (const auto& option : model.global_options) {
    if (option.kind == ValueKind::none) {
      continue;
    }
    for (const auto& name : option.names) {
      s << value_branch("*" + sh_quote(" " + name), option.kind, option.choices);
    }
  }
  s << "  esac\n}\n\n";

  s << "# Set _stekctl_kind (and _stekctl_choices) to what argument $2 (from 1)\n"
       "# of command $1 takes.\n"
       "_stekctl_argument() {\n"
       "  _stekctl_kind=none _stekctl_choices=\n"
       "  case \"$1 $2\" in\n";
  for (const auto& command : model.commands) {
    for (std::size_t i = 0; i < command.arguments.size(); ++i) {
      const auto& argument = command.arguments[i];
      s << value_branch(sh_quote(command.name + " " + std::to_string(i + 1)),
                        argument.kind, argument.choices);
    }
    // A last argument that repeats takes every position after it too.
    if (!command.arguments.empty() && command.arguments.back().repeats) {
      const auto& last = command.arguments.back();
      s << value_branch(sh_quote(command.name + " ") + "*", last.kind, last.choices);
    }
  }
  s << "  esac\n}\n\n";

  s << "# Set _stekctl_words to the options of command $1 (of stekctl itself if\n"
       "# it is empty).\n"
       "_stekctl_options() {\n"
       "  case $1 in\n"
       "    '') _stekctl_words="
    << sh_quote(join(option_names(model.global_options))) << " ;;\n";
  for (const auto& command : model.commands) {
    s << "    " << sh_quote(command.name) << ") _stekctl_words="
      << sh_quote(join(option_names(options_of(model, command)))) << " ;;\n";
  }
  s << "    *) _stekctl_words= ;;\n"
       "  esac\n}\n\n";

  std::vector<std::string> commands;
  for (const auto& command : model.commands) {
    commands.push_back(command.name);
  }
  s << R"SH(# Fill COMPREPLY with the values of kind $1 that start with $2. A key id
# is one of the keys `stekctl list` shows for the keystore $3.
_stekctl_offer() {
  local IFS=$'\n'
  case $1 in
    file) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$2")) ;;
    dir) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$2")) ;;
    env) COMPREPLY=($(compgen -e -- "$2")) ;;
    choice) COMPREPLY=($(IFS=' ' && compgen -W "$_stekctl_choices" -- "$2")) ;;
    key_id)
      local keystore=$3
      [[ $keystore == '~/'* ]] && keystore=$HOME/${keystore#'~/'}
      [[ -r $keystore ]] || return 0
      local ids
      ids=$("$_stekctl_program" "${_stekctl_insecure[@]}" list --json -- "$keystore" 2>/dev/null |
        sed -n 's/^ *"id": "\([0-9a-f]*\)",*$/\1/p')
      IFS=$' \t\n'
      COMPREPLY=($(compgen -W "$ids" -- "$2")) ;;
  esac
}

_stekctl() {
  local cur=${COMP_WORDS[COMP_CWORD]} word command= value_of= keystore= prefix= i
  local -i arguments=0
  local _stekctl_kind _stekctl_choices _stekctl_words
  local _stekctl_program=${COMP_WORDS[0]}
  local -a _stekctl_insecure=()
  COMPREPLY=()
  # Walk the words before the cursor: the command, how many arguments it
  # has (the first names the keystore), and whether an option waits for
  # its value. Bash splits --opt=value at '=' (COMP_WORDBREAKS).
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=${COMP_WORDS[i]}
    if [[ -n $value_of ]]; then
      [[ $word == = ]] && continue
      value_of=
      continue
    fi
    case $word in
      --allow-insecure-permissions) _stekctl_insecure=("$word") ;;
      -*=*) ;;
      -*)
        _stekctl_value "$command" "$word"
        [[ $_stekctl_kind != none ]] && value_of=$word
        ;;
      *)
        if [[ -z $command ]]; then
          command=$word
        else
          arguments+=1
          ((arguments == 1)) && keystore=$word
        fi
        ;;
    esac
  done
  if [[ $cur == -*=* ]]; then
    # '=' is not a word break here: complete the value after it.
    value_of=${cur%%=*}
    prefix=$value_of=
    cur=${cur#*=}
  elif [[ $cur == = && -n $value_of ]]; then
    cur=
  fi
  if [[ -n $value_of ]]; then
    _stekctl_value "$command" "$value_of"
    _stekctl_offer "$_stekctl_kind" "$cur" "$keystore"
    [[ -n $prefix ]] && COMPREPLY=("${COMPREPLY[@]/#/$prefix}")
    return 0
  fi
  if [[ $cur == -* ]]; then
    _stekctl_options "$command"
    COMPREPLY=($(compgen -W "$_stekctl_words" -- "$cur"))
    return 0
  fi
  if [[ -z $command ]]; then
    COMPREPLY=($(compgen -W )SH"
    << sh_quote(join(commands)) << R"SH( -- "$cur"))
    return 0
  fi
  _stekctl_argument "$command" $((arguments + 1))
  _stekctl_offer "$_stekctl_kind" "$cur" "$keystore"
  return 0
}

complete -F _stekctl stekctl
)SH";
  return s.str();
}

} // namespace stekctl::completion
