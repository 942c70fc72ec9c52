// SPDX-License-Identifier: Apache-2.0
#pragma once

// Runs the real stekctl and keeps what every run printed, then scans it all
// for every secret the test learned (KnownSecrets). The scan comes last so
// that a run is checked against secrets learned after it too: the keys a
// generate created, say.
//
// A leak is reported with the command, the stream, the secret's label and
// the form it was found in, never with the secret or the output itself.

#include "hygiene/known_secrets.hpp"
#include "integration/process.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

namespace stek::hygiene {

using stek::test::ProcessOptions;
using stek::test::ProcessResult;

enum class Expect {
  success, // exit status 0
  failure, // exit status 1, an error on stderr
  usage,   // exit status 2, an error on stderr
  any,     // whatever it does, as long as it is not killed
};

class ScanSession {
public:
  explicit ScanSession(KnownSecrets& known) : m_known(known) {}
  ScanSession(const ScanSession&) = delete;
  ScanSession& operator=(const ScanSession&) = delete;

  // Run stekctl with `args` (without the program name).
  ProcessResult run(Expect expect,
                    std::vector<std::string> args,
                    const ProcessOptions& options = {}) {
    const std::string command = "stekctl " + joined(args);
    auto result = stek::test::stekctl(std::move(args), options);
    record(expect, command, result, {});
    return result;
  }
  ProcessResult ok(std::vector<std::string> args,
                   const ProcessOptions& options = {}) {
    return run(Expect::success, std::move(args), options);
  }
  ProcessResult fails(std::vector<std::string> args,
                      const ProcessOptions& options = {}) {
    return run(Expect::failure, std::move(args), options);
  }
  ProcessResult usage(std::vector<std::string> args,
                      const ProcessOptions& options = {}) {
    return run(Expect::usage, std::move(args), options);
  }

  // Wait for a stekctl started with stek::test::start_stekctl(`args`).
  ProcessResult finish(Expect expect,
                       const std::vector<std::string>& args,
                       stek::test::Process& process) {
    auto result = process.wait();
    record(expect, "stekctl " + joined(args), result, {});
    return result;
  }

  // Run `script` with /bin/sh, with $STEKCTL naming the binary: for input
  // on a pipe. `what` names it in reports.
  ProcessResult shell(Expect expect,
                      const std::string& what,
                      const std::string& script) {
    ProcessOptions options;
    options.env = {"STEKCTL=" + stek::test::stekctl_path()};
    auto result = stek::test::run_process({"/bin/sh", "-c", script}, options);
    record(expect, "sh -c '" + what + "'", result, {});
    return result;
  }

  // Run an export to standard output: the one place a secret may be
  // printed. Its stdout must hold the secrets of every key in `key_ids`
  // (proof that the scan sees what it looks for); its stderr, none.
  ProcessResult secret_to_stdout(std::vector<std::string> args,
                                 std::vector<std::string> key_ids) {
    REQUIRE(!key_ids.empty());
    const std::string command = "stekctl " + joined(args);
    auto result = stek::test::stekctl(std::move(args));
    record(Expect::success, command, result, std::move(key_ids));
    return result;
  }

  // Scan every run recorded for every secret known now, fail the test for
  // each leak, and say how much was scanned.
  void scan_all(const std::string& group) {
    const auto& scanner = m_known.scanner();
    REQUIRE_MESSAGE(scanner.secrets() > 0, "no secrets known: nothing to scan for");
    std::size_t leaks = 0;
    std::size_t controls = 0;
    for (const auto& run : m_runs) {
      leaks += report_leaks(run, "stderr", scanner.scan(run.result.err));
      const auto found = scanner.scan(run.result.out);
      if (run.expected_in_stdout.empty()) {
        leaks += report_leaks(run, "stdout", found);
        continue;
      }
      ++controls;
      for (const auto& id : run.expected_in_stdout) {
        bool seen = false;
        for (const auto& f : found) {
          seen = seen || f.secret.find(id) != std::string::npos;
        }
        CHECK_MESSAGE(seen, "the scan did not find the secret of key "
                              << id << " in the export that `" << run.command
                              << "` wrote to stdout");
      }
    }
    std::size_t failures = 0;
    for (const auto& run : m_runs) {
      if (run.expect == Expect::failure || run.expect == Expect::usage) {
        ++failures;
      }
    }
    // Printed for the CI log (ctest keeps it in LastTest.log).
    std::cout << "secret scan: " << group << ": " << m_runs.size()
                            << " command runs scanned (" << failures
                            << " error paths, " << controls
                            << " exports to stdout as positive controls) for "
                            << scanner.secrets() << " secrets in "
                            << scanner.needles() << " forms: " << leaks
                            << " leaks\n";
    m_scanned += m_runs.size();
    m_runs.clear();
  }

  std::size_t runs() const { return m_scanned + m_runs.size(); }

private:
  struct Run {
    Expect expect;
    std::string command;
    ProcessResult result;
    std::vector<std::string> expected_in_stdout;
  };

  // Fail once per secret found in `stream` of `run`, naming the first form
  // it was found in and how many forms matched; return the count.
  static std::size_t report_leaks(const Run& run,
                                  const std::string& stream,
                                  const std::vector<Finding>& found) {
    std::vector<std::string> secrets;
    for (const auto& f : found) {
      if (std::find(secrets.begin(), secrets.end(), f.secret) == secrets.end()) {
        secrets.push_back(f.secret);
      }
    }
    for (const auto& secret : secrets) {
      std::size_t forms = 0;
      const Finding* first = nullptr;
      for (const auto& f : found) {
        if (f.secret == secret) {
          ++forms;
          first = first != nullptr ? first : &f;
        }
      }
      FAIL_CHECK("LEAK: `" << run.command << "` printed " << secret << " on "
                           << stream << " as " << first->form << " ("
                           << first->layout << ", byte " << first->offset
                           << "; " << forms << " matching forms in all)");
    }
    return secrets.size();
  }

  static std::string joined(const std::vector<std::string>& args) {
    std::string out;
    for (const auto& arg : args) {
      out += (out.empty() ? "" : " ") + arg;
    }
    return out;
  }

  void record(Expect expect,
              const std::string& command,
              const ProcessResult& result,
              std::vector<std::string> expected_in_stdout) {
    // Checked now, while the test can still stop at the step that broke;
    // the output shown is redacted with the secrets known so far.
    const auto shown = [&] {
      const auto& scanner = m_known.scanner();
      return "exit " + std::to_string(result.code) + ", signal " +
             std::to_string(result.signal) + "\n--- stdout (redacted) ---\n" +
             scanner.redacted(result.out) + "--- stderr (redacted) ---\n" +
             scanner.redacted(result.err);
    };
    INFO("`" << command << "`");
    CHECK_MESSAGE(result.signal == 0, shown());
    switch (expect) {
    case Expect::success:
      CHECK_MESSAGE(result.code == 0, shown());
      break;
    case Expect::failure:
    case Expect::usage:
      CHECK_MESSAGE(result.code == (expect == Expect::failure ? 1 : 2),
                    shown());
      CHECK_MESSAGE(result.err.find("stekctl: error: ") != std::string::npos,
                    shown());
      break;
    case Expect::any:
      break;
    }
    m_runs.push_back({expect, command, result, std::move(expected_in_stdout)});
  }

  KnownSecrets& m_known;
  std::vector<Run> m_runs;
  std::size_t m_scanned = 0;
};

} // namespace stek::hygiene
