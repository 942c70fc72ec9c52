// SPDX-License-Identifier: Apache-2.0
#include <stek/secret.hpp>

#include "secret_memory.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>
#include <string>

namespace stek {

SecretBytes::SecretBytes(std::size_t size) {
  reallocate(size);
  m_size = size;
}

SecretBytes SecretBytes::copy_of(std::span<const std::uint8_t> bytes) {
  SecretBytes out;
  out.append(bytes);
  return out;
}

SecretBytes::~SecretBytes() { clear(); }

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
  : m_data(other.m_data), m_size(other.m_size), m_capacity(other.m_capacity) {
  other.m_data = nullptr;
  other.m_size = 0;
  other.m_capacity = 0;
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    clear();
    m_data = other.m_data;
    m_size = other.m_size;
    m_capacity = other.m_capacity;
    other.m_data = nullptr;
    other.m_size = 0;
    other.m_capacity = 0;
  }
  return *this;
}

SecretBytes SecretBytes::clone() const { return copy_of(reveal()); }

void SecretBytes::append(std::span<const std::uint8_t> bytes) {
  if (bytes.empty()) {
    return;
  }
  if (m_capacity - m_size < bytes.size()) {
    reallocate(std::max(m_size + bytes.size(), m_capacity * 2));
  }
  std::memcpy(m_data + m_size, bytes.data(), bytes.size());
  m_size += bytes.size();
}

void SecretBytes::append(std::string_view text) {
  append(std::span<const std::uint8_t>(
    reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

void SecretBytes::append(std::uint8_t byte) { append({&byte, 1}); }

void SecretBytes::reserve(std::size_t capacity) {
  if (capacity > m_capacity) {
    reallocate(capacity);
  }
}

void SecretBytes::clear() {
  if (m_data != nullptr) {
    OPENSSL_cleanse(m_data, m_capacity);
    detail::release_secret(m_data, m_capacity);
  }
  m_data = nullptr;
  m_size = 0;
  m_capacity = 0;
}

void SecretBytes::reallocate(std::size_t capacity) {
  auto* fresh = detail::allocate_secret(capacity == 0 ? 1 : capacity);
  if (m_data != nullptr) {
    std::memcpy(fresh, m_data, m_size);
    OPENSSL_cleanse(m_data, m_capacity);
    detail::release_secret(m_data, m_capacity);
  }
  m_data = fresh;
  m_capacity = capacity == 0 ? 1 : capacity;
}

bool ct_equal(SecretView a, SecretView b) {
  if (a.size() != b.size()) {
    return false;
  }
  return a.empty() ||
         CRYPTO_memcmp(a.reveal().data(), b.reveal().data(), a.size()) == 0;
}

void cleanse(std::span<std::uint8_t> bytes) {
  if (!bytes.empty()) {
    OPENSSL_cleanse(bytes.data(), bytes.size());
  }
}

void cleanse(std::string& text) {
  // Wipe the whole capacity: an earlier, longer value may linger past size().
  text.resize(text.capacity());
  OPENSSL_cleanse(text.data(), text.size());
  text.clear();
}

} // namespace stek
