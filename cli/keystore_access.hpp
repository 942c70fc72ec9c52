// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "context.hpp"

#include <stek/io.hpp>
#include <stek/keystore.hpp>
#include <stek/result.hpp>

#include <filesystem>
#include <optional>

namespace stekctl {

// How long a read-modify-write command waits for another one to finish.
inline constexpr std::chrono::seconds k_lock_timeout{60};

// Load the keystore at `path` for reading, refusing loose permissions
// unless --allow-insecure-permissions.
stek::Result<stek::Keystore> load_keystore(const std::filesystem::path& path,
                                           const Context& ctx);

// A read-modify-write of one keystore file under its lock. Nothing is
// written unless commit() is called; a failed command leaves the file as it
// was.
class KeystoreUpdate {
public:
  // Lock `path`, clear leftovers of interrupted writes, and load it.
  static stek::Result<KeystoreUpdate> begin(const std::filesystem::path& path,
                                            const Context& ctx);
  // Lock `path` for a command that creates the keystore (no load).
  static stek::Result<KeystoreUpdate> begin_create(
    const std::filesystem::path& path);

  stek::Keystore& keystore() { return m_keystore; }
  const std::filesystem::path& path() const { return m_path; }
  // Write the keystore atomically.
  stek::Result<void> commit();
  // Release the lock (before running hooks, so they cannot hold others up).
  void release() { m_lock.reset(); }

private:
  KeystoreUpdate(std::filesystem::path path, stek::FileLock lock)
    : m_path(std::move(path)), m_lock(std::move(lock)) {}

  std::filesystem::path m_path;
  std::optional<stek::FileLock> m_lock;
  stek::Keystore m_keystore;
};

} // namespace stekctl
