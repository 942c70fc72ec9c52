// SPDX-License-Identifier: Apache-2.0
// Derived ticket secrets per (key index, binding, scheme), so that opening
// many tickets derives each key's secrets once. Bounded: when full it is
// emptied and refilled, which keeps the common case (a few keys, a few
// bindings) at one derivation each without an LRU's bookkeeping.
#pragma once
#include <stek/derive.hpp>
#include <stek/key.hpp>
#include <stek/secret.hpp>

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <tuple>

namespace stek::inspect::detail {

enum class Scheme {
  openssl32, // a = AES-256-CBC key, b = HMAC key (32)
  openssl16, // a = AES-128-CBC key, b = HMAC key (16)
  s2n,       // a = aes_key (32), b = implicit_aad (12)
  go,        // a = SHA-512(material): name 0-15, AES 16-31, HMAC 32-47
};

// One key's secrets for one binding and scheme; `available` is false when
// the key cannot have them (an imported key asked for a binding, a size or
// a scheme it does not support).
struct Derived {
  bool available = false;
  SecretBytes a;
  SecretBytes b;
};

class SecretCache {
public:
  static constexpr std::size_t k_max_entries = 4096;

  // Return the secrets of `key` (at `index` in its keystore) for `binding`
  // (named `binding_name`) under `scheme`, deriving them on first use.
  std::shared_ptr<const Derived> get(const Key& key,
                                     std::size_t index,
                                     const Binding& binding,
                                     const std::string& binding_name,
                                     Scheme scheme);

  std::size_t size() const { return m_entries.size(); }
  std::size_t derivations() const { return m_derivations; }

private:
  using Slot = std::tuple<std::size_t, std::string, Scheme>;
  std::map<Slot, std::shared_ptr<const Derived>> m_entries;
  std::size_t m_derivations = 0;
};

// Derive `key`'s secrets for `binding` under `scheme` without caching.
Derived derive_secrets(const Key& key, const Binding& binding, Scheme scheme);

} // namespace stek::inspect::detail
