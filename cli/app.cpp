// SPDX-License-Identifier: Apache-2.0
#include "app.hpp"

#include "commands/check.hpp"
#include "commands/completion.hpp"
#include "commands/export.hpp"
#include "commands/generate.hpp"
#include "commands/import.hpp"
#include "commands/inspect.hpp"
#include "commands/list.hpp"
#include "commands/revoke.hpp"
#include "commands/rotate.hpp"
#include "completion/model.hpp"
#include "exit_codes.hpp"

#include <cstdlib>
#include <exception>
#include <iostream>

namespace stekctl {
namespace {

constexpr CommandInfo k_commands[] = {
  {"generate", "Create a keystore: one active key and its successor",
   register_generate},
  {"rotate", "Publish due successors, prune expired keys (safe from cron)",
   register_rotate},
  {"list", "Show the keys, their states and times (never secrets)",
   register_list},
  {"revoke", "Mark a key revoked: it no longer encrypts or decrypts",
   register_revoke},
  {"export", "Write the keys a server needs, in that server's format",
   register_export},
  {"import", "Bring a server's existing keys under management, bytes intact",
   register_import},
  {"inspect", "Decode captured tickets: format, key id, key, session (pcap included)",
   register_inspect},
  {"check", "Report problems for monitoring (exit 3 warning, 4 critical)",
   register_check},
  {"completion", "Print a shell completion script (bash, zsh or fish)",
   register_completion},
};

struct GlobalOptions {
  bool json = false;
  bool quiet = false;
  bool allow_insecure_permissions = false;
  std::string at;
};

void add_global_options(CLI::App& app, GlobalOptions& globals) {
  app.add_flag("--json", globals.json,
               "Print machine-readable JSON on stdout");
  app.add_flag("-q,--quiet", globals.quiet,
               "Print nothing but warnings and errors");
  app.add_option("--at", globals.at,
                 "Act as if now were TIME (RFC 3339 or @unix-seconds); "
                 "overrides STEKCTL_NOW")
    ->type_name("TIME");
  app.add_flag("--allow-insecure-permissions",
               globals.allow_insecure_permissions,
               "Use a keystore that group or others can access");
}

// Pick the instant commands act at: --at, then STEKCTL_NOW, then the clock.
stek::Result<stek::Timestamp> choose_now(const GlobalOptions& globals,
                                         const std::optional<std::string>& env_now) {
  if (!globals.at.empty()) {
    auto t = stek::parse_time(globals.at);
    if (!t) {
      return stek::fail(stek::Errc::invalid_argument,
                        "invalid --at \"" + globals.at + "\": " +
                          t.error().message);
    }
    return *t;
  }
  if (env_now && !env_now->empty()) {
    auto t = stek::parse_time(*env_now);
    if (!t) {
      return stek::fail(stek::Errc::invalid_argument,
                        "invalid STEKCTL_NOW \"" + *env_now + "\": " +
                          t.error().message);
    }
    return *t;
  }
  return stek::SystemClock().now();
}

// Return the first argument that stands where the command should but names
// none, so the error can say so (CLI11 would only say that one is missing).
std::optional<std::string> unknown_command(const std::vector<std::string>& args) {
  for (std::size_t i = 1; i < args.size(); ++i) {
    const auto& arg = args[i];
    if (arg == "--at") {
      ++i; // its value
      continue;
    }
    if (arg.starts_with("-")) {
      continue;
    }
    for (const auto& command : k_commands) {
      if (arg == command.name) {
        return std::nullopt;
      }
    }
    return arg;
  }
  return std::nullopt;
}

int exit_code_for(stek::Errc code) {
  switch (code) {
  case stek::Errc::invalid_argument:
    return k_exit_usage;
  case stek::Errc::io:
  case stek::Errc::parse:
  case stek::Errc::invalid_keystore:
  case stek::Errc::crypto:
  case stek::Errc::not_found:
  case stek::Errc::ambiguous:
  case stek::Errc::already_exists:
  case stek::Errc::permission:
  case stek::Errc::locked:
  case stek::Errc::unsupported:
  case stek::Errc::stale:
  case stek::Errc::hook_failed:
  case stek::Errc::oracle:
    return k_exit_failure;
  }
  return k_exit_failure;
}

// Give `app` every option and command; parsing fills `globals` and
// `dispatch`, which must outlive it.
void build_app(CLI::App& app, GlobalOptions& globals, Dispatch& dispatch) {
  app.set_version_flag("--version", "stekctl " STEK_VERSION);
  app.require_subcommand(1);
  app.footer("See stekctl(1) and stekctl-<command>(1).");
  add_global_options(app, globals);
  for (const auto& command : k_commands) {
    command.register_command(app, dispatch);
  }
  for (auto* sub : app.get_subcommands({})) {
    sub->fallthrough();
  }
}

int run_parsed(std::vector<std::string> args,
               std::ostream& out,
               std::ostream& err,
               const std::optional<std::string>& env_now) {
  CLI::App app{"stekctl: manage TLS session ticket encryption keys (STEKs)",
               "stekctl"};
  GlobalOptions globals;
  Dispatch dispatch;
  build_app(app, globals, dispatch);

  // Every usage error reads like every other error, with the help hint.
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return "stekctl: error: " + std::string(e.what()) +
           "\nRun 'stekctl --help' or 'stekctl COMMAND --help' for usage.\n";
  });
  if (const auto unknown = unknown_command(args)) {
    err << "stekctl: error: unknown command \"" << *unknown
        << "\"\nRun 'stekctl --help' for the list of commands.\n";
    return k_exit_usage;
  }

