// SPDX-License-Identifier: Apache-2.0
#include <stek/key.hpp>

#include <stek/crypto.hpp>
#include <stek/encoding.hpp>

#include <algorithm>

namespace stek {

Result<KeyId> KeyId::from_hex(std::string_view text) {
  STEK_ENSURE(text.size() == 2 * k_size, Errc::parse,
              "a key id is 32 hex digits");
  STEK_TRY_ASSIGN(auto bytes, hex_decode(text));
  Bytes out{};
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return KeyId(out);
}

Result<KeyId> KeyId::random() {
  Bytes out{};
  STEK_TRY(random_bytes(out));
  return KeyId(out);
}

std::string KeyId::hex() const { return hex_encode(m_bytes); }

std::string_view key_state_name(KeyState state) {
  switch (state) {
  case KeyState::pending:
    return "pending";
  case KeyState::active:
    return "active";
  case KeyState::decrypt_only:
    return "decrypt-only";
  case KeyState::expired:
    return "expired";
  case KeyState::revoked:
    return "revoked";
  }
  return "unknown";
}

bool state_decrypts(KeyState state) {
  switch (state) {
  case KeyState::pending:
  case KeyState::active:
  case KeyState::decrypt_only:
    return true;
  case KeyState::expired:
  case KeyState::revoked:
    return false;
  }
  return false;
}

KeyState Key::state_at(Timestamp t) const {
  if (revoked && revoked->at <= t) {
    return KeyState::revoked;
  }
  if (t < not_before) {
    return KeyState::pending;
  }
  if (t < encrypt_until) {
    return KeyState::active;
  }
  if (t < decrypt_until) {
    return KeyState::decrypt_only;
  }
  return KeyState::expired;
}

SecretView Key::secret_identity() const {
  if (const auto* m = std::get_if<Material>(&secret)) {
    return m->bytes.view();
  }
  // An imported key is identified by its AES key: two entries sharing it
  // would be the same key under two names.
  return std::get<ImportedKeys>(secret).aes.view();
}

Key Key::clone() const {
  Key copy{id,      created,    not_before, encrypt_until,
           decrypt_until, revoked, Material{}, origin, epoch};
  if (const auto* m = std::get_if<Material>(&secret)) {
    copy.secret = Material{m->bytes.clone()};
  } else {
    const auto& imported = std::get<ImportedKeys>(secret);
    copy.secret =
      ImportedKeys{imported.aes.clone(), imported.hmac.clone()};
  }
  return copy;
}

} // namespace stek
