// SPDX-License-Identifier: Apache-2.0
// stek_derived_bench: what a derived keystore costs a TLS server beside a
// plain one, and what one oracle call costs. The derived keystore has 1h
// epochs (publish 10m ahead, decrypt 2h more), fleet "bench"; the providers
// read the system clock, as in a server.
//
//   DerivedLookupEncrypt/binding:B  a DerivedProvider (an in-process HMAC
//   DerivedLookupDecrypt/binding:B  oracle, require_first_fetch, timed once
//                                   it holds every epoch needed now):
//                                   encryption_key(name), or
//                                   decryption_key(name, id of the
//                                   encrypting key), 8 names round-robin,
//                                   per-name secrets cached (warmed)
//   FileLookupEncrypt/binding:B     the same through a FileProvider
//   FileLookupDecrypt/binding:B     (WatchMode::manual) on the equivalent
//                                   plain keystore: stek::materialize of the
//                                   same epochs, save_native_keystore
//   OracleMac/pkcs11                one mac() of 64 bytes through the PKCS#11
//                                   oracle on a SoftHSM2 token made for the
//                                   run (module loaded before timing): a
//                                   session, login, sign, logout
//   OracleMac/pkcs11_cold           open_pkcs11_oracle + mac() + close: also
//                                   dlopen, C_Initialize, C_Finalize, as a
//                                   stekctl export pays once
//   OracleMac/command               one mac() through the command oracle
//                                   `openssl mac ... HMAC` (hex): fork, exec
//                                   and OpenSSL's start-up
//
// Lookups run at 1 and 2 threads; read the CPU column on a shared machine.
// For the oracles read the wall column too: the command oracle's work is
// done by a child process, whose CPU time is not this process's.
//
// allocs_per_iter: heap allocations per iteration made by the timing
// threads: C++ operator new and OpenSSL's allocator (bench/alloc_counter.hpp;
// STEK_BENCH_TRACE_ALLOCS=N traces them). SoftHSM's OpenSSL calls count
// too; a child process's do not. Both oracles use one known key and are
// checked against HMAC-SHA256 computed here before timing.
//
// The PKCS#11 token is made with stek-test-hsm (tests/derived/hsm_tool.cpp,
// built with STEK_BUILD_TESTS=ON), taken from $STEK_TEST_HSM or else the
// path compiled in; SoftHSM from $STEK_SOFTHSM2_MODULE or the path CMake
// found. Without them the PKCS#11 benchmarks are skipped with an error.
//
//   stek_derived_bench --benchmark_repetitions=5
//                      --benchmark_report_aggregates_only=true

#include "alloc_counter.hpp"

#include <stek/derived_keystore.hpp>
#include <stek/derived_provider.hpp>
#include <stek/file_provider.hpp>
#include <stek/formats/file_provider.hpp>
#include <stek/formats/native_keystore.hpp>
#include <stek/keystore.hpp>
#include <stek/oracle.hpp>

#include <benchmark/benchmark.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <variant>
#include <vector>

namespace {

using namespace stek;

const char* const k_names[] = {"a.example", "b.example", "c.example",
                               "d.example", "e.example", "f.example",
                               "g.example", "h.example"};
constexpr std::size_t k_name_count = std::size(k_names);
constexpr const char* k_hex_key =
  "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

#ifndef STEK_TEST_HSM_BINARY
#define STEK_TEST_HSM_BINARY ""
#endif
#ifndef STEK_SOFTHSM2_MODULE
#define STEK_SOFTHSM2_MODULE "/usr/lib/softhsm/libsofthsm2.so"
#endif

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "stek_derived_bench: %s\n", what.c_str());
  std::exit(1);
}

