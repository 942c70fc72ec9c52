// SPDX-License-Identifier: Apache-2.0
// stek_provider_bench: what a FileProvider lookup costs a TLS server, beside
// the work OpenSSL does for every ticket anyway.
//
//   Lookup/<kind>/<binding>   encryption_key or decryption_key on a
//                             keystore of 4 keys (decrypt-only, encrypting,
//                             2 pending), 8 server names round-robin (the
//                             per-name secrets cached), 1 and 2 threads
//   LookupWatched             the same with the inotify watcher running
//   LookupCacheMiss           every lookup derives (no cache): HKDF x3
//   TicketWork                OpenSSL's per-ticket work: AES-256-CBC over a
//                             256-byte session with a fresh IV, then
//                             HMAC-SHA256 over the result
//
// allocs_per_lookup counts heap allocations in the timed loop, both C++
// operator new and OpenSSL's allocator (CRYPTO_set_mem_functions, set
// before OpenSSL is used, which is why this binary has its own main).
//
//   stek_provider_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true

#include <stek/crypto.hpp>
#include <stek/formats/file_provider.hpp>
#include <stek/formats/native_keystore.hpp>

#include <benchmark/benchmark.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <new>
#include <string>
#include <vector>

namespace {

std::atomic<long> g_allocations{0};

void* counted_malloc(std::size_t size, const char*, int) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size);
}
void* counted_realloc(void* p, std::size_t size, const char*, int) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::realloc(p, size);
}
void counted_free(void* p, const char*, int) { std::free(p); }

} // namespace

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) {
    return p;
  }
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

using namespace stek;

const Timestamp k_now = *parse_time("2026-11-28T12:00:00Z");
const char* const k_names[] = {"a.example", "b.example", "c.example", "d.example",
                               "e.example", "f.example", "g.example", "h.example"};

Key make_key(Timestamp not_before) {
  Key key{*KeyId::random(), k_now - std::chrono::hours(24), not_before,
          not_before + std::chrono::hours(12), not_before + std::chrono::hours(36),
          {}, Material{*random_secret(Material::k_size)}, std::nullopt};
  return key;
}

