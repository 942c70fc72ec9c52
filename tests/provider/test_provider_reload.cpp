// SPDX-License-Identifier: Apache-2.0
// How a FileProvider follows its file: every way the file can be replaced,
// and every way it can go bad, with the keys served meanwhile.
#include "provider/provider_fixture.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <mutex>
#include <set>
#include <vector>

using namespace stek;
using namespace stek::test;
namespace fs = std::filesystem;

namespace {

// Fixed, so failures reproduce; not via at(), which REQUIREs before main.
const Timestamp k_start = *parse_time("2026-11-28T12:00:00Z");

struct Watched {
  TestClock clock;
  std::mutex mutex;
  std::vector<ProviderStatus> reports;
  // Last, so it is destroyed first: its watcher thread reports into the
  // members above until then.
  std::unique_ptr<FileProvider> provider;

  Watched(const fs::path& path, WatchMode mode = WatchMode::automatic) {
    clock.set(k_start);
    FileProviderOptions options;
    options.watch = mode;
    options.clock = clock.function();
    // With inotify, polling is only the safety net; make it slow so the
    // tests show the events do the work.
    options.poll_interval = mode == WatchMode::poll
                              ? std::chrono::milliseconds(20)
                              : std::chrono::milliseconds(60000);
    options.on_status = [this](const ProviderStatus& status) {
      std::lock_guard lock(mutex);
      reports.push_back(status);
    };
    provider = open_provider(path, std::move(options));
  }

  std::optional<KeyId> encrypting() {
    auto key = provider->encryption_key("www.example.com");
    return key ? std::optional(key->id) : std::nullopt;
  }

  bool serves(const KeyId& id) {
    return eventually([&] { return encrypting() == id; });
  }

  bool reported_failure(const std::string& part) {
    return eventually([&] {
      std::lock_guard lock(mutex);
      for (const auto& r : reports) {
        if (!r.ok && r.message.find(part) != std::string::npos) {
          return true;
        }
      }
      return false;
    });
  }
};

// Write `contents` over `path` in place, as an editor or `cp` does.
void rewrite_in_place(const fs::path& path, const std::string& contents) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, contents.data(), contents.size()) ==
          static_cast<ssize_t>(contents.size()));
  ::close(fd);
}

std::string serialized(const Keystore& ks) {
  const auto bytes = formats::serialize_native_keystore(ks);
  const auto view = bytes.reveal();
  return std::string(view.begin(), view.end());
}

} // namespace

TEST_CASE("provider reload: an atomic rename is seen at once") {
  fs::create_directory("etc");
  const auto first = keystore_at(k_start);
  save("etc/ks.json", first);
  Watched w("etc/ks.json");
  CHECK(w.encrypting() == first.keys[0].id);

  const auto second = keystore_at(k_start);
  save("etc/ks.json", second); // temp + rename, as stekctl does
  CHECK(w.serves(second.keys[0].id));
  CHECK(w.provider->status().generation == 2);
  CHECK(w.provider->status().ok);
  // The old key is gone with its file.
  CHECK_FALSE(w.provider->decryption_key(std::nullopt, view_of(first.keys[0].id)));
}

TEST_CASE("provider reload: a rewrite in place is seen") {
  fs::create_directory("etc");
  save("etc/ks.json", keystore_at(k_start));
  Watched w("etc/ks.json");
  const auto second = keystore_at(k_start);
  rewrite_in_place("etc/ks.json", serialized(second));
  CHECK(w.serves(second.keys[0].id));
}