const std::filesystem::path& scratch_dir() {
  static const auto dir = [] {
    auto d = std::filesystem::temp_directory_path() /
             ("stek-derived-bench-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    std::filesystem::permissions(d, std::filesystem::perms::owner_all);
    return d;
  }();
  return dir;
}

std::array<std::uint8_t, 32> key_bytes() {
  std::array<std::uint8_t, 32> key{};
  for (std::size_t i = 0; i < key.size(); ++i) {
    key[i] = static_cast<std::uint8_t>(std::stoul(std::string(k_hex_key + 2 * i, 2), nullptr, 16));
  }
  return key;
}

// HMAC-SHA256 under k_hex_key in this process: the oracle as free as it
// gets, so that the lookups time the provider alone.
class HmacOracle final : public MacOracle {
public:
  Result<SecretBytes> mac(std::span<const std::uint8_t> message) override {
    static const auto key = key_bytes();
    SecretBytes out(k_mac_size);
    unsigned int size = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), message.data(),
             message.size(), out.reveal_mutable().data(), &size) == nullptr) {
      return fail(Errc::oracle, describe() + ": HMAC failed");
    }
    return out;
  }
  std::string describe() const override { return "hmac oracle (bench)"; }
};

Keystore derived_keystore(bool sni_binding) {
  Keystore ks;
  ks.policy.rotate_every = std::chrono::hours(1);
  ks.policy.publish_ahead = std::chrono::minutes(10);
  ks.policy.encrypt_for = std::chrono::hours(1);
  ks.policy.decrypt_for = std::chrono::hours(2);
  ks.policy.sni_binding = sni_binding;
  Derivation derivation;
  derivation.fleet = "bench";
  CommandOracleConfig command; // a placeholder: the bench passes its oracle
  command.command = "false";
  command.output = CommandOracleConfig::Output::hex;
  derivation.oracle = command;
  ks.derivation = derivation;
  if (auto valid = ks.validate(); !valid) {
    die(valid.error().message);
  }
  return ks;
}

