// SPDX-License-Identifier: Apache-2.0
#include "completion.hpp"

#include "../completion/model.hpp"

#include <memory>

namespace stekctl {

void register_completion(CLI::App& app, Dispatch& dispatch) {
  auto o = std::make_shared<CompletionOptions>();
  auto* cmd = app.add_subcommand(
    "completion", "Print a shell completion script (bash, zsh or fish)");
  cmd->add_option("SHELL", o->shell, "bash, zsh or fish")->required();
  // The script describes every command, so it reads the whole parser; the
  // parser outlives the run, which happens before run() returns.
  cmd->callback([o, &app, &dispatch] {
    dispatch.set([o, &app](Context& ctx) { return run_completion(*o, app, ctx); });
  });
}

stek::Result<void> run_completion(const CompletionOptions& o, const CLI::App& app,
                                  Context& ctx) {
  // A script is not a JSON document; printing one under --json would
  // break whatever parses the output.
  STEK_ENSURE(!ctx.json, stek::Errc::invalid_argument,
              "completion prints a shell script; --json does not apply");
  const auto model = completion::model_of(app);
  if (o.shell == "bash") {
    ctx.out << completion::bash_script(model);
  } else if (o.shell == "zsh") {
    ctx.out << completion::zsh_script(model);
  } else if (o.shell == "fish") {
    ctx.out << completion::fish_script(model);
  } else {
    return stek::fail(stek::Errc::invalid_argument,
                      "unknown shell \"" + o.shell +
                        "\" for completion; stekctl writes scripts for bash, "
                        "zsh and fish");
  }
  return {};
}

} // namespace stekctl
