// SPDX-License-Identifier: Apache-2.0
#include "deploy_hook.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

extern char** environ;

namespace stekctl {
namespace {

// Return our environment with `variables` set, replacing inherited ones.
std::vector<std::string> hook_environment(const HookVariables& variables) {
  std::vector<std::string> vars;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view var(*e);
    const bool replaced =
      std::any_of(variables.begin(), variables.end(), [&](const auto& v) {
        return var.starts_with(v.first + "=");
      });
    if (!replaced) {
      vars.emplace_back(var);
    }
  }
  for (const auto& [name, value] : variables) {
    vars.push_back(name + "=" + value);
  }
  return vars;
}

} // namespace

std::string join_ids(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) {
      out += ' ';
    }
    out += item;
  }
  return out;
}

stek::Result<void> run_deploy_hook(const std::string& command,
                                   const HookVariables& variables,
                                   bool stdout_to_stderr,
                                   const std::string& updated,
                                   const std::string& path) {
  const auto vars = hook_environment(variables);
  std::vector<char*> envp;
  for (const auto& var : vars) {
    envp.push_back(const_cast<char*>(var.c_str()));
  }
  envp.push_back(nullptr);
  const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (stdout_to_stderr) {
    posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
  }
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, "/bin/sh", &actions, nullptr,
                             const_cast<char* const*>(argv), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return stek::fail(stek::Errc::hook_failed,
                      std::string("cannot start deploy hook: ") +
                        std::strerror(rc));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return stek::fail(stek::Errc::hook_failed,
                        std::string("waiting for deploy hook: ") +
                          std::strerror(errno));
    }
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    return {};
  }
  const std::string how =
    WIFEXITED(status) ? "exited with status " + std::to_string(WEXITSTATUS(status))
                      : "was killed by signal " + std::to_string(WTERMSIG(status));
  return stek::fail(stek::Errc::hook_failed,
                    "deploy hook " + how + "; " + updated +
                      " was updated all the same (" + path + ")");
}

} // namespace stekctl
