// SPDX-License-Identifier: Apache-2.0
#include <stek/keystore.hpp>

#include <stek/crypto.hpp>

#include <algorithm>
#include <cctype>
#include <map>

namespace stek {
namespace {

// The most keys one rotation may schedule ahead, so a policy cannot make a
// keystore grow without bound.
constexpr std::int64_t k_max_pending_keys = 1000;
constexpr std::int64_t k_max_derived_epochs = 1000;

std::string field_error(const Keystore& ks,
                        std::size_t index,
                        std::string_view field,
                        std::string_view what) {
  return describe_key(ks, index) + ": \"" + std::string(field) + "\" " +
         std::string(what);
}

bool all_zero(SecretView bytes) {
  std::uint8_t acc = 0;
  for (auto b : bytes.reveal()) {
    acc = static_cast<std::uint8_t>(acc | b);
  }
  return acc == 0;
}

Result<void> validate_secret(const Keystore& ks, std::size_t index) {
  const Key& key = ks.keys[index];
  if (const auto* m = std::get_if<Material>(&key.secret)) {
    STEK_ENSURE(m->bytes.size() == Material::k_size, Errc::invalid_keystore,
                field_error(ks, index, "material",
                            "must be 32 bytes, has " +
                              std::to_string(m->bytes.size())));
    STEK_ENSURE(!all_zero(m->bytes.view()), Errc::invalid_keystore,
                field_error(ks, index, "material", "is all zero bytes"));
    STEK_ENSURE(!key.origin || !key.origin->empty(), Errc::invalid_keystore,
                field_error(ks, index, "origin", "is empty"));
    return {};
  }
  const auto& imported = std::get<ImportedKeys>(key.secret);
  for (const auto& [name, bytes] :
       {std::pair<std::string_view, const SecretBytes*>{"aes", &imported.aes},
        {"hmac", &imported.hmac}}) {
    STEK_ENSURE(bytes->size() == 16 || bytes->size() == 32,
                Errc::invalid_keystore,
                field_error(ks, index, name,
                            "must be 16 or 32 bytes, has " +
                              std::to_string(bytes->size())));
    STEK_ENSURE(!all_zero(bytes->view()), Errc::invalid_keystore,
                field_error(ks, index, name, "is all zero bytes"));
  }
  STEK_ENSURE(imported.aes.size() == imported.hmac.size(),
              Errc::invalid_keystore,
              field_error(ks, index, "hmac",
                          "must be as long as \"aes\" (16 or 32 bytes)"));
  STEK_ENSURE(key.origin && !key.origin->empty(), Errc::invalid_keystore,
              field_error(ks, index, "origin",
                          "must name the format the key came from"));
  return {};
}

Result<void> validate_times(const Keystore& ks, std::size_t index) {
  const Key& key = ks.keys[index];
  STEK_ENSURE(key.not_before <= key.encrypt_until, Errc::invalid_keystore,
              field_error(ks, index, "not_before", "is after \"encrypt_until\""));
  STEK_ENSURE(key.encrypt_until <= key.decrypt_until, Errc::invalid_keystore,
              field_error(ks, index, "encrypt_until",
                          "is after \"decrypt_until\""));
  if (key.revoked) {
    STEK_ENSURE(!key.revoked->reason.empty(), Errc::invalid_keystore,
                field_error(ks, index, "revoked.reason", "is empty"));
  }
  return {};
}

} // namespace

Result<void> Policy::validate() const {
  const auto bad = [](std::string_view field, std::string_view what) {
    return fail(Errc::invalid_keystore,
                "\"policy." + std::string(field) + "\" " + std::string(what));
  };
  if (rotate_every <= Duration::zero()) {
    return bad("rotate_every", "must be positive");
  }
  if (encrypt_for < rotate_every) {
    return bad("encrypt_for",
               "must be at least \"rotate_every\", or no key would encrypt "
               "between one key's end and its successor's start");
  }
  if (decrypt_for <= Duration::zero()) {
    return bad("decrypt_for", "must be positive");
  }
  if (publish_ahead < Duration::zero()) {
    return bad("publish_ahead", "must not be negative");
  }
  if (publish_ahead / rotate_every > k_max_pending_keys) {
    return bad("publish_ahead", "would keep more than 1000 keys pending");
  }
  return {};
}

Result<void> Keystore::validate() const {
  STEK_TRY(policy.validate());
  if (derivation) {
    STEK_TRY(derivation->validate());
    STEK_ENSURE(keys.empty(), Errc::invalid_keystore,
                "a derived keystore holds no keys; its keys come from the "
                "oracle (\"keys\")");
    // A server holds every epoch that still decrypts or is published.
    const auto held =
      (policy.encrypt_for + policy.decrypt_for + policy.publish_ahead) /
      policy.rotate_every;
    STEK_ENSURE(held <= k_max_derived_epochs, Errc::invalid_keystore,
                "\"policy.rotate_every\" is too short for a derived keystore: "
                "a server would hold " + std::to_string(held + 1) +
                  " epochs at once, each an oracle call (at most " +
                  std::to_string(k_max_derived_epochs) + ")");
  }
  std::map<KeyId, std::size_t> ids;
  std::map<Sha256Digest, std::size_t> secrets;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    STEK_TRY(validate_secret(*this, i));
    STEK_TRY(validate_times(*this, i));
    if (const auto [it, fresh] = ids.emplace(keys[i].id, i); !fresh) {
      return fail(Errc::invalid_keystore,
                  field_error(*this, i, "id",
                              "duplicates key #" + std::to_string(it->second + 1)));
    }
    // Compare digests, not the secrets themselves, so the check does not
    // branch on secret bytes.
    const auto digest = sha256(keys[i].secret_identity().reveal());
    if (const auto [it, fresh] = secrets.emplace(digest, i); !fresh) {
      const bool material = std::holds_alternative<Material>(keys[i].secret);
      return fail(Errc::invalid_keystore,
                  field_error(*this, i, material ? "material" : "aes",
                              "repeats the secret of " +
                                describe_key(*this, it->second)));
    }
  }
  return {};
}

