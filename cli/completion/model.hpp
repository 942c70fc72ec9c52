// SPDX-License-Identifier: Apache-2.0
#pragma once

// What shell completion knows about stekctl: its commands, their options
// and arguments, and what each value can be. It is read from the CLI11
// parser that runs the commands, so the scripts never disagree with it.
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace stekctl::completion {

// What a shell should offer for a value.
enum class ValueKind {
  none,        // a flag: no value
  free,        // any text (a name, a time, a duration): nothing to offer
  file,        // a file name
  directory,   // a directory name
  choice,      // one of `choices`
  env_var,     // the name of an environment variable
  key_id,      // a key id of the keystore named by the first argument
};

struct Option {
  // Every spelling, dashes included ("-q", "--quiet").
  std::vector<std::string> names;
  std::string description;
  ValueKind kind = ValueKind::none;
  // What help calls the value ("FMT"); empty for flags.
  std::string value_name;
  std::vector<std::string> choices;
};

struct Argument {
  std::string name; // "KEYSTORE"
  std::string description;
  ValueKind kind = ValueKind::free;
  std::vector<std::string> choices;
  // Whether it takes every remaining argument (FILE..., INPUT...).
  bool repeats = false;
};

struct Command {
  std::string name;
  std::string summary;
  std::vector<Option> options;
  std::vector<Argument> arguments;
};

struct Model {
  // The options every command accepts, before or after its name.
  std::vector<Option> global_options;
  std::vector<Command> commands;
  // Values whose kind nothing here knows ("generate --foo BAR"); a test
  // keeps this empty, so a new option cannot go without completion.
  std::vector<std::string> unclassified;
};

// Describe `app`, the parser stekctl::run builds, for completion.
Model model_of(const CLI::App& app);

// The options `command` accepts: its own, then the global ones it does not
// spell itself (--version works only before a command).
std::vector<Option> options_of(const Model& model, const Command& command);

// The scripts, each complete and ready to source or install.
std::string bash_script(const Model& model);
std::string zsh_script(const Model& model);
std::string fish_script(const Model& model);

} // namespace stekctl::completion
