// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stek/keystore.hpp>
#include <stek/provider.hpp>
#include <stek/result.hpp>
#include <stek/secret.hpp>
#include <stek/time.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace stek {

// Turns the bytes of a keystore file into a Keystore; `source` names the
// file in errors. stek::formats supplies the native one
// (stek::formats::open_file_provider), so that core needs no JSON library.
using KeystoreParser =
  std::function<Result<Keystore>(SecretView bytes, std::string_view source)>;

// What a FileProvider is serving, and how its last load went.
struct ProviderStatus {
  // Counts successful loads; 1 after open. Lookups always use the keys of
  // this generation.
  std::uint64_t generation = 0;
  // When the keys served now were loaded (wall clock).
  std::chrono::system_clock::time_point loaded_at{};
  // Keys in the keystore served now, of every state.
  std::size_t keys = 0;
  // False when the last load attempt failed: the file is missing, unreadable,
  // invalid or insecure. The keys of `generation` are still served.
  bool ok = true;
  // Why the last load failed, naming the file and the field; empty if ok.
  // Also notes keys the provider cannot hand out (48-byte imports).
  std::string message;
  // When the last load attempt, good or bad, happened.
  std::chrono::system_clock::time_point checked_at{};
};

// How a FileProvider notices that the keystore changed.
enum class WatchMode {
  automatic, // inotify on the keystore's directory, polling if unavailable
  poll,      // compare the file's identity and times every poll_interval
  manual,    // only when reload() is called
};

struct FileProviderOptions {
  // Required: see KeystoreParser.
  KeystoreParser parser;
  WatchMode watch = WatchMode::automatic;
  // How often the file is checked by polling; with inotify, also the
  // safety net for events that never arrive (a directory that was removed
  // and made again, network file systems).
  std::chrono::milliseconds poll_interval{1000};
  // Refuse keystores that group or others may read, as stekctl does. Turn
  // off only where the file system cannot express 0600 (some Secret
  // volumes); the keys are then as private as the directory.
  bool require_private = true;
  // The time lookups use; the system clock unless a test sets one. Called
  // on every lookup, so it must be cheap and must not block.
  std::function<Timestamp()> clock;
  // Called after every load attempt, good or bad: from the watching thread,
  // or from the thread that called reload(). Must not call reload() itself.
  std::function<void(const ProviderStatus&)> on_status;
  // Upper bound on the cached per-name secrets of one generation. Names
  // beyond it are derived on every lookup instead.
  std::size_t derived_cache_entries = 1024;
};

// A Provider that serves the keys of a keystore file and follows its
// changes: stekctl rotate, export of the keystore to a Secret volume, or
// any atomic replacement. Lookups read an immutable snapshot of the last
// good file without locks or heap allocation (secrets already derived for a
// name are cached per generation); a file that is missing or bad never
// replaces good keys. Key states follow the clock, so a pending key starts
// encrypting at its not_before without any change to the file.
class FileProvider final : public Provider {
public:
  // Load `path` and start watching it. Fails, naming the file and the field,
  // if the first load fails: a server should not start without keys.
  static Result<std::unique_ptr<FileProvider>>
  open(std::filesystem::path path, FileProviderOptions options);

  ~FileProvider() override;
  FileProvider(const FileProvider&) = delete;
  FileProvider& operator=(const FileProvider&) = delete;

  std::optional<TicketKey>
  encryption_key(std::optional<std::string_view> sni) override;
  std::optional<TicketKey>
  decryption_key(std::optional<std::string_view> sni, KeyIdView id) override;

  // Load the file now, whether or not it changed. On failure the old keys
  // stay and the error is returned (and recorded in status()).
  Result<void> reload();

  ProviderStatus status() const;
  const std::filesystem::path& path() const;

  class Impl;

private:
  explicit FileProvider(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

} // namespace stek
