// SPDX-License-Identifier: Apache-2.0
#include "keystore_access.hpp"

#include <stek/formats/native_keystore.hpp>

namespace stekctl {
namespace {

// Check the keystore file before anything else touches it: it exists, is a
// regular file, and only its owner may access it.
stek::Result<void> check_keystore_file(const std::filesystem::path& path,
                                       const Context& ctx) {
  auto checked = stek::check_private_permissions(path);
  if (checked.ok() || (checked.error().code == stek::Errc::permission &&
                       ctx.allow_insecure_permissions)) {
    return {};
  }
  if (checked.error().code == stek::Errc::not_found) {
    return stek::fail(stek::Errc::not_found,
                      "no keystore here; create one with 'stekctl generate " +
                        path.string() + "' (" + path.string() + ")");
  }
  return checked;
}

} // namespace

stek::Result<stek::Keystore> load_keystore(const std::filesystem::path& path,
                                           const Context& ctx) {
  STEK_TRY(check_keystore_file(path, ctx));
  return stek::formats::load_native_keystore(path);
}

stek::Result<KeystoreUpdate> KeystoreUpdate::begin(
  const std::filesystem::path& path, const Context& ctx) {
  // Check the file before creating a lock file next to a path that is wrong.
  STEK_TRY(check_keystore_file(path, ctx));
  STEK_TRY_ASSIGN(auto lock, stek::FileLock::acquire(path, k_lock_timeout));
  STEK_TRY(stek::remove_stale_temporaries(path));
  KeystoreUpdate update(path, std::move(lock));
  // Load under the lock: another run may have rotated in the meantime.
  STEK_TRY_ASSIGN(update.m_keystore, stek::formats::load_native_keystore(path));
  return update;
}

stek::Result<KeystoreUpdate> KeystoreUpdate::begin_create(
  const std::filesystem::path& path) {
  STEK_TRY_ASSIGN(auto lock, stek::FileLock::acquire(path, k_lock_timeout));
  STEK_TRY(stek::remove_stale_temporaries(path));
  return KeystoreUpdate(path, std::move(lock));
}

stek::Result<void> KeystoreUpdate::commit() {
  return stek::formats::save_native_keystore(m_path, m_keystore);
}

} // namespace stekctl
