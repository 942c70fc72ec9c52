// SPDX-License-Identifier: Apache-2.0
#include "secret_cache.hpp"

#include <stek/crypto.hpp>

namespace stek::inspect::detail {

Derived derive_secrets(const Key& key, const Binding& binding, Scheme scheme) {
  Derived out;
  switch (scheme) {
  case Scheme::openssl32:
  case Scheme::openssl16: {
    auto keys = openssl_keys_for(key, binding, scheme == Scheme::openssl32 ? 32 : 16);
    if (keys.ok()) {
      out.available = true;
      out.a = std::move(keys->aes);
      out.b = std::move(keys->hmac);
    }
    return out;
  }
  case Scheme::s2n: {
    // tls/s2n_config.c: okm = HKDF(salt empty, material, info empty, 44);
    // aes_key = okm[0, 32), implicit_aad = okm[32, 44).
    auto material = material_for(key, binding);
    if (!material.ok()) {
      return out;
    }
    auto okm = hkdf_sha256(material->view(), {}, {}, 44);
    if (!okm.ok()) {
      return out;
    }
    out.available = true;
    out.a = SecretBytes::copy_of(okm->reveal().first(32));
    out.b = SecretBytes::copy_of(okm->reveal().subspan(32, 12));
    return out;
  }
  case Scheme::go: {
    // crypto/tls common.go ticketKeyFromBytes: SHA-512 of the 32-byte key.
    auto material = material_for(key, binding);
    if (!material.ok()) {
      return out;
    }
    out.available = true;
    out.a = sha512(material->view());
    return out;
  }
  }
  return out;
}

std::shared_ptr<const Derived> SecretCache::get(const Key& key,
                                                std::size_t index,
                                                const Binding& binding,
                                                const std::string& binding_name,
                                                Scheme scheme) {
  Slot slot{index, binding_name, scheme};
  if (const auto it = m_entries.find(slot); it != m_entries.end()) {
    return it->second;
  }
  if (m_entries.size() >= k_max_entries) {
    // Entries are shared_ptr: anything a caller still holds stays valid.
    m_entries.clear();
  }
  auto derived = std::make_shared<const Derived>(derive_secrets(key, binding, scheme));
  ++m_derivations;
  m_entries.emplace(std::move(slot), derived);
  return derived;
}

} // namespace stek::inspect::detail
