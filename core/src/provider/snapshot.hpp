// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "derived_cache.hpp"

#include <stek/keystore.hpp>
#include <stek/provider.hpp>
#include <stek/result.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stek::detail {

// One loaded keystore, immutable once built, with everything a lookup needs
// ready: the unbound secrets of every key computed, and a cache for the
// per-name ones. Shared by every lookup thread.
class Snapshot {
public:
  // Take `keystore` (already validated). `notes` receives what the provider
  // cannot use, e.g. keys imported with 16-byte secrets.
  static Result<std::unique_ptr<Snapshot>>
  build(Keystore keystore, std::size_t cache_entries, std::string& notes);

  ~Snapshot();
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;

  // Fill `out` with the key that encrypts at `now` for `sni`; false if none
  // does or `sni` is not a valid host name.
  bool encryption_key(Timestamp now,
                      std::optional<std::string_view> sni,
                      TicketKey& out) const;
  // Fill `out` with the key named `id` if it decrypts at `now`, with renew
  // set unless it is also the encrypting key; false otherwise.
  bool decryption_key(Timestamp now,
                      std::optional<std::string_view> sni,
                      KeyIdView id,
                      TicketKey& out) const;

  std::size_t key_count() const { return m_keystore.keys.size(); }

private:
  struct Unbound {
    bool usable = false; // false: imported with 16-byte secrets
    bool has_material = false;
    DerivedCache::Secrets secrets{};
  };

  Snapshot(Keystore keystore, std::size_t cache_entries);
  std::optional<std::size_t> encrypting_index(Timestamp now) const;
  bool fill(std::size_t index,
            std::optional<std::string_view> sni,
            TicketKey& out) const;

  Keystore m_keystore;
  // By key index, in secret memory: out of core dumps, wiped when freed.
  std::vector<Unbound, SecretAllocator<Unbound>> m_unbound;
  mutable DerivedCache m_cache;
};

} // namespace stek::detail
