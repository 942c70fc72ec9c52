// SPDX-License-Identifier: Apache-2.0
#pragma once

// Child: fork/exec with stdin data, stdout/stderr to files or memory, its
// own process group, PR_SET_PDEATHSIG (SIGTERM) so a killed test leaves no
// server behind, waits with a deadline; destruction sends SIGTERM, then
// SIGKILL to its process group after k_stop_timeout. It never signals
// anything it did not start.

#include "interop/harness/common.hpp"

#include <signal.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace stek::interop {

struct ChildOptions {
  // Written to the child's stdin (which then reads EOF); /dev/null if empty.
  std::string stdin_data{};
  // Where stdout and stderr go; an anonymous memory file each if empty.
  fs::path stdout_file{};
  fs::path stderr_file{};
  // Working directory; unchanged if empty.
  fs::path cwd{};
  // Sent to the child if the test process dies first (prctl
  // PR_SET_PDEATHSIG), so a test killed by a timeout leaves no server
  // behind: nginx's master and HAProxy shut down cleanly on SIGTERM.
  int parent_death_signal = SIGTERM;
};

// A child process in its own process group. Destroying a running one sends
// SIGTERM, waits k_stop_timeout, then SIGKILLs its group.
class Child {
public:
  Child() = default;

  // Start `argv[0]` (an absolute path, not searched in PATH) with `argv`.
  static Child spawn(std::vector<std::string> argv, const ChildOptions& options = {});

  Child(Child&& other) noexcept;
  Child& operator=(Child&& other) noexcept;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child();

  // Its pid while it runs, -1 once it ended (and was reaped).
  pid_t pid() const { return m_pid; }
  // Its exit status (as from waitpid) once it has ended.
  std::optional<int> status() const { return m_status; }

  // True while it runs (reaps it once it has ended).
  bool running();

  // Wait up to `timeout` for it to end; its status, or nullopt if it runs.
  std::optional<int> wait_for(Clock::duration timeout);

  void signal(int signal_number) const;

  // End it: SIGTERM, then after k_stop_timeout SIGKILL to its whole process
  // group (nginx workers outlive a killed master otherwise).
  void terminate();

  std::string out() const { return read_stream(m_out, m_out_file); }
  std::string err() const { return read_stream(m_err, m_err_file); }

  // "exit N" or "signal N" or "running".
  std::string describe_status() const;

private:
  static std::string read_stream(int fd, const fs::path& file);
  // The leader was reaped. Members of its group that are left (workers of
  // a master that died) keep the group id from being reused, so killing the
  // group now reaches only what this Child started. Afterwards pid() is -1
  // and nothing is ever signalled again.
  void ended(int status);
  void swap(Child& other) noexcept;
  void close_fds();

  pid_t m_pid = -1;
  std::optional<int> m_status;
  int m_out = -1;
  int m_err = -1;
  fs::path m_out_file;
  fs::path m_err_file;
};

} // namespace stek::interop
