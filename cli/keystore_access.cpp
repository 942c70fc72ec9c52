// SPDX-License-Identifier: Apache-2.0
#include "keystore_access.hpp"

#include <stek/formats/native_keystore.hpp>

namespace stekctl {

stek::Result<stek::Keystore> load_keystore(const std::filesystem::path& path,
                                           const Context& ctx) {
  if (!ctx.allow_insecure_permissions) {
    STEK_TRY(stek::check_private_permissions(path));
  }
  return stek::formats::load_native_keystore(path);
}

stek::Result<KeystoreUpdate> KeystoreUpdate::begin(
  const std::filesystem::path& path, const Context& ctx) {
  // Check the file before creating a lock file next to a path that is wrong.
  if (!ctx.allow_insecure_permissions) {
    STEK_TRY(stek::check_private_permissions(path));
  }
  STEK_TRY_ASSIGN(auto lock, stek::FileLock::acquire(path, k_lock_timeout));
  stek::remove_stale_temporaries(path);
  KeystoreUpdate update(path, std::move(lock));
  // Load under the lock: another run may have rotated in the meantime.
  STEK_TRY_ASSIGN(update.m_keystore, load_keystore(path, ctx));
  return update;
}

stek::Result<KeystoreUpdate> KeystoreUpdate::begin_create(
  const std::filesystem::path& path) {
  STEK_TRY_ASSIGN(auto lock, stek::FileLock::acquire(path, k_lock_timeout));
  stek::remove_stale_temporaries(path);
  return KeystoreUpdate(path, std::move(lock));
}

stek::Result<void> KeystoreUpdate::commit() {
  return stek::formats::save_native_keystore(m_path, m_keystore);
}

} // namespace stekctl
