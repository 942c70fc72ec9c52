// SPDX-License-Identifier: Apache-2.0
// Where SecretBytes keeps its bytes: pages marked MADV_DONTDUMP, so that a
// crashing server or stekctl does not write its keys into a core file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

namespace stek::detail {

// Return `size` (at least 1) zeroed bytes of secret memory. Throws
// std::bad_alloc like operator new when the system has no memory left.
std::uint8_t* allocate_secret(std::size_t size);
// Give back memory from allocate_secret(`size`); the caller wiped it.
void release_secret(std::uint8_t* data, std::size_t size) noexcept;

// Wipe `size` bytes at `data` so the compiler cannot elide it.
void wipe_secret(void* data, std::size_t size) noexcept;

// A standard allocator over secret memory, for containers of structs that
// hold derived keys (the provider's per-key and per-name tables): their
// elements stay out of core dumps, and are wiped when freed.
template <typename T> struct SecretAllocator {
  using value_type = T;
  SecretAllocator() = default;
  template <typename U> SecretAllocator(const SecretAllocator<U>&) noexcept {}

  T* allocate(std::size_t n) {
    if (n > static_cast<std::size_t>(-1) / sizeof(T)) {
      throw std::bad_array_new_length();
    }
    static_assert(alignof(T) <= 16, "secret memory is aligned to 16 bytes");
    return reinterpret_cast<T*>(allocate_secret(n * sizeof(T)));
  }
  void deallocate(T* data, std::size_t n) noexcept {
    wipe_secret(data, n * sizeof(T));
    release_secret(reinterpret_cast<std::uint8_t*>(data), n * sizeof(T));
  }
  template <typename U> bool operator==(const SecretAllocator<U>&) const noexcept {
    return true;
  }
};


} // namespace stek::detail
