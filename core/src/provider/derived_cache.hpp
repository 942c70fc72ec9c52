// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stek/provider.hpp>

#include "../secret_memory.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace stek::detail {

// The secrets derived for one (key, server name) pair, so that HKDF runs once
// per pair and generation instead of once per handshake. A fixed table,
// allocated once, filled without locks: a slot goes empty -> filling ->
// ready exactly once, and its contents never change after that. When the
// table is full, or a slot is being filled by another thread, callers derive
// the secrets themselves and do not cache them: a flood of made-up names
// costs HKDF work, never memory.
class DerivedCache {
public:
  // Material, AES and HMAC keys, laid out as TicketKey::secret_block().
  using Secrets = std::array<std::uint8_t, 3 * TicketKey::k_secret_size>;
  using SecretsOut = std::span<std::uint8_t, 3 * TicketKey::k_secret_size>;

  // Room for at least `entries` pairs (0: no cache).
  explicit DerivedCache(std::size_t entries);
  ~DerivedCache();
  DerivedCache(const DerivedCache&) = delete;
  DerivedCache& operator=(const DerivedCache&) = delete;

  // Copy the secrets of (key_index, name) into `out`; nullopt name is "no
  // SNI". False on a miss.
  bool find(std::uint32_t key_index,
            std::optional<std::string_view> name,
            SecretsOut out) const;
  // Remember `secrets` for (key_index, name) if there is room.
  void insert(std::uint32_t key_index,
              std::optional<std::string_view> name,
              const Secrets& secrets);

private:
  static constexpr std::uint16_t k_no_name = 0xffff;
  static constexpr std::size_t k_probes = 8;
  enum : std::uint32_t { k_empty = 0, k_filling = 1, k_ready = 2 };

  struct Entry {
    std::atomic<std::uint32_t> state{k_empty};
    std::uint32_t key_index = 0;
    std::uint16_t name_size = 0;
    std::array<char, 254> name{};
    Secrets secrets{};
  };

  static std::size_t hash(std::uint32_t key_index,
                          std::optional<std::string_view> name);
  static bool matches(const Entry& entry,
                      std::uint32_t key_index,
                      std::optional<std::string_view> name);

  // In secret memory: out of core dumps, wiped when freed.
  std::vector<Entry, SecretAllocator<Entry>> m_entries;
  std::size_t m_mask = 0; // capacity - 1, a power of two; unused if empty
  std::size_t m_capacity = 0;
};

} // namespace stek::detail
