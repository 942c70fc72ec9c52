// SPDX-License-Identifier: Apache-2.0
// An LD_PRELOAD library that makes one file-system call of the program fail,
// so that tests can prove what stekctl does when a disk fails under it.
//
// Only calls on paths under STEK_FAULT_DIR (or on descriptors opened there)
// count; the program's other files (locale data, OpenSSL's configuration,
// standard output) are left alone. The operations counted are:
//
//   open      open/openat and mkstemp/mkostemp (creating a temporary)
//   write     write(2) to a descriptor opened under the directory
//   fsync     fsync/fdatasync of a regular file
//   dirfsync  fsync/fdatasync of a directory
//   rename    rename/renameat/renameat2
//
// STEK_FAULT_OP and STEK_FAULT_AT=N make the Nth call of that operation fail
// with STEK_FAULT_ERRNO (a number) without doing anything. STEK_FAULT_COUNTS
// names a file where, at exit, the shim writes how many calls of each
// operation it saw ("open 3" per line), so a test can fail each call in
// turn.
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

enum Op { k_open, k_write, k_fsync, k_dirfsync, k_rename, k_op_count };
constexpr const char* k_op_names[k_op_count] = {"open", "write", "fsync",
                                                "dirfsync", "rename"};
// Descriptors above this are not tracked; tests open a handful.
constexpr int k_max_fd = 4096;

struct Config {
  std::string dir;
  int fail_op = -1;
  long fail_at = 0;
  int fail_errno = EIO;
  std::string counts_path;
};

const Config& config() {
  // Never destroyed: the counts are written by a static destructor, which
  // may run after this one would have.
  static const Config* c = [] {
    auto* out_ptr = new Config;
    auto& out = *out_ptr;
    if (const char* dir = std::getenv("STEK_FAULT_DIR")) {
      out.dir = dir;
    }
    if (const char* op = std::getenv("STEK_FAULT_OP")) {
      for (int i = 0; i < k_op_count; ++i) {
        if (std::strcmp(op, k_op_names[i]) == 0) {
          out.fail_op = i;
        }
      }
    }
    if (const char* at = std::getenv("STEK_FAULT_AT")) {
      out.fail_at = std::strtol(at, nullptr, 10);
    }
    if (const char* error = std::getenv("STEK_FAULT_ERRNO")) {
      out.fail_errno = static_cast<int>(std::strtol(error, nullptr, 10));
    }
    if (const char* counts = std::getenv("STEK_FAULT_COUNTS")) {
      out.counts_path = counts;
    }
    return out_ptr;
  }();
  return *c;
}

std::atomic<long> g_counts[k_op_count];
// 0: not ours; 1: a file opened under the directory; 2: a directory.
std::atomic<unsigned char> g_tracked[k_max_fd];

bool under_dir(const char* path) {
  const auto& dir = config().dir;
  return !dir.empty() && path != nullptr &&
         std::strncmp(path, dir.c_str(), dir.size()) == 0;
}

// Count a call of `op`; return true if this one must fail (errno is set).
bool count_and_check(Op op) {
  const long n = ++g_counts[op];
  if (config().fail_op == op && n == config().fail_at) {
    errno = config().fail_errno;
    return true;
  }
  return false;
}

template <typename F> F real(const char* name) {
  return reinterpret_cast<F>(::dlsym(RTLD_NEXT, name));
}

void track(int fd, bool directory) {
  if (fd >= 0 && fd < k_max_fd) {
    g_tracked[fd] = directory ? 2 : 1;
  }
}

unsigned char tracked(int fd) {
  return fd >= 0 && fd < k_max_fd ? g_tracked[fd].load() : 0;
}

int open_common(const char* symbol, int dirfd, const char* path, int flags,
                mode_t mode) {
  const bool ours = under_dir(path);
  if (ours && count_and_check(k_open)) {
    return -1;
  }
  int fd;
  if (dirfd == AT_FDCWD && std::strcmp(symbol, "openat") != 0 &&
      std::strcmp(symbol, "openat64") != 0) {
    fd = real<int (*)(const char*, int, ...)>(symbol)(path, flags, mode);
  } else {
    fd = real<int (*)(int, const char*, int, ...)>(symbol)(dirfd, path, flags, mode);
  }
  if (ours && fd >= 0) {
    struct stat st {};
    track(fd, (flags & O_DIRECTORY) != 0 ||
                (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)));
  }
  return fd;
}

