// SPDX-License-Identifier: Apache-2.0
// The command oracle: runs `/bin/sh -c COMMAND` once per MAC, with the
// message on stdin, and reads the MAC from stdout (e.g. `aws kms
// generate-mac`). The child runs in a process group of its own, so that a
// timeout kills the shell and everything it started.
#include <stek/encoding.hpp>
#include <stek/oracle.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <optional>
#include <thread>
#include <utility>

extern char** environ;

namespace stek {
namespace {

using Clock = std::chrono::steady_clock;

// stdout carries one MAC; anything this big is a misconfigured command, and
// the cap bounds what a runaway command makes us hold in secret memory.
constexpr std::size_t k_stdout_limit = 64 * 1024;
// Only the end of stderr says why a command failed; keep that much.
constexpr std::size_t k_stderr_keep = 4 * 1024;
constexpr std::size_t k_stderr_line_max = 200;
constexpr std::size_t k_describe_command_max = 60;

std::string errno_text(int err) { return std::strerror(err); }

// An owned file descriptor, closed on destruction.
class Fd {
public:
  Fd() = default;
  explicit Fd(int fd) : m_fd(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      m_fd = std::exchange(other.m_fd, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return m_fd; }
  bool open() const { return m_fd >= 0; }
  void reset() {
    if (m_fd >= 0) {
      // Linux releases the descriptor even when close reports EINTR, so
      // it is not retried.
      ::close(m_fd);
      m_fd = -1;
    }
  }

private:
  int m_fd = -1;
};

struct Pipe {
  Fd read;
  Fd write;
};

// Move `fd` to a number of 3 or more. A caller with stdin, stdout or stderr
// closed would otherwise get a pipe end that the child's dup2 onto 0-2
// overwrites before it is used.
Result<Fd> above_stdio(Fd fd) {
  if (fd.get() > STDERR_FILENO) {
    return fd;
  }
  const int moved = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
  if (moved < 0) {
    return fail(Errc::io, "cannot duplicate a pipe: " + errno_text(errno));
  }
  return Fd(moved);
}

// Make a pipe whose ends are close-on-exec, so that neither this child nor
// one another thread starts at the same time inherits them.
Result<Pipe> make_pipe() {
  int fds[2] = {-1, -1};
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return fail(Errc::io, "cannot create a pipe: " + errno_text(errno));
  }
  Pipe pipe{Fd(fds[0]), Fd(fds[1])};
  STEK_TRY_ASSIGN(pipe.read, above_stdio(std::move(pipe.read)));
  STEK_TRY_ASSIGN(pipe.write, above_stdio(std::move(pipe.write)));
  return pipe;
}

// Blocks SIGPIPE in the calling thread while it writes the message, so that
// a command that exits without reading stdin costs an EPIPE, not the
// process. The process's disposition of SIGPIPE is left alone: on the way
// out, a SIGPIPE our own writes raised is consumed, and the mask restored.
class SigpipeBlock {
public:
  SigpipeBlock() {
    sigemptyset(&m_pipe);
    sigaddset(&m_pipe, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    // A SIGPIPE already pending belongs to someone else; leave it be.
    m_was_pending = ::sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
    ::pthread_sigmask(SIG_BLOCK, &m_pipe, &m_old);
  }
  ~SigpipeBlock() {
    if (m_raised && !m_was_pending) {
      const timespec zero{};
      while (::sigtimedwait(&m_pipe, nullptr, &zero) < 0 && errno == EINTR) {
      }
    }
    ::pthread_sigmask(SIG_SETMASK, &m_old, nullptr);
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

  // A write failed with EPIPE, so a SIGPIPE may now be pending.
  void raised() { m_raised = true; }

private:
  sigset_t m_pipe{};
  sigset_t m_old{};
  bool m_was_pending = false;
  bool m_raised = false;
};

// The running command. Whatever path leaves mac(), the destructor kills
// the process group if the child is still unreaped and reaps it, so no
// child outlives the call and none is left a zombie.
class Child {
public:
  explicit Child(pid_t pid) : m_pid(pid) {}
  ~Child() {
    if (!m_reaped) {
      kill_group();
      wait_blocking();
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // SIGKILL the child's process group (its pgid is its pid): the shell and
  // whatever it started, such as the aws client and its helpers.
  void kill_group() const { ::kill(-m_pid, SIGKILL); }

  // Reap the child, waiting as long as it takes.
  void wait_blocking() {
    while (!try_wait(0)) {
    }
  }

  // Reap the child if it exits before `deadline`; false if it is still
  // running then. The child may have closed stdout and stderr and still
  // run, so this polls rather than blocking past the deadline.
  bool wait_until(Clock::time_point deadline) {
    auto pause = std::chrono::milliseconds(1);
    for (;;) {
      if (try_wait(WNOHANG)) {
        return true;
      }
      const auto now = Clock::now();
      if (now >= deadline) {
        return false;
      }
      std::this_thread::sleep_for(
        std::min<Clock::duration>(pause, deadline - now));
      pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
  }

  // The wait status of the reaped child; nothing if it is unknown because
  // the caller ignores SIGCHLD, so the kernel reaped the child itself.
  const std::optional<int>& status() const { return m_status; }

private:
  // One waitpid; true once the child is reaped (by us or, ECHILD, not).
  bool try_wait(int options) {
    int status = 0;
    const pid_t rc = ::waitpid(m_pid, &status, options);
    if (rc == m_pid) {
      m_status = status;
    } else if (rc == 0 || errno == EINTR) {
      return false;
    }
    m_reaped = true;
    return true;
  }

  pid_t m_pid;
  bool m_reaped = false;
  std::optional<int> m_status;
};

// Start `/bin/sh -c command` with stdin, stdout and stderr on the given
// pipe ends, in a new process group, every other descriptor closed.
Result<pid_t> spawn_shell(const std::string& command, int in, int out, int err) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // dup2 clears close-on-exec on the copies; the originals close at exec.
  posix_spawn_file_actions_adddup2(&actions, in, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err, STDERR_FILENO);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  // Descriptors a server opened without O_CLOEXEC (listening sockets, key
  // files) are none of the command's business.
  posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);
#endif
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setpgroup(&attr, 0);
  // Servers often ignore SIGPIPE and block signals in worker threads; the
  // command's pipelines (`... | base64`) expect neither.
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(
    &attr, static_cast<short>(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                              POSIX_SPAWN_SETSIGDEF));

  const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, "/bin/sh", &actions, &attr,
                               const_cast<char* const*>(argv), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return fail(Errc::oracle, "cannot start /bin/sh: " + errno_text(rc));
  }
  return pid;
}

// What the command did, as far as the I/O loop saw it.
struct Exchange {
  SecretBytes out;      // stdout: the MAC, so key material
  std::string err_tail; // the last k_stderr_keep bytes of stderr
  bool out_overflow = false;
  bool timed_out = false;
};

// The parent's ends of the three pipes, with the message still to write.
struct Streams {
  Fd in;
  Fd out;
  Fd err;
  std::span<const std::uint8_t> unwritten;
};

// Write as much of the message as the pipe takes. The command may exit
// without reading it (EPIPE); that is its business, judged by its exit
// status and output, so stdin is then just closed.
void write_stdin(Streams& s, SigpipeBlock& sigpipe) {
  const ssize_t n = ::write(s.in.get(), s.unwritten.data(), s.unwritten.size());
  if (n >= 0) {
    s.unwritten = s.unwritten.subspan(static_cast<std::size_t>(n));
  } else if (errno == EINTR || errno == EAGAIN) {
    return;
  } else if (errno == EPIPE) {
    sigpipe.raised();
  }
  if (n < 0 || s.unwritten.empty()) {
    s.in.reset(); // EOF tells the command the message is complete
  }
}

// Read what is available on `fd` into `sink`; close it at EOF or error.
template <typename Sink> void read_available(Fd& fd, Sink&& sink) {
  std::uint8_t buffer[4096];
  const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
  if (n > 0) {
    sink(std::span<const std::uint8_t>(buffer, static_cast<std::size_t>(n)));
  } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
    fd.reset();
  }
  cleanse(buffer); // it may have held part of the MAC
}

void keep_stdout(Exchange& ex, Fd& fd, std::span<const std::uint8_t> bytes) {
  if (ex.out.size() + bytes.size() > k_stdout_limit) {
    ex.out_overflow = true;
    fd.reset();
    return;
  }
  ex.out.append(bytes);
}

void keep_stderr_tail(Exchange& ex, std::span<const std::uint8_t> bytes) {
  ex.err_tail.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (ex.err_tail.size() > k_stderr_keep) {
    ex.err_tail.erase(0, ex.err_tail.size() - k_stderr_keep);
  }
}

int poll_timeout_ms(Clock::duration remaining) {
  const auto ms =
    std::chrono::ceil<std::chrono::milliseconds>(remaining).count();
  return static_cast<int>(std::clamp<long long>(ms, 0, INT_MAX));
}

// Feed stdin and drain stdout and stderr at the same time, so that a
// command blocked writing one pipe while we wait on another cannot
// deadlock, until all three are closed, stdout overflows or the deadline
// passes. Errc::oracle (without the description) if poll itself fails.
Result<void> exchange(Streams& s, Exchange& ex, Clock::time_point deadline) {
  SigpipeBlock sigpipe;
  while (s.in.open() || s.out.open() || s.err.open()) {
    const auto remaining = deadline - Clock::now();
    if (remaining <= Clock::duration::zero()) {
      ex.timed_out = true;
      return {};
    }
    pollfd fds[3];
    nfds_t count = 0;
    Fd* owners[3];
    const auto watch = [&](Fd& fd, short events) {
      if (fd.open()) {
        fds[count] = pollfd{fd.get(), events, 0};
        owners[count++] = &fd;
      }
    };
    watch(s.in, POLLOUT);
    watch(s.out, POLLIN);
    watch(s.err, POLLIN);
    if (::poll(fds, count, poll_timeout_ms(remaining)) < 0) {
      if (errno == EINTR) {
        continue;
      }
      return fail(Errc::oracle, "poll failed: " + errno_text(errno));
    }
    for (nfds_t i = 0; i < count; ++i) {
      if (fds[i].revents == 0) {
        continue;
      }
      Fd& fd = *owners[i];
      if (&fd == &s.in) {
        write_stdin(s, sigpipe);
      } else if (&fd == &s.out) {
        read_available(fd, [&](auto bytes) { keep_stdout(ex, fd, bytes); });
        if (ex.out_overflow) {
          return {};
        }
      } else {
        read_available(fd, [&](auto bytes) { keep_stderr_tail(ex, bytes); });
      }
    }
  }
  return {};
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
         c == '\f';
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && is_space(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

// Cut `text` to at most `max` bytes without splitting a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view text, std::size_t max) {
  if (text.size() <= max) {
    return text;
  }
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
    --end;
  }
  return text.substr(0, end);
}

// Make `text` one printable line: control characters become spaces.
std::string one_line(std::string_view text) {
  std::string out(text);
  std::replace_if(
    out.begin(), out.end(),
    [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; },
    ' ');
  return out;
}

// The last non-empty line of the command's stderr, for messages: it is a
// KMS client's complaint ("AccessDeniedException: ..."), not a secret.
std::string last_stderr_line(std::string_view tail) {
  std::string_view line;
  while (!tail.empty()) {
    const std::size_t nl = tail.find('\n');
    const std::string_view candidate = trim(tail.substr(0, nl));
    if (!candidate.empty()) {
      line = candidate;
    }
    tail = nl == std::string_view::npos ? std::string_view() : tail.substr(nl + 1);
  }
  return one_line(utf8_prefix(line, k_stderr_line_max));
}

std::string with_stderr(std::string message, const std::string& err_tail) {
  const std::string line = last_stderr_line(err_tail);
  if (!line.empty()) {
    message += ": " + line;
  }
  return message;
}

std::string_view as_text(const SecretBytes& bytes) {
  return {reinterpret_cast<const char*>(bytes.reveal().data()), bytes.size()};
}

// stdout without any white space: a trailing newline, or line breaks a
// tool such as `xxd -p` puts inside hex. A copy in secret memory.
SecretBytes without_space(const SecretBytes& out) {
  SecretBytes packed;
  packed.reserve(out.size());
  for (const char c : as_text(out)) {
    if (!is_space(c)) {
      packed.append(static_cast<std::uint8_t>(c));
    }
  }
  return packed;
}

Result<SecretBytes> decode_hex(std::string_view text, const std::string& who) {
  const bool digits = std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
           (c >= 'A' && c <= 'F');
  });
  STEK_ENSURE(digits && text.size() % 2 == 0, Errc::oracle,
              who + ": printed something that is not hex");
  SecretBytes mac(text.size() / 2);
  STEK_ENSURE(hex_decode_into(text, mac.reveal_mutable()), Errc::oracle,
              who + ": printed something that is not hex");
  return mac;
}

// Decode stdout as `output` spells it. Messages never quote stdout: it is
// the MAC, or something close to it.
Result<SecretBytes> decode_output(const SecretBytes& out,
                                  CommandOracleConfig::Output output,
                                  const std::string& who) {
  if (output == CommandOracleConfig::Output::binary) {
    return out.clone();
  }
  const SecretBytes packed = without_space(out);
  if (output == CommandOracleConfig::Output::hex) {
    return decode_hex(as_text(packed), who);
  }
  auto decoded = base64_decode(as_text(packed));
  STEK_ENSURE(decoded.ok(), Errc::oracle,
              who + ": printed something that is not base64");
  return std::move(decoded).value();
}

std::string status_text(int status) {
  if (WIFSIGNALED(status)) {
    return "killed by signal " + std::to_string(WTERMSIG(status));
  }
  return "exited with status " + std::to_string(WEXITSTATUS(status));
}

// Judge a finished exchange: the first thing that went wrong, or the MAC.
Result<SecretBytes> outcome(const Exchange& ex, std::optional<int> status,
                            const CommandOracleConfig& config,
                            const std::string& who) {
  if (ex.timed_out) {
    return fail(Errc::oracle,
                with_stderr(who + ": did not finish within " +
                              format_duration(config.timeout),
                            ex.err_tail));
  }
  STEK_ENSURE(!ex.out_overflow, Errc::oracle,
              who + ": printed more than 64 KiB");
  // Without its exit status, a command's output cannot be trusted.
  STEK_ENSURE(status.has_value(), Errc::oracle,
              who + ": its exit status was lost (the process ignores SIGCHLD)");
  const bool success = WIFEXITED(*status) && WEXITSTATUS(*status) == 0;
  STEK_ENSURE(success, Errc::oracle,
              with_stderr(who + ": " + status_text(*status), ex.err_tail));
  STEK_ENSURE(!ex.out.empty(), Errc::oracle,
              who + ": printed nothing on stdout");
  STEK_TRY_ASSIGN(SecretBytes mac, decode_output(ex.out, config.output, who));
  STEK_ENSURE(mac.size() == MacOracle::k_mac_size, Errc::oracle,
              who + ": returned " + std::to_string(mac.size()) +
                " bytes; a STEK needs a 32-byte HMAC-SHA256 (for AWS KMS, a "
                "HMAC_256 key with --mac-algorithm HMAC_SHA_256)");
  return mac;
}

std::string describe_command(const std::string& command) {
  std::string shown = one_line(trim(command));
  if (shown.size() > k_describe_command_max) {
    shown = std::string(utf8_prefix(shown, k_describe_command_max - 3)) + "...";
  }
  return "command oracle (" + shown + ")";
}

class CommandOracle final : public MacOracle {
public:
  explicit CommandOracle(CommandOracleConfig config)
    : m_config(std::move(config)), m_description(describe_command(m_config.command)) {}

