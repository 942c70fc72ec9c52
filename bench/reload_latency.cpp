// SPDX-License-Identifier: Apache-2.0
// stek_reload_latency: how long after a keystore is replaced a server's
// lookups return the new key. Each round writes a keystore with a new
// encrypting key to a temporary file in the same directory and renames it
// over the watched one, as stekctl does; another thread looks up the
// encrypting key without pause, as a busy server would, and notes when it
// first sees the new id. The time runs from just before rename() to the
// end of that lookup. Prints median, p90 (nearest rank) and max over the
// rounds, for WatchMode::automatic (inotify; polling every second only as
// its safety net) and for WatchMode::poll every 50 ms.
//
//   stek_reload_latency [ROUNDS]      (default 200)

#include <stek/crypto.hpp>
#include <stek/formats/file_provider.hpp>
#include <stek/formats/native_keystore.hpp>
#include <stek/io.hpp>

#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace stek;
using Clock = std::chrono::steady_clock;
using std::chrono::hours;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "stek_reload_latency: %s\n", what.c_str());
  std::exit(1);
}

// An encrypting key and its pending successor, around the real time (the
// provider runs on its default clock, as in a server).
Keystore fresh_keystore() {
  const auto now =
    std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  Keystore ks;
  for (int i = 0; i < 2; ++i) {
    const Timestamp not_before = now - hours(1) + hours(12) * i;
    ks.keys.push_back(Key{*KeyId::random(),
                          now - hours(1),
                          not_before,
                          not_before + ks.policy.encrypt_for,
                          not_before + ks.policy.encrypt_for +
                            ks.policy.decrypt_for,
                          std::nullopt,
                          Material{*random_secret(Material::k_size)},
                          std::nullopt,
                          std::nullopt});
  }
  return ks;
}

struct Figures {
  double median = 0;
  double p90 = 0;
  double max = 0;
};

Figures summarize(std::vector<double> micros) {
  std::sort(micros.begin(), micros.end());
  const auto rank = [&](double q) {
    const auto n = static_cast<double>(micros.size());
    const auto r = static_cast<std::size_t>(std::ceil(q * n));
    return micros[std::max<std::size_t>(r, 1) - 1];
  };
  return {rank(0.5), rank(0.9), micros.back()};
}

// Run `rounds` replacements under `mode` and return the microseconds from
// each rename to the first lookup that returned the new key.
std::vector<double> measure(WatchMode mode,
                            std::chrono::milliseconds poll_interval,
                            int rounds,
                            const std::filesystem::path& dir) {
  const auto path = dir / "keystore.json";
  const auto staged = dir / ".keystore.json.new";
  if (!formats::save_native_keystore(path, fresh_keystore())) {
    die("cannot write " + path.string());
  }
  std::atomic<int> failed_loads{0};
  FileProviderOptions options;
  options.watch = mode;
  options.poll_interval = poll_interval;
  options.on_status = [&](const ProviderStatus& status) {
    if (!status.ok) {
      failed_loads.fetch_add(1);
    }
  };
  auto opened = formats::open_file_provider(path, std::move(options));
  if (!opened) {
    die(opened.error().message);
  }
  FileProvider& provider = **opened;
  const auto generation_before = provider.status().generation;

  // The ids to wait for, written before the reader may look at them; the
  // reader gets an index, so it never reads an id being written.
  std::vector<KeyId> ids(static_cast<std::size_t>(rounds));
  std::atomic<int> wanted{-1};
  std::atomic<Clock::rep> seen_at{0};
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      const int round = wanted.load();
      const auto key = provider.encryption_key("a.example");
      if (round >= 0 && key && key->id == ids[static_cast<std::size_t>(round)]) {
        const auto at = Clock::now().time_since_epoch().count();
        Clock::rep none = 0;
        seen_at.compare_exchange_strong(none, at);
      }
    }
  });

  // A random pause of up to 50 ms before each rename, so that under
  // polling renames fall anywhere in the cycle instead of just after the
  // check that saw the last one.
  std::mt19937 random(std::random_device{}());
  std::uniform_int_distribution<int> pause_us(0, 50'000);
  std::vector<double> micros;
  for (int round = 0; round < rounds; ++round) {
    const auto next = fresh_keystore();
    const auto bytes = formats::serialize_native_keystore(next);
    if (!atomic_write(staged, bytes.view())) {
      die("cannot write " + staged.string());
    }
    ids[static_cast<std::size_t>(round)] = next.keys[0].id;
    std::this_thread::sleep_for(std::chrono::microseconds(pause_us(random)));
    seen_at.store(0);
    wanted.store(round);
    const auto renamed = Clock::now();
    std::error_code ec;
    std::filesystem::rename(staged, path, ec);
    if (ec) {
      die("cannot rename " + staged.string() + ": " + ec.message());
    }
    // Sleep rather than spin: on a small machine a spinning waiter would
    // take the CPU the watcher needs. The reader's clock makes the figure.
    const auto deadline = renamed + std::chrono::seconds(10);
    while (seen_at.load() == 0 && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    if (seen_at.load() == 0) {
      die("the new key never appeared");
    }
    wanted.store(-1);
    const Clock::time_point seen{Clock::duration(seen_at.load())};
    micros.push_back(
      std::chrono::duration<double, std::micro>(seen - renamed).count());
  }
  stop = true;
  reader.join();
  const auto loads = provider.status().generation - generation_before;
  if (loads != static_cast<std::uint64_t>(rounds) || failed_loads.load() != 0) {
    std::fprintf(stderr,
                 "stek_reload_latency: %d rounds took %llu loads, %d failed\n",
                 rounds, static_cast<unsigned long long>(loads),
                 failed_loads.load());
  }
  return micros;
}

void report(const char* label, const std::vector<double>& micros) {
  const auto f = summarize(micros);
  std::printf("%-22s rounds %4zu  median %8.0f us  p90 %8.0f us  max %8.0f us\n",
              label, micros.size(), f.median, f.p90, f.max);
}

} // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 200;
  if (argc > 2 || rounds <= 0) {
    std::fprintf(stderr, "usage: stek_reload_latency [ROUNDS]\n");
    return 2;
  }
  auto pattern =
    (std::filesystem::temp_directory_path() / "stek-reload-latency-XXXXXX")
      .string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    die("cannot make a directory like " + pattern);
  }
  const std::filesystem::path dir = pattern;
  // The default poll_interval: a missed inotify event would show as a
  // second, not hide behind a short poll.
  report("automatic (inotify)",
         measure(WatchMode::automatic, std::chrono::milliseconds(1000),
                 rounds, dir));
  report("poll every 50 ms",
         measure(WatchMode::poll, std::chrono::milliseconds(50), rounds, dir));
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}