bool encrypts_before(const Key& a, const Key& b) {
  if (a.not_before != b.not_before) {
    return a.not_before > b.not_before;
  }
  if (a.created != b.created) {
    return a.created > b.created;
  }
  return a.id > b.id;
}

const Key* Keystore::encrypting_key(Timestamp t) const {
  const Key* best = nullptr;
  for (const Key& key : keys) {
    if (key.state_at(t) == KeyState::active &&
        (best == nullptr || encrypts_before(key, *best))) {
      best = &key;
    }
  }
  return best;
}

Key* Keystore::encrypting_key(Timestamp t) {
  return const_cast<Key*>(std::as_const(*this).encrypting_key(t));
}

const Key* Keystore::find(const KeyId& id) const {
  const auto it = std::find_if(
    keys.begin(), keys.end(), [&](const Key& k) { return k.id == id; });
  return it == keys.end() ? nullptr : &*it;
}

Key* Keystore::find(const KeyId& id) {
  return const_cast<Key*>(std::as_const(*this).find(id));
}

Result<void> check_key_id_prefix(std::string_view prefix) {
  STEK_ENSURE(prefix.size() >= 4 && prefix.size() <= 2 * KeyId::k_size &&
                prefix.find_first_not_of("0123456789abcdefABCDEF") ==
                  std::string::npos,
              Errc::invalid_argument,
              "key id \"" + std::string(prefix) +
                "\" is not 4 to 32 hex digits");
  return {};
}

Result<std::size_t> Keystore::find_by_prefix(std::string_view prefix) const {
  STEK_TRY(check_key_id_prefix(prefix));
  std::string wanted(prefix);
  for (char& c : wanted) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  std::optional<std::size_t> match;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (keys[i].id.hex().starts_with(wanted)) {
      STEK_ENSURE(!match, Errc::ambiguous,
                  "key id prefix \"" + std::string(prefix) +
                    "\" matches more than one key; give more digits");
      match = i;
    }
  }
  STEK_ENSURE(match, Errc::not_found,
              "no key with id \"" + std::string(prefix) + "\"");
  return *match;
}

Keystore Keystore::clone() const {
  Keystore copy{policy, {}, derivation};
  copy.keys.reserve(keys.size());
  for (const Key& key : keys) {
    copy.keys.push_back(key.clone());
  }
  return copy;
}

std::string describe_key(const Keystore& keystore, std::size_t index) {
  return "key #" + std::to_string(index + 1) + " (id " +
         keystore.keys[index].id.hex() + ")";
}

Result<RevokeOutcome> revoke_key(Keystore& keystore,
                                 std::size_t index,
                                 Timestamp at,
                                 std::string reason) {
  STEK_ENSURE(index < keystore.keys.size(), Errc::not_found, "no such key");
  STEK_ENSURE(!reason.empty(), Errc::invalid_argument,
              "a revocation needs a reason");
  Key& key = keystore.keys[index];
  if (key.revoked && key.revoked->at <= at) {
    return RevokeOutcome::already_revoked;
  }
  key.revoked = Revocation{at, std::move(reason)};
  return RevokeOutcome::revoked;
}

} // namespace stek
