// SPDX-License-Identifier: Apache-2.0
#include "model.hpp"

#include "commands/completion.hpp"
#include "derive_options.hpp"

#include <stek/formats/server_format.hpp>

#include <algorithm>

namespace stekctl::completion {
namespace {

// The formats `command --format` (or --secret-of) accepts, from the
// registry export and import consult, so a new format completes at once.
std::vector<std::string> format_choices(const std::string& command,
                                        const std::string& option) {
  std::vector<std::string> names;
  if (option == "--secret-of") {
    names.emplace_back("keystore");
  }
  for (const auto& format : stek::formats::server_formats()) {
    const bool wanted = option == "--secret-of" ? format.name != "k8s-secret"
                        : command == "import"   ? format.read != nullptr
                                                : true;
    if (wanted) {
      names.emplace_back(format.name);
    }
  }
  return names;
}

// The fixed set of values an option or argument takes, or none.
std::vector<std::string> choices_of(const std::string& command, const std::string& name) {
  if (name == "--format" || name == "--secret-of") {
    return format_choices(command, name);
  }
  if (name == "--oracle-output") {
    return {k_oracle_outputs.begin(), k_oracle_outputs.end()};
  }
  if (command == "completion" && name == "SHELL") {
    return {k_completion_shells.begin(), k_completion_shells.end()};
  }
  return {};
}

// What a value called `value_name` ("FMT", "KEYSTORE") is, if known.
std::optional<ValueKind> kind_of(const std::string& value_name) {
  static const std::pair<std::string_view, ValueKind> kinds[] = {
    {"KEYSTORE", ValueKind::file}, {"FILE", ValueKind::file},
    {"INPUT", ValueKind::file},    {"PATH", ValueKind::file},
    {"DIR", ValueKind::directory}, {"VAR", ValueKind::env_var},
    {"KEY_ID", ValueKind::key_id}, {"CMD", ValueKind::free},
    {"TEXT", ValueKind::free},     {"NAME", ValueKind::free},
    {"NS", ValueKind::free},       {"TIME", ValueKind::free},
    {"D", ValueKind::free},        {"REASON", ValueKind::free},
    {"N", ValueKind::free},        {"LABEL", ValueKind::free},
  };
  for (const auto& [name, kind] : kinds) {
    if (name == value_name) {
      return kind;
    }
  }
  return std::nullopt;
}

// CLI11 appends its validators' descriptions ("TEXT:DURATION"); the part
// before them is the name the option was given.
std::string base_type_name(const CLI::Option& option) {
  const auto full = option.get_type_name();
  return full.substr(0, full.find(':'));
}

void classify(const std::string& command, const std::string& name,
              const std::string& value_name, ValueKind& kind,
              std::vector<std::string>& choices, Model& model) {
  choices = choices_of(command, name);
  if (!choices.empty()) {
    kind = ValueKind::choice;
    return;
  }
  if (const auto known = kind_of(value_name)) {
    kind = *known;
    return;
  }
  kind = ValueKind::free;
  model.unclassified.push_back((command.empty() ? "" : command + " ") + name + " " +
                               value_name);
}

Option option_of(const std::string& command, const CLI::Option& o, Model& model) {
  Option option;
  for (const auto& s : o.get_snames()) {
    option.names.push_back("-" + s);
  }
  for (const auto& l : o.get_lnames()) {
    option.names.push_back("--" + l);
  }
  option.description = o.get_description();
  if (o.get_expected_max() == 0) {
    option.kind = ValueKind::none;
    return option;
  }
  option.value_name = base_type_name(o);
  classify(command, option.names.back(), option.value_name, option.kind,
           option.choices, model);
  return option;
}

Argument argument_of(const std::string& command, const CLI::Option& o, Model& model) {
  Argument argument;
  argument.name = o.get_name(true);
  argument.description = o.get_description();
  argument.repeats = o.get_items_expected_max() > 1;
  classify(command, argument.name, argument.name, argument.kind, argument.choices,
           model);
  return argument;
}

// The options and arguments of `app` (a command, or stekctl itself when
// `command` is empty); hidden ones (no group) are left out.
void describe(const std::string& command, const CLI::App& app,
              std::vector<Option>& options, std::vector<Argument>* arguments,
              Model& model) {
  for (const CLI::Option* o : app.get_options()) {
    if (o->get_group().empty()) {
      continue;
    }
    if (o->nonpositional()) {
      options.push_back(option_of(command, *o, model));
    } else if (arguments != nullptr) {
      arguments->push_back(argument_of(command, *o, model));
    }
  }
}

} // namespace

Model model_of(const CLI::App& app) {
  Model model;
  describe("", app, model.global_options, nullptr, model);
  for (const CLI::App* sub : app.get_subcommands({})) {
    Command command;
    command.name = sub->get_name();
    command.summary = sub->get_description();
    describe(command.name, *sub, command.options, &command.arguments, model);
    model.commands.push_back(std::move(command));
  }
  return model;
}

std::vector<Option> options_of(const Model& model, const Command& command) {
  std::vector<Option> options = command.options;
  const auto spelled = [&](const std::string& name) {
    return std::any_of(command.options.begin(), command.options.end(),
                       [&](const Option& own) {
                         return std::find(own.names.begin(), own.names.end(), name) !=
                                own.names.end();
                       });
  };
  for (const auto& global : model.global_options) {
    if (std::none_of(global.names.begin(), global.names.end(), spelled) &&
        std::find(global.names.begin(), global.names.end(), "--version") ==
          global.names.end()) {
      options.push_back(global);
    }
  }
  return options;
}

} // namespace stekctl::completion