mode_t mode_argument(int flags, va_list args) {
  return (flags & (O_CREAT | O_TMPFILE)) != 0 ? static_cast<mode_t>(va_arg(args, int))
                                              : 0;
}

int mktemp_common(const char* symbol, char* pattern, int flags, bool with_flags) {
  const bool ours = under_dir(pattern);
  if (ours && count_and_check(k_open)) {
    return -1;
  }
  const int fd = with_flags ? real<int (*)(char*, int)>(symbol)(pattern, flags)
                            : real<int (*)(char*)>(symbol)(pattern);
  if (ours) {
    track(fd, false);
  }
  return fd;
}

int fsync_common(const char* symbol, int fd) {
  const unsigned char kind = tracked(fd);
  if (kind != 0 && count_and_check(kind == 2 ? k_dirfsync : k_fsync)) {
    return -1;
  }
  return real<int (*)(int)>(symbol)(fd);
}

void write_counts() {
  const auto& path = config().counts_path;
  if (path.empty()) {
    return;
  }
  std::string text;
  for (int i = 0; i < k_op_count; ++i) {
    text += std::string(k_op_names[i]) + " " + std::to_string(g_counts[i].load()) + "\n";
  }
  // Straight to the kernel: the interposed functions are not to count this.
  const int fd = static_cast<int>(
    ::syscall(SYS_openat, AT_FDCWD, path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600));
  if (fd >= 0) {
    (void)::syscall(SYS_write, fd, text.data(), text.size());
    (void)::syscall(SYS_close, fd);
  }
}

struct CountsAtExit {
  ~CountsAtExit() { write_counts(); }
} g_counts_at_exit;

} // namespace

extern "C" {

int open(const char* path, int flags, ...) {
  va_list args;
  va_start(args, flags);
  const mode_t mode = mode_argument(flags, args);
  va_end(args);
  return open_common("open", AT_FDCWD, path, flags, mode);
}

int open64(const char* path, int flags, ...) {
  va_list args;
  va_start(args, flags);
  const mode_t mode = mode_argument(flags, args);
  va_end(args);
  return open_common("open64", AT_FDCWD, path, flags, mode);
}

int openat(int dirfd, const char* path, int flags, ...) {
  va_list args;
  va_start(args, flags);
  const mode_t mode = mode_argument(flags, args);
  va_end(args);
  return open_common("openat", dirfd, path, flags, mode);
}

int openat64(int dirfd, const char* path, int flags, ...) {
  va_list args;
  va_start(args, flags);
  const mode_t mode = mode_argument(flags, args);
  va_end(args);
  return open_common("openat64", dirfd, path, flags, mode);
}

int mkstemp(char* pattern) { return mktemp_common("mkstemp", pattern, 0, false); }
int mkstemp64(char* pattern) { return mktemp_common("mkstemp64", pattern, 0, false); }
int mkostemp(char* pattern, int flags) {
  return mktemp_common("mkostemp", pattern, flags, true);
}
int mkostemp64(char* pattern, int flags) {
  return mktemp_common("mkostemp64", pattern, flags, true);
}

ssize_t write(int fd, const void* data, size_t size) {
  if (tracked(fd) == 1 && count_and_check(k_write)) {
    return -1;
  }
  return real<ssize_t (*)(int, const void*, size_t)>("write")(fd, data, size);
}

int fsync(int fd) { return fsync_common("fsync", fd); }
int fdatasync(int fd) { return fsync_common("fdatasync", fd); }

int close(int fd) {
  if (fd >= 0 && fd < k_max_fd) {
    g_tracked[fd] = 0;
  }
  return real<int (*)(int)>("close")(fd);
}

int rename(const char* from, const char* to) {
  if ((under_dir(from) || under_dir(to)) && count_and_check(k_rename)) {
    return -1;
  }
  return real<int (*)(const char*, const char*)>("rename")(from, to);
}

int renameat(int fromfd, const char* from, int tofd, const char* to) {
  if ((under_dir(from) || under_dir(to)) && count_and_check(k_rename)) {
    return -1;
  }
  return real<int (*)(int, const char*, int, const char*)>("renameat")(fromfd, from,
                                                                      tofd, to);
}

int renameat2(int fromfd, const char* from, int tofd, const char* to,
              unsigned int flags) {
  if ((under_dir(from) || under_dir(to)) && count_and_check(k_rename)) {
    return -1;
  }
  return real<int (*)(int, const char*, int, const char*, unsigned int)>(
    "renameat2")(fromfd, from, tofd, to, flags);
}

} // extern "C"
