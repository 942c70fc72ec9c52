// SPDX-License-Identifier: Apache-2.0
#pragma once

// The secrets a secret-scan test knows: every key of every keystore it made
// or read, as stored (material, or imported AES and HMAC keys) and as each
// kind of server is handed it (the HKDF-derived AES and HMAC keys of both
// sizes and the material derived per server name), read with libstek, plus
// any bytes the test chose itself (import files, key logs, session
// secrets).

#include "hygiene/secret_forms.hpp"

#include <stek/derive.hpp>
#include <stek/formats/native_keystore.hpp>

#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <variant>
#include <vector>

namespace stek::hygiene {

// Every server name the tests pass to --sni: secrets derived for them are
// known before any export is made.
inline const std::vector<std::string>& server_names() {
  static const std::vector<std::string> names = {"a.example", "b.example",
                                                 "www.example.com"};
  return names;
}

class KnownSecrets {
public:
  const SecretScanner& scanner() const { return m_scanner; }

  // Learn `bytes` as a secret called `label`.
  void learn(const std::string& label, std::span<const std::uint8_t> bytes) {
    m_scanner.add(label, bytes);
  }

  // Learn a key blob (a key file, a key line): looked for whole only, as
  // it holds the public key id beside its secrets.
  void learn_blob(const std::string& label, std::span<const std::uint8_t> bytes) {
    m_scanner.add(label, bytes, /*whole_only=*/true);
  }

  // Learn every secret of the keystore file at `path`, which must parse.
  void learn_keystore(const std::filesystem::path& path) {
    auto keystore = formats::load_native_keystore(path);
    REQUIRE_MESSAGE(keystore.ok(), "cannot read " << path.string()
                                                  << " to learn its secrets");
    learn_keys(*keystore);
  }

  // Learn every secret of every key in `keystore`.
  void learn_keys(const Keystore& keystore) {
    for (const Key& key : keystore.keys) {
      learn_key(key);
    }
  }

  void learn_key(const Key& key) {
    const std::string name = "key " + key.id.hex();
    if (const auto* material = std::get_if<Material>(&key.secret)) {
      learn(name + " material", material->bytes.reveal());
    } else {
      const auto& imported = std::get<ImportedKeys>(key.secret);
      learn(name + " imported AES key", imported.aes.reveal());
      learn(name + " imported HMAC key", imported.hmac.reveal());
    }
    std::vector<std::pair<std::string, Binding>> bindings;
    bindings.emplace_back("unbound", Binding::unbound());
    bindings.emplace_back("no-SNI", Binding::no_server_name());
    for (const auto& sni : server_names()) {
      bindings.emplace_back("SNI " + sni, Binding::server_name(sni));
    }
    for (const auto& [what, binding] : bindings) {
      // Imported keys have no material and are never bound: these fail for
      // them, and there is nothing more to learn.
      if (auto material = material_for(key, binding)) {
        learn(name + " " + what + " material", material->reveal());
      }
      for (const std::size_t size : {32u, 16u}) {
        if (auto keys = openssl_keys_for(key, binding, size)) {
          const auto bits = std::to_string(8 * size);
          learn(name + " " + what + " AES-" + bits + " key", keys->aes.reveal());
          learn(name + " " + what + " HMAC key (" + std::to_string(size) +
                  " bytes)",
                keys->hmac.reveal());
        }
      }
    }
  }

private:
  SecretScanner m_scanner;
};

} // namespace stek::hygiene