TEST_CASE("provider reload: a Kubernetes Secret volume's ..data swap is seen") {
  // The kubelet's layout: the file is a symlink through ..data to a
  // timestamped directory, and an update swaps ..data by rename.
  fs::create_directories("volume/..2026_11_28_12_00_00.1");
  save("volume/..2026_11_28_12_00_00.1/keystore.json", keystore_at(k_start));
  fs::create_directory_symlink("..2026_11_28_12_00_00.1", "volume/..data");
  fs::create_symlink("..data/keystore.json", "volume/keystore.json");
  Watched w("volume/keystore.json");

  const auto second = keystore_at(k_start);
  fs::create_directories("volume/..2026_11_28_12_05_00.2");
  save("volume/..2026_11_28_12_05_00.2/keystore.json", second);
  fs::create_directory_symlink("..2026_11_28_12_05_00.2", "volume/..data_tmp");
  fs::rename("volume/..data_tmp", "volume/..data");
  fs::remove_all("volume/..2026_11_28_12_00_00.1");
  CHECK(w.serves(second.keys[0].id));

  // And the next swap too: the watch on the old target directory is gone.
  const auto third = keystore_at(k_start);
  fs::create_directories("volume/..2026_11_28_12_10_00.3");
  save("volume/..2026_11_28_12_10_00.3/keystore.json", third);
  fs::create_directory_symlink("..2026_11_28_12_10_00.3", "volume/..data_tmp");
  fs::rename("volume/..data_tmp", "volume/..data");
  fs::remove_all("volume/..2026_11_28_12_05_00.2");
  CHECK(w.serves(third.keys[0].id));
}

TEST_CASE("provider reload: bad files never replace good keys") {
  fs::create_directory("etc");
  const auto good = keystore_at(k_start);
  save("etc/ks.json", good);
  Watched w("etc/ks.json");
  const auto generation = w.provider->status().generation;

  SUBCASE("corrupt") {
    rewrite_in_place("etc/ks.json", "{\"stek_keystore\": 1, \"policy\": [");
    CHECK(w.reported_failure("etc/ks.json"));
  }
  SUBCASE("truncated") {
    const auto text = serialized(good);
    rewrite_in_place("etc/ks.json", text.substr(0, text.size() / 2));
    CHECK(w.reported_failure("etc/ks.json"));
  }
  SUBCASE("empty") {
    rewrite_in_place("etc/ks.json", "");
    CHECK(w.reported_failure("etc/ks.json"));
  }
  SUBCASE("deleted") {
    fs::remove("etc/ks.json");
    CHECK(w.reported_failure("missing"));
  }
  SUBCASE("readable by others") {
    ::chmod("etc/ks.json", 0644);
    CHECK(w.reported_failure("etc/ks.json"));
  }
  // The last good keys are still served, and status says why they are old.
  CHECK(w.encrypting() == good.keys[0].id);
  CHECK(w.provider->decryption_key(std::nullopt, view_of(good.keys[1].id)));
  const auto status = w.provider->status();
  CHECK_FALSE(status.ok);
  CHECK(status.generation == generation);
  CHECK_FALSE(status.message.empty());

  // The next good file is picked up.
  const auto next = keystore_at(k_start);
  save("etc/ks.json", next);
  CHECK(w.serves(next.keys[0].id));
  CHECK(w.provider->status().ok);
}

TEST_CASE("provider reload: polling sees changes where inotify is not used") {
  fs::create_directory("etc");
  save("etc/ks.json", keystore_at(k_start));
  Watched w("etc/ks.json", WatchMode::poll);
  const auto second = keystore_at(k_start);
  save("etc/ks.json", second);
  CHECK(w.serves(second.keys[0].id));
  fs::remove("etc/ks.json");
  CHECK(w.reported_failure("missing"));
  const auto third = keystore_at(k_start);
  save("etc/ks.json", third);
  CHECK(w.serves(third.keys[0].id));
}

TEST_CASE("provider reload: a removed and re-created directory is watched again") {
  fs::create_directory("etc");
  save("etc/ks.json", keystore_at(k_start));
  TestClock clock;
  clock.set(k_start);
  FileProviderOptions options;
  options.clock = clock.function();
  options.poll_interval = std::chrono::milliseconds(50);
  auto provider = open_provider("etc/ks.json", std::move(options));
  fs::remove_all("etc");
  fs::create_directory("etc");
  const auto second = keystore_at(k_start);
  save("etc/ks.json", second);
  CHECK(eventually([&] {
    auto key = provider->encryption_key(std::nullopt);
    return key && key->id == second.keys[0].id;
  }));
}

