// SPDX-License-Identifier: Apache-2.0
#include <stek/io.hpp>

#include "system_error.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <string_view>
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

// Give the current `target` a second name beside the temporary `tmp`, so
// that the rename can be undone if the directory fsync after it fails. The
// name follows the temporary pattern, so remove_stale_temporaries cleans it
// up after a crash. Return the empty path when the file system cannot link;
// a failed directory fsync then cannot be undone, and the error says so.
std::filesystem::path keep_previous(const std::filesystem::path& target,
                                    const std::filesystem::path& tmp) {
  std::string name = tmp.string();
  static constexpr std::string_view k_letters =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  // Vary the six characters mkstemp chose; under the keystore lock nobody
  // else makes names in this pattern, so few attempts are ever needed.
  for (int attempt = 0; attempt < 16; ++attempt) {
    const auto at = k_letters.find(name.back());
    name.back() =
      k_letters[(at == std::string_view::npos ? 0 : at + 1) % k_letters.size()];
    if (::link(target.c_str(), name.c_str()) == 0) {
      return name;
    }
    if (errno != EEXIST) {
      return {};
    }
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
  struct stat before {};
  const bool existed = ::lstat(target.c_str(), &before) == 0;
  const auto previous = existed ? keep_previous(target, tmp) : std::filesystem::path();
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    const int error = errno;
    ::unlink(tmp.c_str());
    if (!previous.empty()) {
      ::unlink(previous.c_str());
    }
    return fail(error == EACCES || error == EPERM ? Errc::permission : Errc::io,
                std::string("rename failed: ") + std::strerror(error) + " (" +
                  tmp.string() + " to " + target.string() + ")");
  }
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const bool synced = dir_fd >= 0 && ::fsync(dir_fd) == 0;
  const int error = errno;
  if (dir_fd >= 0) {
    ::close(dir_fd);
  }
  if (synced) {
    if (!previous.empty()) {
      ::unlink(previous.c_str());
    }
    return {};
  }
  // Without the directory fsync the rename may not survive a power cut, so
  // the command fails; undo the rename, so that a failed command leaves the
  // previous file as it was.
  const bool undone = existed ? !previous.empty() &&
                                  ::rename(previous.c_str(), target.c_str()) == 0
                              : ::unlink(target.c_str()) == 0;
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
