// SPDX-License-Identifier: Apache-2.0
// The completion model read from stekctl's parser, and the quoting that
// keeps help text from turning into shell code.
#include "completion/completion_fixture.hpp"

#include "app.hpp"
#include "completion/model.hpp"
#include "completion/quote.hpp"

namespace cm = stekctl::completion;
using namespace stek::test;
using namespace stek::test::completion;


TEST_CASE("completion model: every value of every command has a known kind") {
  const auto model = stekctl::completion_model();
  std::string unclassified;
  for (const auto& what : model.unclassified) {
    unclassified += "  " + what + "\n";
  }
  // A new option whose value name (type_name) completion does not know
  // lands here: give it a kind in cli/completion/model.cpp.
  CHECK_MESSAGE(model.unclassified.empty(), "unclassified values:\n" << unclassified);
  // The global options are stekctl's own, as run() parses them.
  const auto global = [&](const std::string& name) {
    return std::any_of(model.global_options.begin(), model.global_options.end(),
                       [&](const cm::Option& o) { return o.names.back() == name; });
  };
  CHECK(global("--at"));
  CHECK(global("--json"));
  CHECK(global("--version"));
  REQUIRE(model.commands.size() == stekctl::command_table().size());
  for (std::size_t i = 0; i < model.commands.size(); ++i) {
    CHECK(model.commands[i].name == stekctl::command_table()[i].name);
    CHECK(!model.commands[i].summary.empty());
  }
}

TEST_CASE("completion model: arguments and options keep their parser's shape") {
  const auto model = stekctl::completion_model();
  const auto command = [&](const std::string& name) -> const cm::Command& {
    for (const auto& c : model.commands) {
      if (c.name == name) {
        return c;
      }
    }
    FAIL("no command " << name);
    return model.commands.front();
  };
  const auto& revoke = command("revoke");
  REQUIRE(revoke.arguments.size() == 2);
  CHECK(revoke.arguments[0].kind == cm::ValueKind::file);
  CHECK(revoke.arguments[1].kind == cm::ValueKind::key_id);
  CHECK(!revoke.arguments[1].repeats);
  const auto& import = command("import");
  REQUIRE(import.arguments.size() == 2);
  CHECK(import.arguments[1].repeats);
  const auto& rotate = command("rotate");
  for (const auto& option : rotate.options) {
    if (option.names.back() == "--force") {
      CHECK(option.kind == cm::ValueKind::none);
    }
    if (option.names.back() == "--deploy-hook") {
      CHECK(option.kind == cm::ValueKind::free);
      CHECK(option.value_name == "CMD");
    }
  }
}

TEST_CASE("completion: quotes, dollars and backquotes in help text stay text") {
  ScratchDir dir;
  CHECK(cm::sh_quote("it's") == "'it'\\''s'");
  CHECK(cm::fish_quote("it's a \\") == "'it\\'s a \\\\'");
  // A command and choices whose text would run code if a script pasted it
  // unquoted.
  const std::string evil = "it's $(touch pwned-1) `touch pwned-2` \\'; touch pwned-3 #";
  cm::Model model;
  model.global_options.push_back(
    {{"--json"}, evil, cm::ValueKind::none, "", {}});
  model.commands.push_back(
    {"list", evil,
     {{{"--format"}, evil + "]", cm::ValueKind::choice, "FMT", {"nginx", "haproxy"}}},
     {{"KEYSTORE", evil, cm::ValueKind::file, {}, false}}});
  const std::pair<Shell, std::string> scripts[] = {
    {Shell::bash, cm::bash_script(model)},
    {Shell::zsh, cm::zsh_script(model)},
    {Shell::fish, cm::fish_script(model)},
  };
  for (const auto& [shell, text] : scripts) {
    CAPTURE(name_of(shell));
    const auto path = std::filesystem::absolute("evil." + name_of(shell));
    write_file(path, text);
    CHECK(offered(shell, path, "stekctl ") == std::vector<std::string>{"list"});
    CHECK(offered(shell, path, "stekctl list --format ") ==
          std::vector<std::string>{"haproxy", "nginx"});
    CHECK(offered(shell, path, "stekctl list --") ==
          std::vector<std::string>{"--format", "--json"});
    for (const auto* file : {"pwned-1", "pwned-2", "pwned-3"}) {
      CHECK_MESSAGE(!std::filesystem::exists(file), file << " was created");
    }
  }
}
