// SPDX-License-Identifier: Apache-2.0
// stek_provider_bench: what a FileProvider lookup costs a TLS server, beside
// the work OpenSSL does for every ticket anyway. The keystore is the one a
// server sees between rotations (serving_keystore.hpp: decrypt-only,
// encrypting, 2 pending), written with save_native_keystore; the provider
// reads the system clock, as in a server.
//
//   LookupEncrypt/binding:B   encryption_key(name), 8 names round-robin,
//   LookupDecrypt/binding:B   decryption_key(name, id of the encrypting key);
//                             policy sni_binding B, WatchMode::manual, the
//                             per-name secrets cached (warmed before timing)
//   LookupEncryptWatched      LookupEncrypt/binding:1 with
//                             WatchMode::automatic: the inotify watcher
//                             thread is running
//   LookupEncryptCacheMiss    LookupEncrypt/binding:1 with
//                             derived_cache_entries = 0, so every lookup
//                             derives (HKDF x3): what a name's first lookup in
//                             a generation costs
//   TicketWork                OpenSSL's own per-ticket work (see there)
//   SystemClock               system_clock::now(), what the provider read
//                             before it switched to the coarse clock
//   CoarseClock               CLOCK_REALTIME_COARSE, the read every lookup
//                             includes now
//
// Everything runs at 1 and 2 threads. On a shared machine read the CPU
// column: wall time also counts waiting for a core. With 2 threads both
// columns are per lookup over the two threads together.
//
// allocs_per_lookup: heap allocations per iteration of the timed loop, made by
// the threads doing the lookups: C++ operator new (every form) and OpenSSL's
// allocator (CRYPTO_set_mem_functions, which must run before OpenSSL's first
// allocation; hence this binary's own main). STEK_BENCH_TRACE_ALLOCS=N prints
// the call stacks of the first N allocations made inside a timed loop.
//
//   stek_provider_bench --benchmark_repetitions=5
//                       --benchmark_report_aggregates_only=true

#include "alloc_counter.hpp"
#include "serving_keystore.hpp"

#include <stek/file_provider.hpp>
#include <stek/formats/file_provider.hpp>
#include <stek/formats/native_keystore.hpp>

#include <benchmark/benchmark.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <memory>
#include <new>
#include <string>

namespace {

using namespace stek;

const std::size_t k_cache_entries = FileProviderOptions{}.derived_cache_entries;
const char* const k_names[] = {"a.example", "b.example", "c.example",
                               "d.example", "e.example", "f.example",
                               "g.example", "h.example"};
constexpr std::size_t k_name_count = std::size(k_names);

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "stek_provider_bench: %s\n", what.c_str());
  std::exit(1);
}

const std::filesystem::path& scratch_dir() {
  static const auto dir =
    std::filesystem::temp_directory_path() /
    ("stek-provider-bench-" + std::to_string(::getpid()));
  return dir;
}

std::filesystem::path write_keystore(bool sni_binding) {
  auto ks = bench::serving_keystore(bench::system_now(), sni_binding);
  if (!ks) {
    die(ks.error().message);
  }
  std::filesystem::create_directories(scratch_dir());
  const auto path =
    scratch_dir() / (sni_binding ? "bound.json" : "unbound.json");
  if (auto saved = formats::save_native_keystore(path, *ks); !saved) {
    die(saved.error().message);
  }
  return path;
}

// Written once: rewriting it while a watched provider is open would make
// that provider reload in the middle of a run.
const std::filesystem::path& keystore_file(bool sni_binding) {
  static const auto bound = write_keystore(true);
  static const auto unbound = write_keystore(false);
  return sni_binding ? bound : unbound;
}

// The provider of the current run, opened by its Setup before its threads
// start and closed by its Teardown, so that a watcher thread exists only
// during the runs that ask for one.
std::unique_ptr<FileProvider> g_provider;
// The key tickets arrive under: the encrypting one, as for most tickets.
KeyId g_ticket_id;

void open_provider(bool sni_binding,
                   WatchMode watch,
                   std::size_t cache_entries) {
  FileProviderOptions options;
  options.watch = watch;
  options.derived_cache_entries = cache_entries;
  auto opened =
    formats::open_file_provider(keystore_file(sni_binding), std::move(options));
  if (!opened) {
    die(opened.error().message);
  }
  g_provider = std::move(opened).value();
  const auto key = g_provider->encryption_key(std::nullopt);
  if (!key) {
    die("the keystore has no encrypting key");
  }
  g_ticket_id = key->id;
}

void open_manual(const benchmark::State& state) {
  open_provider(state.range(0) == 1, WatchMode::manual, k_cache_entries);
}
void open_watched(const benchmark::State&) {
  open_provider(true, WatchMode::automatic, k_cache_entries);
}
void open_uncached(const benchmark::State&) {
  open_provider(true, WatchMode::manual, 0);
}
void close_provider(const benchmark::State&) { g_provider.reset(); }


template <bool Decrypt> void run_lookups(benchmark::State& state) {
  FileProvider& provider = *g_provider;
  const KeyIdView id(g_ticket_id.bytes().data(), KeyId::k_size);
  const auto lookup = [&](const char* name) {
    if constexpr (Decrypt) {
      return provider.decryption_key(name, id);
    } else {
      return provider.encryption_key(name);
    }
  };
  // A server's steady state: every name's secrets cached, and this thread's
  // CPU caches warm. A miss would time the "no key" path instead.
  for (const char* name : k_names) {
    if (!lookup(name)) {
      state.SkipWithError("a lookup found no key");
      return;
    }
  }
  // Threads start at different names, as different clients would.
  std::size_t next = static_cast<std::size_t>(state.thread_index());
  const bench::AllocationCount count;
  for (auto _ : state) {
    auto key = lookup(k_names[next++ % k_name_count]);
    benchmark::DoNotOptimize(key);
  }
  count.report(state, "allocs_per_lookup");
}

