// SPDX-License-Identifier: Apache-2.0
#include "interop/harness/child.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <utility>

namespace stek::interop {

namespace {

int memory_file(const char* name) {
  const int fd = ::memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) {
    throw std::runtime_error(std::string("memfd_create: ") + std::strerror(errno));
  }
  return fd;
}

std::string read_fd(int fd) {
  std::string text;
  char buffer[4096];
  off_t offset = 0;
  for (;;) {
    const ssize_t n = ::pread(fd, buffer, sizeof buffer, offset);
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

} // namespace

Child Child::spawn(std::vector<std::string> argv, const ChildOptions& options) {
  if (argv.empty() || argv[0].empty()) {
    throw std::invalid_argument("Child::spawn: no program");
  }
  Child c;
  const auto open_out = [](const fs::path& file, const char* name) {
    if (file.empty()) {
      return memory_file(name);
    }
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
      throw std::runtime_error("open " + file.string() + ": " + std::strerror(errno));
    }
    return fd;
  };
  c.m_out = open_out(options.stdout_file, "child-stdout");
  c.m_err = open_out(options.stderr_file, "child-stderr");
  c.m_out_file = options.stdout_file;
  c.m_err_file = options.stderr_file;
  int in_fd = -1;
  if (options.stdin_data.empty()) {
    in_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  } else {
    in_fd = memory_file("child-stdin");
    const auto& data = options.stdin_data;
    if (::write(in_fd, data.data(), data.size()) !=
          static_cast<ssize_t>(data.size()) ||
        ::lseek(in_fd, 0, SEEK_SET) != 0) {
      ::close(in_fd);
      throw std::runtime_error("cannot prepare a child's stdin");
    }
  }
  std::vector<char*> c_argv;
  for (auto& arg : argv) {
    c_argv.push_back(arg.data());
  }
  c_argv.push_back(nullptr);
  const std::string cwd = options.cwd.string();
  const int death_signal = options.parent_death_signal;
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(in_fd);
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    if (death_signal != 0 &&
        (::prctl(PR_SET_PDEATHSIG, death_signal) != 0 || ::getppid() != parent)) {
      ::_exit(126);
    }
    if (::dup2(in_fd, STDIN_FILENO) < 0 || ::dup2(c.m_out, STDOUT_FILENO) < 0 ||
        ::dup2(c.m_err, STDERR_FILENO) < 0) {
      ::_exit(126);
    }
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) {
      ::_exit(126);
    }
    // Signals blocked or ignored by the test runner must not leak into
    // servers that rely on SIGHUP or SIGTERM.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGHUP, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    ::signal(SIGPIPE, SIG_DFL);
    ::execv(c_argv[0], c_argv.data());
    ::_exit(127);
  }
  // Also from the parent, so the group exists before anyone signals it.
  ::setpgid(pid, pid);
  ::close(in_fd);
  c.m_pid = pid;
  return c;
}

Child::Child(Child&& other) noexcept { swap(other); }

Child& Child::operator=(Child&& other) noexcept {
  if (this != &other) {
    terminate();
    close_fds();
    swap(other);
  }
  return *this;
}

Child::~Child() {
  terminate();
  close_fds();
}

bool Child::running() {
  if (m_pid <= 0) {
    return false;
  }
  int status = 0;
  if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
    ended(status);
    return false;
  }
  return true;
}

std::optional<int> Child::wait_for(Clock::duration timeout) {
  const auto deadline = Clock::now() + timeout;
  auto pause = 1ms;
  while (running()) {
    if (Clock::now() >= deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(20));
  }
  return m_status;
}

void Child::signal(int signal_number) const {
  if (m_pid > 0) {
    ::kill(m_pid, signal_number);
  }
}

void Child::terminate() {
  if (!running()) {
    return;
  }
  ::kill(m_pid, SIGTERM);
  if (!wait_for(k_stop_timeout)) {
    ::kill(-m_pid, SIGKILL);
    int status = 0;
    while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
    }
    ended(status);
  }
}

std::string Child::describe_status() const {
  if (!m_status) {
    return "running";
  }
  if (WIFEXITED(*m_status)) {
    return "exit " + std::to_string(WEXITSTATUS(*m_status));
  }
  return "signal " + std::to_string(WTERMSIG(*m_status));
}

std::string Child::read_stream(int fd, const fs::path& file) {
  if (!file.empty()) {
    return read_file(file);
  }
  return fd >= 0 ? read_fd(fd) : std::string();
}

void Child::ended(int status) {
  m_status = status;
  ::kill(-m_pid, SIGKILL);
  m_pid = -1;
}

void Child::swap(Child& other) noexcept {
  std::swap(m_pid, other.m_pid);
  std::swap(m_status, other.m_status);
  std::swap(m_out, other.m_out);
  std::swap(m_err, other.m_err);
  std::swap(m_out_file, other.m_out_file);
  std::swap(m_err_file, other.m_err_file);
}

void Child::close_fds() {
  for (int* fd : {&m_out, &m_err}) {
    if (*fd >= 0) {
      ::close(*fd);
      *fd = -1;
    }
  }
}

} // namespace stek::interop
