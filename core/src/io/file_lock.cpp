// SPDX-License-Identifier: Apache-2.0
#include <stek/io.hpp>

#include "system_error.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

namespace stek {

Result<FileLock> FileLock::acquire(const std::filesystem::path& path,
                                   std::chrono::milliseconds timeout) {
  // The lock lives beside the keystore, never in it: the keystore itself is
  // replaced by rename, so a lock on its inode would not exclude anyone.
  auto lock_path = resolve_target(path);
  lock_path += ".lock";
  const int fd =
    ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
  if (fd < 0) {
    return detail::system_error("open lock file", lock_path, errno);
  }
  // Root working on a service's keystore must not leave a lock file the
  // service cannot open: give it the keystore's owner, as atomic_write does
  // for the keystore itself.
  struct stat keystore {};
  if (::geteuid() == 0 && ::stat(resolve_target(path).c_str(), &keystore) == 0 &&
      ::fchown(fd, keystore.st_uid, keystore.st_gid) != 0) {
    const int error = errno;
    ::close(fd);
    return detail::system_error("chown lock file", lock_path, error);
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::milliseconds(2);
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    if (error != EWOULDBLOCK && error != EINTR) {
      ::close(fd);
      return detail::system_error("lock", lock_path, error);
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ::close(fd);
      return fail(Errc::locked,
                  "keystore is locked by another stekctl process; gave up "
                  "after " +
                    std::to_string(timeout.count() / 1000) + "s (" +
                    lock_path.string() + ")");
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
  return FileLock(fd);
}

FileLock::~FileLock() {
  if (m_fd >= 0) {
    ::close(m_fd);
  }
}

FileLock::FileLock(FileLock&& other) noexcept : m_fd(other.m_fd) {
  other.m_fd = -1;
}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
    m_fd = other.m_fd;
    other.m_fd = -1;
  }
  return *this;
}

} // namespace stek