TEST_CASE("provider reload: manual reload() and what it reports") {
  save("ks.json", keystore_at(k_start));
  TestClock clock;
  clock.set(k_start);
  FileProviderOptions options;
  options.watch = WatchMode::manual;
  options.clock = clock.function();
  auto provider = open_provider("ks.json", std::move(options));
  const auto second = keystore_at(k_start);
  save("ks.json", second);
  // Manual: nothing changes until asked.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(provider->status().generation == 1);
  REQUIRE(provider->reload().ok());
  CHECK(provider->status().generation == 2);
  CHECK(provider->encryption_key(std::nullopt)->id == second.keys[0].id);
  write_file("ks.json", "nonsense");
  const auto failed = provider->reload();
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.error().message.find("ks.json") != std::string::npos);
  CHECK(provider->encryption_key(std::nullopt)->id == second.keys[0].id);
}

TEST_CASE("provider reload: a storm of replacements never shows a key from neither file") {
  // Readers on several threads while the file is replaced over and over:
  // every key they get must be one of the two files' encrypting keys, with
  // that key's secrets, never a mix. Built with ThreadSanitizer in CI.
  fs::create_directory("etc");
  const Keystore files[2] = {keystore_at(k_start), keystore_at(k_start)};
  save("etc/ks.json", files[0]);
  TestClock clock;
  clock.set(k_start);
  FileProviderOptions options;
  options.clock = clock.function();
  auto provider = open_provider("etc/ks.json", std::move(options));

  const OpensslKeys expected[2] = {
    expected_keys(files[0].keys[0], Binding::server_name("a.example")),
    expected_keys(files[1].keys[0], Binding::server_name("a.example"))};
  std::atomic<bool> stop{false};
  std::atomic<long> lookups{0};
  std::atomic<long> wrong{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        auto key = provider->encryption_key("a.example");
        bool good = false;
        for (int f = 0; f < 2 && key; ++f) {
          good = good || (key->id == files[f].keys[0].id &&
                          same(key->aes(), expected[f].aes.view()) &&
                          same(key->hmac(), expected[f].hmac.view()));
        }
        if (!good) {
          ++wrong;
        }
        ++lookups;
      }
    });
  }
  const int replacements = 2000;
  for (int i = 1; i <= replacements; ++i) {
    save("etc/ks.json", files[i % 2]);
    if (i % 100 == 0) {
      REQUIRE(provider->reload().ok()); // and reloads from this thread too
    }
  }
  CHECK(eventually([&] {
    auto key = provider->encryption_key("a.example");
    return key && key->id == files[replacements % 2].keys[0].id;
  }));
  stop = true;
  for (auto& reader : readers) {
    reader.join();
  }
  CHECK(wrong.load() == 0);
  CHECK(lookups.load() > 0);
  CHECK(provider->status().generation > 2);
}

TEST_CASE("provider reload: a file caught half-rewritten is read again, not reported bad") {
  fs::create_directory("etc");
  save("etc/ks.json", keystore_at(k_start));
  Watched w("etc/ks.json");
  const auto next = keystore_at(k_start);
  const auto text = serialized(next);
  // Write half, make the watcher look (any event in the directory does),
  // then finish the write, as a slow `cp` over the file would.
  const int fd = ::open("etc/ks.json", O_WRONLY | O_TRUNC);
  REQUIRE(fd >= 0);
  const auto half = text.size() / 2;
  REQUIRE(::write(fd, text.data(), half) == static_cast<ssize_t>(half));
  write_file("etc/other", "x");
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  REQUIRE(::write(fd, text.data() + half, text.size() - half) ==
          static_cast<ssize_t>(text.size() - half));
  ::close(fd);
  CHECK(w.serves(next.keys[0].id));
  std::lock_guard lock(w.mutex);
  for (const auto& report : w.reports) {
    CHECK_MESSAGE(report.ok, report.message);
  }
}
