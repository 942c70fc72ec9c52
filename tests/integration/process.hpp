// SPDX-License-Identifier: Apache-2.0
#pragma once

// Run the real stekctl binary as a child process: fork + execve with stdout
// and stderr captured, the exit status or killing signal reported, and the
// child's environment, umask and user chosen by the test.

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/files.hpp"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

extern char** environ;

namespace stek::test {

// How a child process ended and what it printed.
struct ProcessResult {
  // The exit status, or -1 if the process was killed by a signal.
  int code = -1;
  // The signal that killed the process, or 0.
  int signal = 0;
  std::string out;
  std::string err;
};

struct ProcessOptions {
  // "NAME=VALUE" entries added to (or replacing in) the inherited
  // environment. Inherited STEKCTL_* variables are always dropped so the
  // caller's shell cannot change what a test sees.
  std::vector<std::string> env;
  // The umask the child runs under; unchanged if empty.
  std::optional<mode_t> umask;
  // Run as this user and group (needs root); unchanged if empty.
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
};

namespace detail {

// An anonymous file the child writes one of its outputs to. Files, unlike
// pipes, never block a child while the parent waits for another one.
class CaptureFile {
public:
  CaptureFile() : m_fd(::memfd_create("stekctl-test-output", MFD_CLOEXEC)) {
    if (m_fd < 0) {
      throw std::runtime_error(std::string("memfd_create: ") +
                               std::strerror(errno));
    }
  }
  CaptureFile(const CaptureFile&) = delete;
  CaptureFile& operator=(const CaptureFile&) = delete;
  CaptureFile(CaptureFile&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
  CaptureFile& operator=(CaptureFile&& other) noexcept {
    std::swap(m_fd, other.m_fd);
    return *this;
  }
  ~CaptureFile() {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
  }
  int fd() const { return m_fd; }

  std::string contents() const {
    std::string text;
    char buffer[4096];
    off_t offset = 0;
    for (;;) {
      const ssize_t n = ::pread(m_fd, buffer, sizeof buffer, offset);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        break;
      }
      text.append(buffer, static_cast<std::size_t>(n));
      offset += n;
    }
    return text;
  }

private:
  int m_fd = -1;
};

inline std::vector<std::string> child_environment(const ProcessOptions& options) {
  std::vector<std::string> vars;
  const auto name_of = [](std::string_view var) {
    return var.substr(0, var.find('='));
  };
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view var(*e);
    if (var.starts_with("STEKCTL_")) {
      continue;
    }
    bool replaced = false;
    for (const auto& wanted : options.env) {
      replaced = replaced || name_of(wanted) == name_of(var);
    }
    if (!replaced) {
      vars.emplace_back(var);
    }
  }
  vars.insert(vars.end(), options.env.begin(), options.env.end());
  return vars;
}

inline std::vector<char*> c_strings(std::vector<std::string>& items) {
  std::vector<char*> out;
  for (auto& item : items) {
    out.push_back(item.data());
  }
  out.push_back(nullptr);
  return out;
}

} // namespace detail

// A running child process. Destroying one that was not waited for kills it.
class Process {
public:
  // Start `argv[0]` (a path, not searched in PATH) with `argv`.
  static Process start(std::vector<std::string> argv,
                       const ProcessOptions& options = {}) {
    Process p;
    auto env = detail::child_environment(options);
    auto c_argv = detail::c_strings(argv);
    auto c_env = detail::c_strings(env);
    // Everything the child needs is ready: after fork it only calls
    // async-signal-safe functions.
    const pid_t pid = ::fork();
    if (pid < 0) {
      throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    }
    if (pid == 0) {
      const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (null_fd < 0 || ::dup2(null_fd, STDIN_FILENO) < 0 ||
          ::dup2(p.m_out.fd(), STDOUT_FILENO) < 0 ||
          ::dup2(p.m_err.fd(), STDERR_FILENO) < 0) {
        ::_exit(126);
      }
      if (options.umask) {
        ::umask(*options.umask);
      }
      if (options.gid &&
          (::setgroups(0, nullptr) != 0 || ::setgid(*options.gid) != 0)) {
        ::_exit(126);
      }
      if (options.uid && ::setuid(*options.uid) != 0) {
        ::_exit(126);
      }
      ::execve(c_argv[0], c_argv.data(), c_env.data());
      ::_exit(127);
    }
    p.m_pid = pid;
    return p;
  }

