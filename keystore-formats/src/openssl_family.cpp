// SPDX-License-Identifier: Apache-2.0
#include "openssl_family.hpp"

#include <algorithm>

namespace stek::formats::detail {

std::vector<const Key*> LiveKeys::all() const {
  std::vector<const Key*> out{encrypting};
  out.insert(out.end(), pending.begin(), pending.end());
  out.insert(out.end(), decrypting.begin(), decrypting.end());
  return out;
}

Result<LiveKeys> live_keys(const ExportRequest& request) {
  const Keystore& ks = *request.keystore;
  LiveKeys live;
  live.encrypting = ks.encrypting_key(request.now);
  STEK_ENSURE(live.encrypting != nullptr, Errc::invalid_keystore,
              "no key encrypts at " + format_time(request.now) +
                ", so there is nothing a server could use; run 'stekctl "
                "rotate' first");
  for (const Key& key : ks.keys) {
    if (&key == live.encrypting) {
      continue;
    }
    switch (key.state_at(request.now)) {
    case KeyState::pending:
      live.pending.push_back(&key);
      break;
    case KeyState::active:
    case KeyState::decrypt_only:
      // An active key that is not the encrypting one only decrypts.
      live.decrypting.push_back(&key);
      break;
    case KeyState::expired:
    case KeyState::revoked:
      break;
    }
  }
  std::sort(live.pending.begin(), live.pending.end(),
            [](const Key* a, const Key* b) { return encrypts_before(*b, *a); });
  std::sort(live.decrypting.begin(), live.decrypting.end(),
            [](const Key* a, const Key* b) { return encrypts_before(*a, *b); });
  return live;
}

Binding unbound_if_imported(const Key& key,
                            const ExportRequest& request,
                            std::vector<std::string>& warnings) {
  if (!key.origin || request.binding.is_unbound()) {
    return request.binding;
  }
  // Its tickets were issued unbound by the server it came from; binding it
  // now would only stop them resuming.
  warnings.push_back("key " + key.id.hex() + " was imported from " +
                     *key.origin +
                     " and is exported as it is, not bound to the server name");
  return Binding::unbound();
}

Result<SecretBytes> export_material(const Key& key,
                                    const ExportRequest& request,
                                    std::string_view format,
                                    std::vector<std::string>& warnings) {
  if (std::holds_alternative<ImportedKeys>(key.secret)) {
    return fail(Errc::unsupported,
                "key " + key.id.hex() + " was imported from " +
                  key.origin.value_or("a server") +
                  " and has only AES and HMAC keys; " +
                  std::string(format) +
                  " needs 32 bytes of material, so it cannot be exported there "
                  "(export to an OpenSSL-family format of the same size, or "
                  "wait until the key expires)");
  }
  return material_for(key, unbound_if_imported(key, request, warnings));
}

Result<SecretBytes> key_file(const Key& key,
                             const ExportRequest& request,
                             KeyFileLayout layout,
                             std::vector<std::string>& warnings) {
  STEK_TRY_ASSIGN(auto keys,
                  openssl_keys_for(key, unbound_if_imported(key, request, warnings),
                                   layout.secret_size));
  SecretBytes out;
  out.reserve(layout.file_size());
  out.append(key.id.bytes());
  if (layout.order == SecretOrder::hmac_then_aes) {
    out.append(keys.hmac.reveal());
    out.append(keys.aes.reveal());
  } else {
    out.append(keys.aes.reveal());
    out.append(keys.hmac.reveal());
  }
  return out;
}

Result<ServerKey> parse_key_file(SecretView bytes,
                                 KeyFileLayout layout,
                                 std::string_view origin,
                                 std::string_view source) {
  STEK_ENSURE(bytes.size() == layout.file_size(), Errc::parse,
              std::string(origin) + " key must be " +
                std::to_string(layout.file_size()) + " bytes, not " +
                std::to_string(bytes.size()) + " (" + std::string(source) + ")");
  const auto data = bytes.reveal();
  KeyId::Bytes name{};
  std::copy_n(data.begin(), KeyId::k_size, name.begin());
  const auto first = data.subspan(KeyId::k_size, layout.secret_size);
  const auto second =
    data.subspan(KeyId::k_size + layout.secret_size, layout.secret_size);
  const bool hmac_first = layout.order == SecretOrder::hmac_then_aes;
  ImportedKeys keys{SecretBytes::copy_of(hmac_first ? second : first),
                    SecretBytes::copy_of(hmac_first ? first : second)};
  return ServerKey{KeyId(name), std::move(keys), std::string(origin), false};
}

void warn_single_key(const LiveKeys& live,
                     std::string_view server,
                     std::vector<std::string>& warnings) {
  std::string left_out;
  for (const auto& group : {live.pending, live.decrypting}) {
    for (const Key* key : group) {
      left_out += (left_out.empty() ? "" : ", ") + key->id.hex();
    }
  }
  if (!left_out.empty()) {
    warnings.push_back(
      std::string(server) + " holds one key: only the encrypting key " +
      live.encrypting->id.hex() + " is exported, not " + left_out +
      "; tickets issued under those get a full handshake, and a pending key "
      "is not accepted before this server is given it");
  }
}

std::string key_file_name(const KeyId& id) { return id.hex() + ".key"; }

SecretBytes secret_text(std::string_view text) {
  SecretBytes out;
  out.append(text);
  return out;
}

} // namespace stek::formats::detail