// A keystore as rotate keeps it: the previous key decrypting, the current
// one encrypting, two successors published.
std::filesystem::path write_keystore(bool sni_binding, const std::string& name) {
  Keystore ks;
  ks.policy.sni_binding = sni_binding;
  for (int i = -1; i <= 2; ++i) {
    ks.keys.push_back(make_key(k_now - std::chrono::hours(1) + std::chrono::hours(12) * i));
  }
  const auto dir = std::filesystem::temp_directory_path() /
                   ("stek-provider-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  // A file per fixture: a shared one would make the watched provider
  // reload the next fixture's keys.
  const auto path = dir / (name + ".json");
  if (!formats::save_native_keystore(path, ks)) {
    std::fprintf(stderr, "stek_provider_bench: cannot write %s\n", path.c_str());
    std::abort();
  }
  return path;
}

// One provider per configuration, shared by the benchmark's threads.
struct Fixture {
  std::unique_ptr<FileProvider> provider;
  KeyId decrypt_id;
};

Fixture open(const std::string& name, bool sni_binding, WatchMode watch,
             std::size_t cache) {
  const auto path = write_keystore(sni_binding, name);
  FileProviderOptions options;
  options.watch = watch;
  options.clock = [] { return k_now; };
  options.derived_cache_entries = cache;
  auto provider = formats::open_file_provider(path, std::move(options));
  if (!provider) {
    std::fprintf(stderr, "stek_provider_bench: %s\n", provider.error().message.c_str());
    std::abort();
  }
  Fixture f{std::move(*provider), {}};
  f.decrypt_id = f.provider->encryption_key(std::nullopt)->id;
  return f;
}

Fixture& fixture(bool sni_binding, WatchMode watch = WatchMode::manual,
                 std::size_t cache = 1024) {
  static Fixture bound = open("bound", true, WatchMode::manual, 1024);
  static Fixture unbound = open("unbound", false, WatchMode::manual, 1024);
  static Fixture watched = open("watched", true, WatchMode::automatic, 1024);
  static Fixture uncached = open("uncached", true, WatchMode::manual, 0);
  if (cache == 0) {
    return uncached;
  }
  if (watch == WatchMode::automatic) {
    return watched;
  }
  return sni_binding ? bound : unbound;
}

template <bool Decrypt>
void run_lookups(benchmark::State& state, Fixture& f) {
  const KeyIdView id(f.decrypt_id.bytes().data(), KeyId::k_size);
  // Warm the per-name cache outside the timed loop.
  for (const char* name : k_names) {
    if (!f.provider->encryption_key(name) || !f.provider->decryption_key(name, id)) {
      state.SkipWithError("a lookup found no key: the timings would be of misses");
      return;
    }
  }
  std::size_t i = static_cast<std::size_t>(state.thread_index());
  const long before = g_allocations.load();
  for (auto _ : state) {
    const char* name = k_names[i++ % 8];
    if constexpr (Decrypt) {
      auto key = f.provider->decryption_key(name, id);
      benchmark::DoNotOptimize(key);
    } else {
      auto key = f.provider->encryption_key(name);
      benchmark::DoNotOptimize(key);
    }
  }
  // Other threads' loops add to the same counter, and so does the
  // framework between runs (a few allocations per run, so about 1e-6 per
  // lookup): anything below 0.001 means none on the lookup itself.
  state.counters["allocs_per_lookup"] = benchmark::Counter(
    static_cast<double>(g_allocations.load() - before),
    benchmark::Counter::kAvgIterations);
}

void LookupEncrypt(benchmark::State& state) {
  run_lookups<false>(state, fixture(state.range(0) == 1));
}
void LookupDecrypt(benchmark::State& state) {
  run_lookups<true>(state, fixture(state.range(0) == 1));
}
void LookupWatched(benchmark::State& state) {
  run_lookups<true>(state, fixture(true, WatchMode::automatic));
}
void LookupCacheMiss(benchmark::State& state) {
  run_lookups<false>(state, fixture(true, WatchMode::manual, 0));
}

// What OpenSSL does per ticket with its built-in keys (ssl/t1_lib.c,
// statem_srvr.c): encrypt the serialized session with AES-256-CBC under a
// fresh random IV, then HMAC-SHA256 over name | IV | ciphertext.
void TicketWork(benchmark::State& state) {
  unsigned char aes[32], hmac[32], session[256], out[256 + 32], iv[16], tag[32];
  RAND_bytes(aes, sizeof aes);
  RAND_bytes(hmac, sizeof hmac);
  RAND_bytes(session, sizeof session);
  EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-CBC", nullptr);
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_CIPHER_CTX* cctx = EVP_CIPHER_CTX_new();
  EVP_MAC_CTX* mctx = EVP_MAC_CTX_new(mac);
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {
    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
    OSSL_PARAM_construct_end()};
  for (auto _ : state) {
    int n = 0, m = 0;
    std::size_t tag_size = 0;
    RAND_bytes(iv, sizeof iv);
    EVP_EncryptInit_ex(cctx, cipher, nullptr, aes, iv);
    EVP_EncryptUpdate(cctx, out, &n, session, sizeof session);
    EVP_EncryptFinal_ex(cctx, out + n, &m);
    EVP_MAC_init(mctx, hmac, sizeof hmac, params);
    EVP_MAC_update(mctx, iv, sizeof iv);
    EVP_MAC_update(mctx, out, static_cast<std::size_t>(n + m));
    EVP_MAC_final(mctx, tag, &tag_size, sizeof tag);
    benchmark::DoNotOptimize(tag);
  }
  EVP_MAC_CTX_free(mctx);
  EVP_CIPHER_CTX_free(cctx);
  EVP_MAC_free(mac);
  EVP_CIPHER_free(cipher);
  OPENSSL_cleanse(aes, sizeof aes);
  OPENSSL_cleanse(hmac, sizeof hmac);
}

// Arg 1: sni_binding on; 0: off.
BENCHMARK(LookupEncrypt)->ArgName("binding")->Arg(1)->Arg(0)->Threads(1)->Threads(2);
BENCHMARK(LookupDecrypt)->ArgName("binding")->Arg(1)->Arg(0)->Threads(1)->Threads(2);
BENCHMARK(LookupWatched)->Threads(1)->Threads(2);
BENCHMARK(LookupCacheMiss)->Threads(1);
BENCHMARK(TicketWork)->Threads(1)->Threads(2);

} // namespace

int main(int argc, char** argv) {
  // Before anything touches OpenSSL, or its allocations go uncounted.
  CRYPTO_set_mem_functions(counted_malloc, counted_realloc, counted_free);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
    return 1;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::error_code ec;
  std::filesystem::remove_all(std::filesystem::temp_directory_path() /
                                ("stek-provider-bench-" + std::to_string(::getpid())),
                              ec);
  return 0;
}
