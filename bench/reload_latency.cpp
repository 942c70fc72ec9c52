// SPDX-License-Identifier: Apache-2.0
// stek_reload_latency: how long after a keystore is replaced a server's
// lookups return the new key. Each round writes a keystore with a new
// encrypting key to a temporary file in the same directory and renames it
// over the watched one, as stekctl does; a second thread looks up the
// encrypting key in a loop and notes when it first sees the new id. Prints
// median, p90 and max over the rounds for inotify and for polling.
//
//   stek_reload_latency [ROUNDS]      (default 200)

#include <stek/crypto.hpp>
#include <stek/formats/file_provider.hpp>
#include <stek/formats/native_keystore.hpp>
#include <stek/io.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using namespace stek;
using Clock = std::chrono::steady_clock;

const Timestamp k_now = *parse_time("2026-11-28T12:00:00Z");

Keystore fresh_keystore() {
  Keystore ks;
  for (int i = 0; i < 2; ++i) {
    const auto nb = k_now - std::chrono::hours(1) + std::chrono::hours(12) * i;
    ks.keys.push_back(Key{*KeyId::random(), k_now - std::chrono::hours(1), nb,
                          nb + std::chrono::hours(12), nb + std::chrono::hours(36),
                          {}, Material{*random_secret(Material::k_size)},
                          std::nullopt});
  }
  return ks;
}

void fail(const std::string& what) {
  std::fprintf(stderr, "stek_reload_latency: %s\n", what.c_str());
  std::exit(1);
}

void measure(const char* label, WatchMode mode, int rounds) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("stek-reload-latency-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / "ks.json";
  if (!formats::save_native_keystore(path, fresh_keystore())) {
    fail("cannot write " + path.string());
  }
  FileProviderOptions options;
  options.watch = mode;
  options.poll_interval = std::chrono::milliseconds(50);
  options.clock = [] { return k_now; };
  auto provider = formats::open_file_provider(path, std::move(options));
  if (!provider) {
    fail(provider.error().message);
  }

  std::atomic<bool> stop{false};
  std::atomic<const KeyId*> wanted{nullptr};
  std::atomic<Clock::rep> seen_at{0};
  std::thread reader([&] {
    while (!stop.load()) {
      const KeyId* id = wanted.load();
      auto key = (*provider)->encryption_key("a.example");
      if (id && key && key->id == *id && seen_at.load() == 0) {
        seen_at.store(Clock::now().time_since_epoch().count());
      }
    }
  });

  std::vector<double> micros;
  for (int round = 0; round < rounds; ++round) {
    const auto next = fresh_keystore();
    const auto bytes = formats::serialize_native_keystore(next);
    const auto staged = dir / ".staged";
    if (!atomic_write(staged, bytes.view())) {
      fail("cannot write " + staged.string());
    }
    const KeyId id = next.keys[0].id;
    seen_at.store(0);
    wanted.store(&id);
    const auto renamed = Clock::now();
    std::filesystem::rename(staged, path);
    const auto deadline = renamed + std::chrono::seconds(5);
    while (seen_at.load() == 0 && Clock::now() < deadline) {
      std::this_thread::yield();
    }
    if (seen_at.load() == 0) {
      fail(std::string(label) + ": the new key never appeared");
    }
    wanted.store(nullptr);
    const Clock::time_point seen{Clock::duration(seen_at.load())};
    micros.push_back(
      std::chrono::duration<double, std::micro>(seen - renamed).count());
  }
  stop = true;
  reader.join();
  std::sort(micros.begin(), micros.end());
  const auto at = [&](double q) {
    return micros[std::min(micros.size() - 1,
                           static_cast<std::size_t>(q * static_cast<double>(micros.size())))];
  };
  std::printf("%-24s rounds %d  median %8.0f us  p90 %8.0f us  max %8.0f us\n",
              label, rounds, at(0.5), at(0.9), micros.back());
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

} // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 200;
  if (rounds <= 0) {
    fail("usage: stek_reload_latency [ROUNDS]");
  }
  measure("inotify (automatic)", WatchMode::automatic, rounds);
  measure("poll every 50 ms", WatchMode::poll, std::max(1, rounds / 4));
  return 0;
}