  // CLI11 takes the arguments reversed and without the program name.
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  if (!reversed.empty()) {
    reversed.pop_back();
  }
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e, out, err);
    return code == 0 ? k_exit_ok : k_exit_usage;
  }

  auto now = choose_now(globals, env_now);
  if (!now) {
    err << "stekctl: error: " << now.error().message << "\n";
    return k_exit_usage;
  }
  Context ctx{out, err, *now, globals.json, globals.quiet,
              globals.allow_insecure_permissions};
  auto result = dispatch.runner()(ctx);
  out.flush();
  if (!result) {
    err << "stekctl: error: " << result.error().message << "\n";
    return exit_code_for(result.error().code);
  }
  // A full disk behind `stekctl list --json > file` must not look like
  // success.
  if (!out) {
    err << "stekctl: error: cannot write to standard output\n";
    return k_exit_failure;
  }
  return ctx.exit_status;
}

} // namespace

void Context::warn(const std::string& message) const {
  err << "stekctl: warning: " << message << "\n";
}

std::span<const CommandInfo> command_table() { return k_commands; }

completion::Model completion_model() {
  CLI::App app{"stekctl"};
  GlobalOptions globals;
  Dispatch dispatch;
  build_app(app, globals, dispatch);
  return completion::model_of(app);
}

int run(const std::vector<std::string>& args,
        std::ostream& out,
        std::ostream& err,
        std::optional<std::string> env_now) {
  // The last resort, as in ccache: library code returns errors, but a
  // dependency may still throw.
  try {
    return run_parsed(args, out, err, env_now);
  } catch (const std::bad_alloc&) {
    err << "stekctl: error: out of memory\n";
  } catch (const std::exception& e) {
    err << "stekctl: error: unexpected failure: " << e.what() << "\n";
  }
  return k_exit_failure;
}

int run(int argc, const char* const* argv) {
  std::vector<std::string> args(argv, argv + argc);
  if (args.empty()) {
    args.emplace_back("stekctl");
  }
  std::optional<std::string> env_now;
  if (const char* value = std::getenv("STEKCTL_NOW")) {
    env_now = value;
  }
  return run(args, std::cout, std::cerr, env_now);
}

} // namespace stekctl
