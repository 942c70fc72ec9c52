// SPDX-License-Identifier: Apache-2.0
#include "derived_cache.hpp"

#include <stek/secret.hpp>

#include <algorithm>
#include <bit>
#include <cstring>

namespace stek::detail {

DerivedCache::DerivedCache(std::size_t entries) {
  if (entries == 0) {
    return;
  }
  m_capacity = std::bit_ceil(entries);
  m_mask = m_capacity - 1;
  m_entries = std::vector<Entry, SecretAllocator<Entry>>(m_capacity);
}

DerivedCache::~DerivedCache() {
  for (std::size_t i = 0; i < m_capacity; ++i) {
    cleanse(m_entries[i].secrets);
  }
}

// FNV-1a: names are short, and the table only needs spread, not secrecy (a
// client that forces collisions only makes its own lookups derive).
std::size_t DerivedCache::hash(std::uint32_t key_index,
                               std::optional<std::string_view> name) {
  std::uint64_t h = 14695981039346656037ull ^ key_index;
  h *= 1099511628211ull;
  if (!name) {
    return static_cast<std::size_t>(h ^ 0x5a);
  }
  for (const char c : *name) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return static_cast<std::size_t>(h);
}

bool DerivedCache::matches(const Entry& entry,
                           std::uint32_t key_index,
                           std::optional<std::string_view> name) {
  if (entry.key_index != key_index) {
    return false;
  }
  if (!name) {
    return entry.name_size == k_no_name;
  }
  return entry.name_size == name->size() &&
         std::memcmp(entry.name.data(), name->data(), name->size()) == 0;
}

bool DerivedCache::find(std::uint32_t key_index,
                        std::optional<std::string_view> name,
                        SecretsOut out) const {
  if (m_capacity == 0) {
    return false;
  }
  const std::size_t start = hash(key_index, name);
  for (std::size_t probe = 0; probe < k_probes; ++probe) {
    const Entry& entry = m_entries[(start + probe) & m_mask];
    const auto state = entry.state.load(std::memory_order_acquire);
    if (state == k_empty) {
      return false;
    }
    if (state == k_ready && matches(entry, key_index, name)) {
      std::copy(entry.secrets.begin(), entry.secrets.end(), out.begin());
      return true;
    }
  }
  return false;
}

void DerivedCache::insert(std::uint32_t key_index,
                          std::optional<std::string_view> name,
                          const Secrets& secrets) {
  if (m_capacity == 0 || (name && name->size() > 254)) {
    return;
  }
  const std::size_t start = hash(key_index, name);
  for (std::size_t probe = 0; probe < k_probes; ++probe) {
    Entry& entry = m_entries[(start + probe) & m_mask];
    auto state = entry.state.load(std::memory_order_acquire);
    if (state == k_ready) {
      if (matches(entry, key_index, name)) {
        return; // another thread got there first
      }
      continue;
    }
    if (state == k_filling) {
      return; // maybe the same pair; not worth waiting for
    }
    if (!entry.state.compare_exchange_strong(state, k_filling,
                                             std::memory_order_acquire)) {
      return;
    }
    entry.key_index = key_index;
    if (name) {
      entry.name_size = static_cast<std::uint16_t>(name->size());
      std::memcpy(entry.name.data(), name->data(), name->size());
    } else {
      entry.name_size = k_no_name;
    }
    entry.secrets = secrets;
    entry.state.store(k_ready, std::memory_order_release);
    return;
  }
}

} // namespace stek::detail
