// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stek/result.hpp>
#include <stek/time.hpp>

#include <functional>
#include <ostream>
#include <string>

namespace stekctl {

// What every command runs with: where output goes, the instant it acts at
// and the global options.
struct Context {
  std::ostream& out;
  std::ostream& err;
  // The instant the command acts at: now, or --at / STEKCTL_NOW.
  stek::Timestamp now{};
  bool json = false;
  bool quiet = false;
  bool allow_insecure_permissions = false;
  // The exit status of a command that succeeded; `check` sets its own.
  int exit_status = 0;

  // Print "stekctl: warning: `message`" on stderr (also under --quiet).
  void warn(const std::string& message) const;
  // Return whether human-readable progress should be printed.
  bool chatty() const { return !quiet && !json; }
};

// Records which command runner the parse selected, so that nothing runs
// inside CLI11's parse.
class Dispatch {
public:
  using Runner = std::function<stek::Result<void>(Context&)>;
  void set(Runner runner) { m_runner = std::move(runner); }
  const Runner& runner() const { return m_runner; }

private:
  Runner m_runner;
};

} // namespace stekctl
