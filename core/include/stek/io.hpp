// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stek/result.hpp>
#include <stek/secret.hpp>

#include <chrono>
#include <cstddef>
#include <filesystem>

namespace stek {

// Read the whole regular file at `path` straight into secret memory.
// Directories, other non-regular files and files over `max_size` bytes are
// refused with an error naming the file.
Result<SecretBytes> read_secret_file(const std::filesystem::path& path,
                                     std::size_t max_size);

// Replace `path` with `contents` atomically: a temporary file in the same
// directory, mode 0600 whatever the umask, written and fsynced, renamed over
// `path`, then the directory fsynced. If `path` is a symlink its target is
// replaced. On failure the old file is untouched, the temporary is removed,
// and the error names the operation and the file. That holds for a failed
// directory fsync too: the new file is swapped in with RENAME_EXCHANGE, so
// the old one survives under the temporary name until the directory is
// synced, and a failed sync swaps it back (on a file system without
// RENAME_EXCHANGE a plain rename is used, and the error says the file was
// replaced).
Result<void> atomic_write(const std::filesystem::path& path,
                          SecretView contents);

// Replace `path` with `contents` as atomic_write does, unless it already
// holds exactly those bytes (compared in constant time; its mode is still
// set to 0600). Return whether it wrote. Rewriting nothing keeps file
// watchers and reload hooks quiet.
Result<bool> write_if_changed(const std::filesystem::path& path,
                              SecretView contents);

// Remove temporaries that an interrupted atomic_write of `path` left behind.
// Call only while holding the FileLock of `path`. A directory that cannot be
// listed, or a leftover that cannot be removed, is an error naming it.
Result<void> remove_stale_temporaries(const std::filesystem::path& path);

// Return the path atomic_write would replace for `path` (symlinks resolved).
std::filesystem::path resolve_target(const std::filesystem::path& path);

// Refuse `path` if group or others may read or write it, with a message that
// says how to fix it.
Result<void> check_private_permissions(const std::filesystem::path& path);

// The same for a server's provider, whose fix is its require_private
// option rather than stekctl's flag.
Result<void> check_private_for_server(const std::filesystem::path& path);

// An exclusive advisory lock (flock) on `<path>.lock`, held until
// destruction. Read-modify-write commands hold it so concurrent runs
// serialize.
class FileLock {
public:
  // Wait up to `timeout` for the lock of `path`; Errc::locked after that.
  static Result<FileLock> acquire(const std::filesystem::path& path,
                                  std::chrono::milliseconds timeout);
  ~FileLock();
  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

private:
  explicit FileLock(int fd) : m_fd(fd) {}
  int m_fd = -1;
};

} // namespace stek
