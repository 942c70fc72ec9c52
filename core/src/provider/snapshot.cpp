// SPDX-License-Identifier: Apache-2.0
#include "snapshot.hpp"

#include <stek/crypto.hpp>
#include <stek/derive.hpp>

#include <algorithm>
#include <cstring>

namespace stek::detail {
namespace {

constexpr std::size_t k_size = TicketKey::k_secret_size;

// Copy a 32-byte secret into slot `slot` (material, AES, HMAC) of a block.
void copy_secret(SecretView from, DerivedCache::Secrets& to, std::size_t slot) {
  const auto bytes = from.reveal();
  std::copy_n(bytes.begin(), std::min(bytes.size(), k_size),
              to.begin() + static_cast<std::ptrdiff_t>(slot * k_size));
}

std::span<const std::uint8_t> bytes_of(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

// The secrets of a key with material under `binding`: the chain of
// stekctl-keystore(5), DERIVED SECRETS, for an 80-byte OpenSSL key.
Result<DerivedCache::Secrets> derive(const Key& key, const Binding& binding) {
  STEK_TRY_ASSIGN(auto bound, material_for(key, binding));
  STEK_TRY_ASSIGN(auto aes, hkdf_sha256(bound.view(), {},
                                        bytes_of(k_label_aes256), 32));
  STEK_TRY_ASSIGN(auto hmac, hkdf_sha256(bound.view(), {},
                                         bytes_of(k_label_hmac256), 32));
  DerivedCache::Secrets out{};
  copy_secret(bound.view(), out, 0);
  copy_secret(aes.view(), out, 1);
  copy_secret(hmac.view(), out, 2);
  return out;
}

} // namespace

Snapshot::Snapshot(Keystore keystore, std::size_t cache_entries)
  : m_keystore(std::move(keystore)),
    m_cache(m_keystore.policy.sni_binding ? cache_entries : 0) {}

Snapshot::~Snapshot() {
  for (auto& unbound : m_unbound) {
    cleanse(unbound.secrets);
  }
}

Result<std::unique_ptr<Snapshot>> Snapshot::build(Keystore keystore,
                                                  std::size_t cache_entries,
                                                  std::string& notes) {
  std::unique_ptr<Snapshot> snapshot(
    new Snapshot(std::move(keystore), cache_entries));
  const auto& keys = snapshot->m_keystore.keys;
  snapshot->m_unbound.resize(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const Key& key = keys[i];
    Unbound& unbound = snapshot->m_unbound[i];
    if (const auto* imported = std::get_if<ImportedKeys>(&key.secret)) {
      if (imported->aes.size() != TicketKey::k_secret_size) {
        notes += (notes.empty() ? "" : "; ") + std::string("key ") +
                 key.id.hex() + " was imported with " +
                 std::to_string(imported->aes.size()) +
                 "-byte secrets and is not handed out (the provider uses "
                 "AES-256 ticket keys)";
        continue;
      }
      copy_secret(imported->aes.view(), unbound.secrets, 1);
      copy_secret(imported->hmac.view(), unbound.secrets, 2);
      unbound.usable = true;
      continue;
    }
    STEK_TRY_ASSIGN(auto secrets, derive(key, Binding::unbound()));
    unbound.secrets = secrets;
    unbound.has_material = true;
    unbound.usable = true;
    cleanse(secrets);
  }
  return snapshot;
}

std::optional<std::size_t> Snapshot::encrypting_index(Timestamp now) const {
  std::optional<std::size_t> best;
  const auto& keys = m_keystore.keys;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (!m_unbound[i].usable || keys[i].state_at(now) != KeyState::active) {
      continue;
    }
    if (!best || encrypts_before(keys[i], keys[*best])) {
      best = i;
    }
  }
  return best;
}

bool Snapshot::fill(std::size_t index,
                    std::optional<std::string_view> sni,
                    TicketKey& out) const {
  const Key& key = m_keystore.keys[index];
  const Unbound& unbound = m_unbound[index];
  out.id = key.id;
  out.has_material = unbound.has_material;
  // Imported keys stay unbound: their server issued its tickets unbound
  // (the same rule as stekctl export --sni).
  const auto block = out.secret_block();
  if (!m_keystore.policy.sni_binding || key.origin) {
    std::copy(unbound.secrets.begin(), unbound.secrets.end(), block.begin());
    return true;
  }
  ServerNameBuffer name;
  std::optional<std::string_view> normalized;
  if (sni) {
    if (!name.assign(*sni)) {
      return false; // not a host name: no ticket rather than a shared one
    }
    normalized = name.view();
  }
  const auto slot = static_cast<std::uint32_t>(index);
  if (m_cache.find(slot, normalized, block)) {
    return true;
  }
  const Binding binding = normalized
                            ? Binding::server_name(std::string(*normalized))
                            : Binding::no_server_name();
  auto derived = derive(key, binding);
  if (!derived) {
    return false;
  }
  m_cache.insert(slot, normalized, *derived);
  std::copy(derived->begin(), derived->end(), block.begin());
  cleanse(*derived);
  return true;
}

bool Snapshot::encryption_key(Timestamp now,
                              std::optional<std::string_view> sni,
                              TicketKey& out) const {
  const auto index = encrypting_index(now);
  if (!index) {
    return false;
  }
  out.renew = false;
  return fill(*index, sni, out);
}

bool Snapshot::decryption_key(Timestamp now,
                              std::optional<std::string_view> sni,
                              KeyIdView id,
                              TicketKey& out) const {
  const auto& keys = m_keystore.keys;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const auto& bytes = keys[i].id.bytes();
    if (!std::equal(bytes.begin(), bytes.end(), id.begin())) {
      continue;
    }
    if (!m_unbound[i].usable || !state_decrypts(keys[i].state_at(now))) {
      return false;
    }
    out.renew = encrypting_index(now) != i;
    return fill(i, sni, out);
  }
  return false;
}

} // namespace stek::detail