  Result<SecretBytes> mac(std::span<const std::uint8_t> message) override {
    const auto deadline = Clock::now() + m_config.timeout;
    STEK_TRY_ASSIGN(Pipe in, prefixed(make_pipe()));
    STEK_TRY_ASSIGN(Pipe out, prefixed(make_pipe()));
    STEK_TRY_ASSIGN(Pipe err, prefixed(make_pipe()));
    STEK_TRY_ASSIGN(const pid_t pid,
                    prefixed(spawn_shell(m_config.command, in.read.get(),
                                         out.write.get(), err.write.get())));
    Child child(pid);
    // Our copies of the child's ends go, so EOF arrives when it exits.
    in.read.reset();
    out.write.reset();
    err.write.reset();
    // Non-blocking, so a write never waits on a full pipe past poll.
    ::fcntl(in.write.get(), F_SETFL, ::fcntl(in.write.get(), F_GETFL) | O_NONBLOCK);
    Streams streams{std::move(in.write), std::move(out.read), std::move(err.read),
                    message};
    if (streams.unwritten.empty()) {
      streams.in.reset();
    }
    Exchange ex;
    STEK_TRY(prefixed(exchange(streams, ex, deadline)));
    streams = Streams{};
    reap(child, ex, deadline);
    return outcome(ex, child.status(), m_config, m_description);
  }

  std::string describe() const override { return m_description; }

private:
  // Reap the child; kill its group first when we gave up on it, or when it
  // outlives the deadline after closing its output.
  static void reap(Child& child, Exchange& ex, Clock::time_point deadline) {
    if (!ex.timed_out && !ex.out_overflow) {
      if (child.wait_until(deadline)) {
        return;
      }
      ex.timed_out = true;
    }
    child.kill_group();
    child.wait_blocking();
  }

  template <typename T> Result<T> prefixed(Result<T> result) const {
    if (result.ok()) {
      return result;
    }
    Error error = std::move(result).error();
    return fail(Errc::oracle, m_description + ": " + error.message);
  }

  CommandOracleConfig m_config;
  std::string m_description;
};

} // namespace

Result<std::unique_ptr<MacOracle>> open_command_oracle(CommandOracleConfig config) {
  STEK_ENSURE(!trim(config.command).empty(), Errc::invalid_argument,
              "derived.oracle.command: the command is empty");
  STEK_ENSURE(config.timeout > Duration::zero(), Errc::invalid_argument,
              "derived.oracle.timeout: the timeout must be positive");
  return std::unique_ptr<MacOracle>(
    std::make_unique<CommandOracle>(std::move(config)));
}

} // namespace stek