  Process(Process&& other) noexcept
    : m_pid(std::exchange(other.m_pid, -1)),
      m_out(std::move(other.m_out)),
      m_err(std::move(other.m_err)) {}
  Process& operator=(Process&&) = delete;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process() {
    if (m_pid > 0) {
      ::kill(m_pid, SIGKILL);
      int status = 0;
      while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
  }

  pid_t pid() const { return m_pid; }

  void kill(int signal_number) const {
    if (m_pid > 0) {
      ::kill(m_pid, signal_number);
    }
  }

  // Wait for the process to end and return what it did.
  ProcessResult wait() {
    if (m_pid <= 0) {
      throw std::logic_error("Process::wait on a process already waited for");
    }
    int status = 0;
    while (::waitpid(m_pid, &status, 0) < 0) {
      if (errno != EINTR) {
        throw std::runtime_error(std::string("waitpid: ") +
                                 std::strerror(errno));
      }
    }
    m_pid = -1;
    ProcessResult result;
    if (WIFEXITED(status)) {
      result.code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      result.signal = WTERMSIG(status);
    }
    result.out = m_out.contents();
    result.err = m_err.contents();
    return result;
  }

private:
  Process() = default;

  pid_t m_pid = -1;
  detail::CaptureFile m_out;
  detail::CaptureFile m_err;
};

// Run `argv` to completion.
inline ProcessResult run_process(std::vector<std::string> argv,
                                 const ProcessOptions& options = {}) {
  return Process::start(std::move(argv), options).wait();
}

// The path of the stekctl binary under test.
inline std::string stekctl_path() { return STEKCTL_BINARY; }

// Start stekctl with `args` (without the program name).
inline Process start_stekctl(std::vector<std::string> args,
                             const ProcessOptions& options = {}) {
  args.insert(args.begin(), stekctl_path());
  return Process::start(std::move(args), options);
}

// Run stekctl with `args` (without the program name) to completion.
inline ProcessResult stekctl(std::vector<std::string> args,
                             const ProcessOptions& options = {}) {
  return start_stekctl(std::move(args), options).wait();
}

// Makes a new, empty directory under the current one and works in it until
// destroyed. Each TEST_CASE (and each pass through it for a SUBCASE) starts
// in its own, so runs never see each other's files, even when one process
// runs many test cases.
class ScratchDir {
public:
  // `name` starts the directory's name, so a kept one says what it held.
  explicit ScratchDir(const std::string& name = "case")
    : m_previous(std::filesystem::current_path()) {
    static int counter = 0;
    m_path = m_previous / (name + "-" + std::to_string(++counter));
    std::filesystem::remove_all(m_path);
    std::filesystem::create_directories(m_path);
    std::filesystem::current_path(m_path);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::current_path(m_previous, ec);
  }
  const std::filesystem::path& path() const { return m_path; }

private:
  std::filesystem::path m_previous;
  std::filesystem::path m_path;
};

// Describe a result for failure messages.
inline std::string describe(const ProcessResult& r) {
  return "exit " + std::to_string(r.code) + ", signal " +
         std::to_string(r.signal) + "\n--- stdout ---\n" + r.out +
         "--- stderr ---\n" + r.err;
}

inline bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// Parse `text` as exactly one JSON document (nlohmann rejects trailing
// content), or return a discarded value.
inline nlohmann::json parse_json(const std::string& text) {
  return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
}

// Parse a "YYYY-MM-DDTHH:MM:SSZ" time as stekctl writes it.
inline std::chrono::sys_seconds parse_utc(const std::string& text) {
  if (text.size() != 20 || text[4] != '-' || text[7] != '-' ||
      text[10] != 'T' || text[13] != ':' || text[16] != ':' ||
      text[19] != 'Z') {
    throw std::invalid_argument("not a stekctl time: \"" + text + "\"");
  }
  const auto number = [&](std::size_t pos, std::size_t len) {
    return std::stoi(text.substr(pos, len));
  };
  using namespace std::chrono;
  const year_month_day date{year{number(0, 4)},
                            month{static_cast<unsigned>(number(5, 2))},
                            day{static_cast<unsigned>(number(8, 2))}};
  return sys_days{date} + hours{number(11, 2)} + minutes{number(14, 2)} +
         seconds{number(17, 2)};
}

// Format `t` as stekctl does: "YYYY-MM-DDTHH:MM:SSZ".
inline std::string format_utc(std::chrono::sys_seconds t) {
  using namespace std::chrono;
  const auto day_start = floor<days>(t);
  const year_month_day date{day_start};
  const hh_mm_ss time{t - day_start};
  char buffer[80];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02ld:%02ld:%02ldZ",
                static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()),
                static_cast<unsigned>(date.day()),
                static_cast<long>(time.hours().count()),
                static_cast<long>(time.minutes().count()),
                static_cast<long>(time.seconds().count()));
  return buffer;
}

// Parse the file at `path` as JSON (discarded if it does not parse).
inline nlohmann::json load_json_file(const std::filesystem::path& path) {
  return parse_json(read_file(path));
}

// Return the inode number of `path`, or 0. A rewrite, even with the same
// bytes, replaces the inode (the write is a rename).
inline ino_t inode_of(const std::filesystem::path& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

// The names of the temporary files a write of `keystore` leaves behind if it
// is interrupted: ".NAME.tmp-XXXXXX" in its directory.
inline std::vector<std::string> temporaries_of(
  const std::filesystem::path& keystore) {
  const auto dir = keystore.has_parent_path() ? keystore.parent_path()
                                              : std::filesystem::path(".");
  const std::string prefix = "." + keystore.filename().string() + ".tmp-";
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const auto name = entry.path().filename().string();
    if (name.starts_with(prefix)) {
      out.push_back(name);
    }
  }
  return out;
}

// The base64 secret strings ("material", "aes", "hmac") of a keystore file's
// keys.
inline std::vector<std::string> secrets_of(const nlohmann::json& keystore) {
  std::vector<std::string> out;
  for (const auto& key : keystore.at("keys")) {
    for (const char* field : {"material", "aes", "hmac"}) {
      if (key.contains(field)) {
        out.push_back(key.at(field).get<std::string>());
      }
    }
  }
  return out;
}

} // namespace stek::test