Timestamp now() {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

// The epochs a server holds now, and the next one in any case, so that an
// epoch boundary during the run leaves the plain keystore a key to encrypt.
std::vector<Epoch> epochs_now(const Policy& policy) {
  auto epochs = epochs_needed_at(policy, now());
  const Epoch next = epoch_at(policy, now()) + 1;
  if (std::find(epochs.begin(), epochs.end(), next) == epochs.end()) {
    epochs.push_back(next);
  }
  return epochs;
}

std::unique_ptr<DerivedProvider> g_derived;
std::unique_ptr<FileProvider> g_file;
KeyId g_ticket_id;

template <typename P> void remember_ticket_id(P& provider) {
  const auto key = provider.encryption_key(std::nullopt);
  if (!key) {
    die("the provider has no encrypting key");
  }
  g_ticket_id = key->id;
}

void open_derived(const benchmark::State& state) {
  auto ks = derived_keystore(state.range(0) == 1);
  const auto wanted = epochs_needed_at(ks.policy, now()).size();
  DerivedProviderOptions options;
  options.require_first_fetch = true;
  auto opened = DerivedProvider::open(std::move(ks), std::make_unique<HmacOracle>(),
                                      std::move(options));
  if (!opened) {
    die(opened.error().message);
  }
  g_derived = std::move(opened).value();
  // Steady state: the fetching thread has got the other epochs.
  for (int i = 0; g_derived->status().epochs < wanted; ++i) {
    if (i == 500) {
      die("the derived provider did not fetch every epoch within 5 s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  remember_ticket_id(*g_derived);
}

void open_file(const benchmark::State& state) {
  const bool binding = state.range(0) == 1;
  const auto derived = derived_keystore(binding);
  HmacOracle oracle;
  auto plain = materialize(derived, epochs_now(derived.policy), oracle);
  if (!plain) {
    die(plain.error().message);
  }
  const auto path = scratch_dir() / (binding ? "bound.json" : "unbound.json");
  if (auto saved = formats::save_native_keystore(path, *plain); !saved) {
    die(saved.error().message);
  }
  FileProviderOptions options;
  options.watch = WatchMode::manual;
  auto opened = formats::open_file_provider(path, std::move(options));
  if (!opened) {
    die(opened.error().message);
  }
  g_file = std::move(opened).value();
  remember_ticket_id(*g_file);
}

void close_providers(const benchmark::State&) {
  g_derived.reset();
  g_file.reset();
}


// Called through the concrete (final) type for both providers, so neither
// gets devirtualized and the other not.
template <typename P, bool Decrypt>
void run_lookups(benchmark::State& state, P& provider) {
  const KeyIdView id(g_ticket_id.bytes().data(), KeyId::k_size);
  const auto lookup = [&](const char* name) {
    if constexpr (Decrypt) {
      return provider.decryption_key(name, id);
    } else {
      return provider.encryption_key(name);
    }
  };
  for (const char* name : k_names) {
    if (!lookup(name)) {
      state.SkipWithError("a lookup found no key");
      return;
    }
  }
  std::size_t next = static_cast<std::size_t>(state.thread_index());
  const bench::AllocationCount count;
  for (auto _ : state) {
    auto key = lookup(k_names[next++ % k_name_count]);
    benchmark::DoNotOptimize(key);
  }
  count.report(state, "allocs_per_iter");
}

void DerivedLookupEncrypt(benchmark::State& s) { run_lookups<DerivedProvider, false>(s, *g_derived); }
void DerivedLookupDecrypt(benchmark::State& s) { run_lookups<DerivedProvider, true>(s, *g_derived); }
void FileLookupEncrypt(benchmark::State& s) { run_lookups<FileProvider, false>(s, *g_file); }
void FileLookupDecrypt(benchmark::State& s) { run_lookups<FileProvider, true>(s, *g_file); }

// --- Oracles -------------------------------------------------------------

const std::vector<std::uint8_t>& message() {
  static const auto m = [] {
    std::vector<std::uint8_t> bytes(64);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      bytes[i] = static_cast<std::uint8_t>(i * 7 + 1);
    }
    return bytes;
  }();
  return m;
}

const char* env_or(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

void write_private(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path) << text;
  std::filesystem::permissions(path, std::filesystem::perms::owner_read |
                                       std::filesystem::perms::owner_write);
}

// A SoftHSM2 token "bench" in the scratch directory with key "stek" of
// value k_hex_key, made once; SOFTHSM2_CONF then points at it. Returns
// the oracle configuration, or an error message.
std::variant<Pkcs11OracleConfig, std::string> softhsm_token() {
  static const auto made = []() -> std::variant<Pkcs11OracleConfig, std::string> {
    const std::string tool = env_or("STEK_TEST_HSM", STEK_TEST_HSM_BINARY);
    const std::string module = env_or("STEK_SOFTHSM2_MODULE", STEK_SOFTHSM2_MODULE);
    if (tool.empty() || ::access(tool.c_str(), X_OK) != 0) {
      return std::string("no stek-test-hsm: set STEK_TEST_HSM or build with STEK_BUILD_TESTS=ON");
    }
    if (::access(module.c_str(), R_OK) != 0) {
      return "no SoftHSM2 module at " + module;
    }
    const auto dir = scratch_dir() / "softhsm";
    std::filesystem::create_directories(dir);
    write_private(dir / "pin", "bench-user-pin\n");
    write_private(dir / "so-pin", "bench-so-pin\n");
    const std::string init = tool + " init --dir " + dir.string() +
                             " --token bench --pin-file " + (dir / "pin").string() +
                             " --so-pin-file " + (dir / "so-pin").string() +
                             " --module " + module + " >/dev/null";
    if (std::system(init.c_str()) != 0) {
      return "failed: " + init;
    }
    ::setenv("SOFTHSM2_CONF", (dir / "softhsm2.conf").c_str(), 1);
    const std::string key = tool + " create-key --module " + module +
                            " --token bench --pin-file " + (dir / "pin").string() +
                            " --label stek --value-hex " + k_hex_key;
    if (std::system(key.c_str()) != 0) {
      return "failed: " + key;
    }
    Pkcs11OracleConfig config;
    config.module = module;
    config.token = "bench";
    config.key = "stek";
    config.pin_file = (dir / "pin").string();
    return config;
  }();
  return made;
}

// Check `oracle` against HMAC computed here; false (and the state skipped)
// if it fails or differs.
bool check_oracle(benchmark::State& state, MacOracle& oracle) {
  auto got = oracle.mac(message());
  if (!got) {
    state.SkipWithError(got.error().message.c_str());
    return false;
  }
  HmacOracle reference;
  auto want = reference.mac(message());
  if (!want || !std::ranges::equal(got->reveal(), want->reveal())) {
    state.SkipWithError("the oracle's MAC differs from HMAC-SHA256 under the key");
    return false;
  }
  return true;
}

void run_macs(benchmark::State& state, MacOracle& oracle) {
  if (!check_oracle(state, oracle)) { // also loads the module, warms caches
    return;
  }
  const bench::AllocationCount count;
  for (auto _ : state) {
    auto mac = oracle.mac(message());
    if (!mac) {
      state.SkipWithError(mac.error().message.c_str());
      break;
    }
    benchmark::DoNotOptimize(mac);
  }
  count.report(state, "allocs_per_iter");
}

void OracleMacPkcs11(benchmark::State& state) {
  const auto token = softhsm_token();
  if (const auto* error = std::get_if<std::string>(&token)) {
    state.SkipWithError(error->c_str());
    return;
  }
  auto oracle = open_pkcs11_oracle(std::get<Pkcs11OracleConfig>(token));
  if (!oracle) {
    state.SkipWithError(oracle.error().message.c_str());
    return;
  }
  run_macs(state, **oracle);
}

void OracleMacPkcs11Cold(benchmark::State& state) {
  const auto token = softhsm_token();
  if (const auto* error = std::get_if<std::string>(&token)) {
    state.SkipWithError(error->c_str());
    return;
  }
  const auto& config = std::get<Pkcs11OracleConfig>(token);
  const bench::AllocationCount count;
  for (auto _ : state) {
    auto oracle = open_pkcs11_oracle(config);
    auto mac = oracle ? (*oracle)->mac(message()) : Result<SecretBytes>(oracle.error());
    if (!mac) {
      state.SkipWithError(mac.error().message.c_str());
      break;
    }
    benchmark::DoNotOptimize(mac);
  }
  count.report(state, "allocs_per_iter");
}

void OracleMacCommand(benchmark::State& state) {
  CommandOracleConfig config;
  config.command = std::string("openssl mac -digest SHA256 -macopt hexkey:") + k_hex_key + " HMAC";
  config.output = CommandOracleConfig::Output::hex;
  auto oracle = open_command_oracle(config);
  if (!oracle) {
    state.SkipWithError(oracle.error().message.c_str());
    return;
  }
  run_macs(state, **oracle);
}

// Arg 1: sni_binding on; 0: off. Derived and file side by side.
BENCHMARK(DerivedLookupEncrypt)->ArgName("binding")->Arg(1)->Arg(0)
  ->Setup(open_derived)->Teardown(close_providers)->Threads(1)->Threads(2);
BENCHMARK(FileLookupEncrypt)->ArgName("binding")->Arg(1)->Arg(0)
  ->Setup(open_file)->Teardown(close_providers)->Threads(1)->Threads(2);
BENCHMARK(DerivedLookupDecrypt)->ArgName("binding")->Arg(1)->Arg(0)
  ->Setup(open_derived)->Teardown(close_providers)->Threads(1)->Threads(2);
BENCHMARK(FileLookupDecrypt)->ArgName("binding")->Arg(1)->Arg(0)
  ->Setup(open_file)->Teardown(close_providers)->Threads(1)->Threads(2);
BENCHMARK(OracleMacPkcs11)->Name("OracleMac/pkcs11")->Unit(benchmark::kMillisecond);
BENCHMARK(OracleMacPkcs11Cold)->Name("OracleMac/pkcs11_cold")->Unit(benchmark::kMillisecond);
BENCHMARK(OracleMacCommand)->Name("OracleMac/command")->Unit(benchmark::kMillisecond);

} // namespace

int main(int argc, char** argv) {
  if (!bench::start_counting_allocations("stek_derived_bench")) {
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
