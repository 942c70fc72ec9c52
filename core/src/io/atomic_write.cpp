// SPDX-License-Identifier: Apache-2.0
#include <stek/io.hpp>

#include "system_error.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <system_error>

namespace stek {
namespace {

// Temporaries are hidden, carry the target's name and a fixed marker, so an
// interrupted run's leftovers can be found and removed under the lock.
std::string temporary_prefix(const std::filesystem::path& target) {
  // Built by appending: GCC 12 gives a false -Wrestrict for operator+ here.
  std::string prefix(".");
  prefix.append(target.filename().string()).append(".tmp-");
  return prefix;
}

Result<void> write_all(int fd, const std::filesystem::path& path, SecretView data) {
  auto bytes = data.reveal();
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return detail::system_error("write", path, errno);
    }
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
  return {};
}

Result<void> fsync_directory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return detail::system_error("open directory", dir, errno);
  }
  const int rc = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (rc != 0) {
    return detail::system_error("fsync directory", dir, error);
  }
  return {};
}

// Write, chmod, chown and fsync the open temporary `fd`.
Result<void> fill_temporary(int fd,
                            const std::filesystem::path& tmp,
                            const std::filesystem::path& target,
                            SecretView contents) {
  // mkstemp honours the umask; the keystore mode is 0600 whatever it is.
  if (::fchmod(fd, 0600) != 0) {
    return detail::system_error("chmod", tmp, errno);
  }
  // Root rewriting a file that belongs to a service keeps it that
  // service's file.
  struct stat old {};
  if (::geteuid() == 0 && ::stat(target.c_str(), &old) == 0 &&
      ::fchown(fd, old.st_uid, old.st_gid) != 0) {
    return detail::system_error("chown", tmp, errno);
  }
  STEK_TRY(write_all(fd, tmp, contents));
  if (::fsync(fd) != 0) {
    return detail::system_error("fsync", tmp, errno);
  }
  return {};
}

} // namespace

std::filesystem::path resolve_target(const std::filesystem::path& path) {
  std::error_code ec;
  auto resolved = std::filesystem::weakly_canonical(path, ec);
  return ec ? path : resolved;
}

Result<void> atomic_write(const std::filesystem::path& path,
                          SecretView contents) {
  const auto target = resolve_target(path);
  const auto dir = target.parent_path().empty() ? std::filesystem::path(".")
                                                : target.parent_path();
  std::string tmp_name = (dir / temporary_prefix(target)).string();
  tmp_name.append("XXXXXX");
  const int fd = ::mkostemp(tmp_name.data(), O_CLOEXEC);
  if (fd < 0) {
    return detail::system_error("create temporary file", dir, errno);
  }
  const std::filesystem::path tmp(tmp_name);
  auto filled = fill_temporary(fd, tmp, target, contents);
  if (::close(fd) != 0 && filled.ok()) {
    filled = detail::system_error("close", tmp, errno);
  }
  if (!filled.ok()) {
    ::unlink(tmp.c_str());
    return filled;
  }
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    const int error = errno;
    ::unlink(tmp.c_str());
    return fail(error == EACCES || error == EPERM ? Errc::permission : Errc::io,
                std::string("rename failed: ") + std::strerror(error) + " (" +
                  tmp.string() + " to " + target.string() + ")");
  }
  // The rename is done; a failed directory fsync means it may not survive a
  // power cut, which the caller must hear about.
  return fsync_directory(dir);
}

Result<bool> write_if_changed(const std::filesystem::path& path,
                              SecretView contents) {
  // One byte over the new size is enough to see that the old one differs.
  auto old = read_secret_file(path, contents.size() + 1);
  if (old.ok() && ct_equal(old->view(), contents)) {
    // Same bytes, but the mode is part of the promise too.
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 07777) != 0600 &&
        ::chmod(path.c_str(), 0600) != 0) {
      return detail::system_error("chmod", path, errno);
    }
    return false;
  }
  STEK_TRY(atomic_write(path, contents));
  return true;
}

void remove_stale_temporaries(const std::filesystem::path& path) {
  const auto target = resolve_target(path);
  const auto dir = target.parent_path().empty() ? std::filesystem::path(".")
                                                : target.parent_path();
  const auto prefix = temporary_prefix(target);
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const auto name = entry.path().filename().string();
    // mkstemp appends exactly six characters.
    if (name.size() == prefix.size() + 6 && name.starts_with(prefix)) {
      std::filesystem::remove(entry.path(), ec);
    }
  }
}

} // namespace stek