void LookupEncrypt(benchmark::State& state) { run_lookups<false>(state); }
void LookupDecrypt(benchmark::State& state) { run_lookups<true>(state); }
void LookupEncryptWatched(benchmark::State& state) {
  run_lookups<false>(state);
}
void LookupEncryptCacheMiss(benchmark::State& state) {
  run_lookups<false>(state);
}

template <auto Free> struct Deleter {
  template <typename T> void operator()(T* p) const { Free(p); }
};

// The floor of what OpenSSL does per ticket with its own ticket keys
// (ssl/statem/statem_srvr.c, construct_stateless_ticket): AES-256-CBC over
// the serialized session under a fresh random IV, then HMAC-SHA256 over key
// name, IV and ciphertext. 256 bytes is a TLS 1.3 session without client
// certificate. OpenSSL also serializes the session and makes both contexts
// afresh per ticket; reusing them here makes the baseline cheaper, so the
// lookup's share comes out higher than a server would see.
void TicketWork(benchmark::State& state) {
  constexpr std::size_t k_session = 256;
  constexpr std::size_t k_name = 16;
  constexpr std::size_t k_iv = 16;
  // name | IV | ciphertext (padded to 272) | tag, laid out as in a ticket.
  std::array<unsigned char, k_name + k_iv + k_session + 16 + 32> ticket{};
  std::array<unsigned char, k_session> session{};
  std::array<unsigned char, 32> aes{};
  std::array<unsigned char, 32> hmac{};
  const std::unique_ptr<EVP_CIPHER, Deleter<EVP_CIPHER_free>> cipher(
    EVP_CIPHER_fetch(nullptr, "AES-256-CBC", nullptr));
  const std::unique_ptr<EVP_MAC, Deleter<EVP_MAC_free>> mac(
    EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  const std::unique_ptr<EVP_CIPHER_CTX, Deleter<EVP_CIPHER_CTX_free>> cctx(
    EVP_CIPHER_CTX_new());
  const std::unique_ptr<EVP_MAC_CTX, Deleter<EVP_MAC_CTX_free>> mctx(
    mac ? EVP_MAC_CTX_new(mac.get()) : nullptr);
  if (!cipher || !mac || !cctx || !mctx || RAND_bytes(aes.data(), 32) != 1 ||
      RAND_bytes(hmac.data(), 32) != 1 ||
      RAND_bytes(session.data(), k_session) != 1) {
    state.SkipWithError("OpenSSL setup failed");
    return;
  }
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {
    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
    OSSL_PARAM_construct_end()};
  unsigned char* const iv = ticket.data() + k_name;
  unsigned char* const encrypted = iv + k_iv;

  const bench::AllocationCount count;
  for (auto _ : state) {
    int n = 0;
    int m = 0;
    std::size_t tag_size = 0;
    const bool ok =
      RAND_bytes(iv, k_iv) == 1 &&
      EVP_EncryptInit_ex(cctx.get(), cipher.get(), nullptr, aes.data(), iv) ==
        1 &&
      EVP_EncryptUpdate(cctx.get(), encrypted, &n, session.data(),
                        k_session) == 1 &&
      EVP_EncryptFinal_ex(cctx.get(), encrypted + n, &m) == 1 &&
      EVP_MAC_init(mctx.get(), hmac.data(), hmac.size(), params) == 1 &&
      EVP_MAC_update(mctx.get(), ticket.data(),
                     k_name + k_iv + static_cast<std::size_t>(n + m)) == 1 &&
      EVP_MAC_final(mctx.get(), encrypted + n + m, &tag_size, 32) == 1;
    if (!ok) {
      state.SkipWithError("OpenSSL failed in the timed loop");
      break;
    }
    benchmark::DoNotOptimize(ticket.data());
    benchmark::ClobberMemory();
  }
  count.report(state, "allocs_per_lookup");
  OPENSSL_cleanse(aes.data(), aes.size());
  OPENSSL_cleanse(hmac.data(), hmac.size());
}

void SystemClock(benchmark::State& state) {
  for (auto _ : state) {
    auto now = bench::system_now();
    benchmark::DoNotOptimize(now);
  }
}

void CoarseClock(benchmark::State& state) {
  for (auto _ : state) {
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME_COARSE, &now);
    benchmark::DoNotOptimize(now);
  }
}

// Arg 1: sni_binding on; 0: off.
BENCHMARK(LookupEncrypt)->ArgName("binding")->Arg(1)->Arg(0)
  ->Setup(open_manual)->Teardown(close_provider)->Threads(1)->Threads(2);
BENCHMARK(LookupDecrypt)->ArgName("binding")->Arg(1)->Arg(0)
  ->Setup(open_manual)->Teardown(close_provider)->Threads(1)->Threads(2);
BENCHMARK(LookupEncryptWatched)
  ->Setup(open_watched)->Teardown(close_provider)->Threads(1)->Threads(2);
BENCHMARK(LookupEncryptCacheMiss)
  ->Setup(open_uncached)->Teardown(close_provider)->Threads(1)->Threads(2);
BENCHMARK(TicketWork)->Threads(1)->Threads(2);
BENCHMARK(SystemClock)->Threads(1);
BENCHMARK(CoarseClock)->Threads(1);

} // namespace

int main(int argc, char** argv) {
  if (!bench::start_counting_allocations("stek_provider_bench")) {
    return 1;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
    return 1;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::error_code ec;
  std::filesystem::remove_all(scratch_dir(), ec);
  return 0;
}
