// SPDX-License-Identifier: Apache-2.0
#include "secret_memory.hpp"

#include <stek/secret.hpp>

#include <openssl/crypto.h>

#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <string_view>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define STEK_SECRET_HEAP 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define STEK_SECRET_HEAP 1
#endif
#endif

namespace stek {

#ifndef STEK_SECRET_HEAP
namespace {

// Secrets are small (keys of 16 to 80 bytes, key log secrets of 48, files of
// a few KiB), and a program may hold millions of them (a key log), so a
// page each would exhaust the mappings a process may have. Small ones share
// slabs, one free list per power-of-two size; large ones get their own
// mapping.
constexpr std::size_t k_smallest = 16;
constexpr std::size_t k_class_count = 9; // 16 B to 4 KiB
constexpr std::size_t k_largest_pooled = k_smallest << (k_class_count - 1);
constexpr std::size_t k_slab_size = std::size_t{64} << 10;

struct Mapping {
  void* data;
  std::size_t size;
};

class SecretPool {
public:
  std::uint8_t* allocate(std::size_t size) {
    std::lock_guard lock(m_mutex);
    if (size > k_largest_pooled) {
      auto* data = map(round_to_pages(size));
      m_large.push_back({data, round_to_pages(size)});
      return static_cast<std::uint8_t*>(data);
    }
    const std::size_t cls = size_class(size);
    if (m_free[cls] == nullptr) {
      carve_slab(cls);
    }
    FreeChunk* chunk = m_free[cls];
    m_free[cls] = chunk->next;
    std::memset(chunk, 0, class_size(cls));
    return reinterpret_cast<std::uint8_t*>(chunk);
  }

  void release(std::uint8_t* data, std::size_t size) noexcept {
    std::lock_guard lock(m_mutex);
    if (size > k_largest_pooled) {
      for (auto it = m_large.begin(); it != m_large.end(); ++it) {
        if (it->data == data) {
          ::munmap(it->data, it->size);
          m_large.erase(it);
          return;
        }
      }
      return;
    }
    auto* chunk = reinterpret_cast<FreeChunk*>(data);
    const std::size_t cls = size_class(size);
    chunk->next = m_free[cls];
    m_free[cls] = chunk;
  }

  void set_dumpable(bool dumpable) {
    std::lock_guard lock(m_mutex);
    m_dumpable = dumpable;
    for (const auto& slab : m_slabs) {
      advise(slab);
    }
    for (const auto& mapping : m_large) {
      advise(mapping);
    }
  }

  bool dumpable() {
    std::lock_guard lock(m_mutex);
    return m_dumpable;
  }

private:
  struct FreeChunk {
    FreeChunk* next;
  };

  static std::size_t size_class(std::size_t size) {
    std::size_t cls = 0;
    while ((k_smallest << cls) < size) {
      ++cls;
    }
    return cls;
  }
  static std::size_t class_size(std::size_t cls) { return k_smallest << cls; }

  static std::size_t round_to_pages(std::size_t size) {
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    return (size + page - 1) / page * page;
  }

  void* map(std::size_t size) {
    void* data =
      ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (data == MAP_FAILED) {
      throw std::bad_alloc();
    }
    advise({data, size});
    return data;
  }

  void advise(const Mapping& mapping) const {
    // Best effort: a kernel without MADV_DONTDUMP still gets working memory.
    (void)::madvise(mapping.data, mapping.size,
                    m_dumpable ? MADV_DODUMP : MADV_DONTDUMP);
  }

  void carve_slab(std::size_t cls) {
    auto* slab = static_cast<std::uint8_t*>(map(k_slab_size));
    m_slabs.push_back({slab, k_slab_size});
    const std::size_t chunk = class_size(cls);
    for (std::size_t offset = k_slab_size; offset >= chunk; offset -= chunk) {
      auto* free = reinterpret_cast<FreeChunk*>(slab + offset - chunk);
      free->next = m_free[cls];
      m_free[cls] = free;
    }
  }

  std::mutex m_mutex;
  std::array<FreeChunk*, k_class_count> m_free{};
  // Slabs are never unmapped: freed chunks are kept for reuse, so the pool
  // holds at most the peak the program needed.
  std::vector<Mapping> m_slabs;
  std::vector<Mapping> m_large;
  bool m_dumpable = [] {
    const char* value = std::getenv("STEK_SECRETS_IN_CORE_DUMPS");
    return value != nullptr && std::string_view(value) == "1";
  }();
};

SecretPool& pool() {
  // Never destroyed: secrets in static objects may be released after any
  // destructor of ours has run.
  static auto* instance = new SecretPool;
  return *instance;
}

} // namespace
#endif

#ifdef STEK_SECRET_HEAP
// Sanitizer builds keep secrets on the ordinary heap, where AddressSanitizer
// checks every access to them; those builds are for tests, not for keys.
namespace detail {
std::uint8_t* allocate_secret(std::size_t size) {
  return new std::uint8_t[size == 0 ? 1 : size]();
}
void release_secret(std::uint8_t* data, std::size_t) noexcept { delete[] data; }
} // namespace detail

void set_secrets_in_core_dumps(bool) {}
bool secrets_in_core_dumps() { return true; }
#else
namespace detail {
std::uint8_t* allocate_secret(std::size_t size) {
  return pool().allocate(size == 0 ? 1 : size);
}
void release_secret(std::uint8_t* data, std::size_t size) noexcept {
  pool().release(data, size == 0 ? 1 : size);
}
} // namespace detail

void set_secrets_in_core_dumps(bool dumpable) { pool().set_dumpable(dumpable); }
bool secrets_in_core_dumps() { return pool().dumpable(); }
#endif

namespace detail {
void wipe_secret(void* data, std::size_t size) noexcept {
  if (data != nullptr && size != 0) {
    OPENSSL_cleanse(data, size);
  }
}
} // namespace detail

} // namespace stek
