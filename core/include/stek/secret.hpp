// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace stek {

// A non-owning view of secret bytes. It has no conversion to text and no
// stream operator, so secrets do not end up in messages by accident.
class SecretView {
public:
  SecretView() = default;
  SecretView(const std::uint8_t* data, std::size_t size)
    : m_data(data), m_size(size) {}

  std::size_t size() const { return m_size; }
  bool empty() const { return m_size == 0; }
  // Return the bytes. Every use is a place where key bytes leave the type.
  std::span<const std::uint8_t> reveal() const { return {m_data, m_size}; }

private:
  const std::uint8_t* m_data = nullptr;
  std::size_t m_size = 0;
};

// Owned secret bytes: move-only, wiped (OPENSSL_cleanse over the whole
// capacity) whenever the buffer is released or reallocated. The bytes live
// in pages excluded from core dumps (see set_secrets_in_core_dumps).
class SecretBytes {
public:
  SecretBytes() = default;
  // Make `size` zero bytes.
  explicit SecretBytes(std::size_t size);
  // Copy `bytes`; the caller wipes its own copy.
  static SecretBytes copy_of(std::span<const std::uint8_t> bytes);
  ~SecretBytes();

  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;

  // Return an explicit copy.
  SecretBytes clone() const;

  std::size_t size() const { return m_size; }
  bool empty() const { return m_size == 0; }
  SecretView view() const { return {m_data, m_size}; }
  std::span<const std::uint8_t> reveal() const { return {m_data, m_size}; }
  std::span<std::uint8_t> reveal_mutable() { return {m_data, m_size}; }

  // Append bytes, growing the buffer; the old buffer is wiped before it is
  // freed.
  void append(std::span<const std::uint8_t> bytes);
  void append(std::string_view text);
  void append(std::uint8_t byte);
  // Ensure room for `capacity` bytes without further reallocation.
  void reserve(std::size_t capacity);
  // Wipe and release the buffer.
  void clear();

private:
  void reallocate(std::size_t capacity);

  std::uint8_t* m_data = nullptr;
  std::size_t m_size = 0;
  std::size_t m_capacity = 0;
};

// Secret memory is marked MADV_DONTDUMP, so a core file of a crashed
// process holds no keys. Setting the environment variable
// STEK_SECRETS_IN_CORE_DUMPS=1 before the first secret is made, or calling
// this with true, includes it again (for debugging a crash that involves
// the keys themselves); false excludes it again. It applies to all secret
// memory, present and future. Sanitizer builds keep secrets on the ordinary
// heap, so that AddressSanitizer checks them, and ignore this.
void set_secrets_in_core_dumps(bool included);
// Return whether secret memory goes into core dumps.
bool secrets_in_core_dumps();

// Compare in constant time (for equal sizes); sizes are not secret.
bool ct_equal(SecretView a, SecretView b);

// Wipe `bytes` so the compiler cannot elide it.
void cleanse(std::span<std::uint8_t> bytes);
// Wipe the characters of `text`.
void cleanse(std::string& text);

} // namespace stek
