// SPDX-License-Identifier: Apache-2.0
#include <stek/io.hpp>

#include "system_error.hpp"

#include <fcntl.h>
#include <stdio.h> // renameat2, RENAME_EXCHANGE
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

Error rename_error(int error,
                   const std::filesystem::path& tmp,
                   const std::filesystem::path& target) {
  return fail(error == EACCES || error == EPERM ? Errc::permission : Errc::io,
              std::string("rename failed: ") + std::strerror(error) + " (" +
                tmp.string() + " to " + target.string() + ")");
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
  struct stat before {};
  const bool existed = ::lstat(target.c_str(), &before) == 0;
  // Swap the new file in rather than rename over the old one: the old one
  // then lives on under the temporary name until the directory is synced,
  // so a failed sync can be undone, and nothing touches the old inode that
  // a watcher would notice before the swap. File systems without
  // RENAME_EXCHANGE get a plain rename, which cannot be undone.
  bool exchanged = false;
  // Only a regular file is swapped: over anything else (a directory) the
  // plain rename below fails as it should.
  if (existed && S_ISREG(before.st_mode)) {
    if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, target.c_str(),
                    RENAME_EXCHANGE) == 0) {
      exchanged = true;
    } else if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) {
      const int error = errno;
      ::unlink(tmp.c_str());
      return rename_error(error, tmp, target);
    }
  }
  if (!exchanged && ::rename(tmp.c_str(), target.c_str()) != 0) {
    const int error = errno;
    ::unlink(tmp.c_str());
    return rename_error(error, tmp, target);
  }
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const bool synced = dir_fd >= 0 && ::fsync(dir_fd) == 0;
  const int error = errno;
  if (dir_fd >= 0) {
    ::close(dir_fd);
  }
  if (synced) {
    if (exchanged) {
      ::unlink(tmp.c_str()); // the previous version
    }
    return {};
  }
  // Without the directory fsync the new name may not survive a power cut,
  // so the command fails; undo the swap, so that a failed command leaves
  // the previous file as it was.
  bool undone = false;
  if (exchanged) {
    undone = ::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, target.c_str(),
                         RENAME_EXCHANGE) == 0;
    ::unlink(tmp.c_str()); // the new version if undone, else the old one
  } else if (!existed) {
    undone = ::unlink(target.c_str()) == 0;
  }
  return fail(error == EACCES || error == EPERM ? Errc::permission : Errc::io,
              std::string(dir_fd < 0 ? "open directory" : "fsync directory") +
                " failed: " + std::strerror(error) +
                (undone ? "; " + target.filename().string() + " is unchanged"
                        : "; " + target.filename().string() + " was replaced") +
                " (" + dir.string() + ")");
}

Result<bool> write_if_changed(const std::filesystem::path& path,
                              SecretView contents) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) {
      return detail::system_error("stat", path, errno);
    }
  } else if (S_ISREG(st.st_mode) &&
             static_cast<std::size_t>(st.st_size) == contents.size()) {
    // A file that cannot be read is an error, not a reason to replace it:
    // the disk that failed the read is the one the write would go to.
    STEK_TRY_ASSIGN(const auto old, read_secret_file(path, contents.size()));
    if (ct_equal(old.view(), contents)) {
      // Same bytes, but the mode is part of the promise too.
      if ((st.st_mode & 07777) != 0600 && ::chmod(path.c_str(), 0600) != 0) {
        return detail::system_error("chmod", path, errno);
      }
      return false;
    }
  }
  STEK_TRY(atomic_write(path, contents));
  return true;
}

Result<void> remove_stale_temporaries(const std::filesystem::path& path) {
  const auto target = resolve_target(path);
  const auto dir = target.parent_path().empty() ? std::filesystem::path(".")
                                                : target.parent_path();
  const auto prefix = temporary_prefix(target);
  // A directory that cannot be listed is about to be written to: fail now,
  // with its name, rather than at the write.
  std::error_code ec;
  std::filesystem::directory_iterator entries(dir, ec);
  if (ec) {
    return detail::system_error("open directory", dir, ec.value());
  }
  for (; entries != std::filesystem::directory_iterator(); entries.increment(ec)) {
    const auto name = entries->path().filename().string();
    // mkstemp appends exactly six characters.
    if (name.size() == prefix.size() + 6 && name.starts_with(prefix) &&
        !std::filesystem::remove(entries->path(), ec) && ec) {
      return detail::system_error("remove", entries->path(), ec.value());
    }
  }
  if (ec) {
    return detail::system_error("read directory", dir, ec.value());
  }
  return {};
}

} // namespace stek
