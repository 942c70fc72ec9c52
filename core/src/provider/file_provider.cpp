// SPDX-License-Identifier: Apache-2.0
#include <stek/file_provider.hpp>

#include "coarse_clock.hpp"
#include "keystore_watcher.hpp"
#include "snapshot.hpp"
#include "snapshot_cell.hpp"

#include <stek/io.hpp>

#include <mutex>
#include <thread>
#include <sys/stat.h>
#include <time.h>

namespace stek {
namespace {

// Keystores are small; this only stops a wrong path from reading a disk.
constexpr std::size_t k_max_keystore_size = 64u << 20;

// How long a file that does not load must hold still before the watcher
// reports it bad: writers that rewrite in place change it within this.
constexpr int k_settle_attempts = 8;
constexpr auto k_settle_pause = std::chrono::milliseconds(25);

// What tells one version of the file from another without reading it.
struct FileIdentity {
  bool exists = false;
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  timespec modified{};
  timespec changed{};
  mode_t mode = 0;

  static FileIdentity of(const std::filesystem::path& path) {
    FileIdentity id;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      return id;
    }
    id.exists = true;
    id.device = st.st_dev;
    id.inode = st.st_ino;
    id.size = st.st_size;
    id.modified = st.st_mtim;
    id.changed = st.st_ctim;
    id.mode = st.st_mode;
    return id;
  }

  bool operator==(const FileIdentity& o) const {
    return exists == o.exists && device == o.device && inode == o.inode &&
           size == o.size && modified.tv_sec == o.modified.tv_sec &&
           modified.tv_nsec == o.modified.tv_nsec &&
           changed.tv_sec == o.changed.tv_sec &&
           changed.tv_nsec == o.changed.tv_nsec && mode == o.mode;
  }
};

} // namespace

class FileProvider::Impl {
public:
  Impl(std::filesystem::path path,
       FileProviderOptions options,
       std::unique_ptr<detail::Snapshot> first,
       FileIdentity identity,
       std::string notes)
    : m_path(std::move(path)),
      m_options(std::move(options)),
      m_cell(std::move(first)),
      m_identity(identity) {
    const auto now = std::chrono::system_clock::now();
    m_status.generation = 1;
    m_status.loaded_at = now;
    m_status.checked_at = now;
    m_status.keys = m_cell.read()->key_count();
    m_status.message = std::move(notes);
  }

  // Read, check and parse the file into a snapshot; nothing is shared yet.
  static Result<std::unique_ptr<detail::Snapshot>>
  load(const std::filesystem::path& path,
       const FileProviderOptions& options,
       std::string& notes) {
    if (options.require_private) {
      STEK_TRY(check_private_for_server(path));
    }
    STEK_TRY_ASSIGN(auto bytes, read_secret_file(path, k_max_keystore_size));
    STEK_TRY_ASSIGN(auto keystore, options.parser(bytes.view(), path.string()));
    STEK_TRY(keystore.validate());
    return detail::Snapshot::build(std::move(keystore),
                                   options.derived_cache_entries, notes);
  }

  // Load now; on success publish the new snapshot, on failure keep the old
  // one. Either way record and report the outcome.
  // With `settle`, a file that fails to load while it is still changing
  // (an in-place rewrite caught half-written) is read again once it holds
  // still, rather than reported as bad at once.
  Result<void> reload(FileIdentity identity, bool settle = false) {
    std::lock_guard load_lock(m_load_mutex);
    std::string notes;
    auto loaded = load(m_path, m_options, notes);
    for (int attempt = 0; settle && !loaded && attempt < k_settle_attempts;
         ++attempt) {
      std::this_thread::sleep_for(k_settle_pause);
      const auto now = FileIdentity::of(m_path);
      if (now == identity || !now.exists) {
        break; // it holds still: it really is bad
      }
      identity = now;
      notes.clear();
      loaded = load(m_path, m_options, notes);
    }
    m_identity = identity;
    ProviderStatus status;
    {
      std::lock_guard status_lock(m_status_mutex);
      m_status.checked_at = std::chrono::system_clock::now();
      if (loaded) {
        m_status.keys = (*loaded)->key_count();
        m_cell.publish(std::move(*loaded));
        ++m_status.generation;
        m_status.loaded_at = m_status.checked_at;
        m_status.ok = true;
        m_status.message = std::move(notes);
      } else {
        m_status.ok = false;
        m_status.message = loaded.error().message;
      }
      status = m_status;
    }
    if (m_options.on_status) {
      m_options.on_status(status);
    }
    if (!loaded) {
      return loaded.error();
    }
    return {};
  }

  // The watcher's callback: reload only if the file is another one now.
  void check() {
    const auto identity = FileIdentity::of(m_path);
    {
      std::lock_guard load_lock(m_load_mutex);
      if (identity == m_identity) {
        return;
      }
    }
    if (!identity.exists) {
      record_missing(identity);
      return;
    }
    (void)reload(identity, true);
  }

  void record_missing(const FileIdentity& identity) {
    ProviderStatus status;
    {
      std::lock_guard load_lock(m_load_mutex);
      m_identity = identity;
      std::lock_guard status_lock(m_status_mutex);
      m_status.checked_at = std::chrono::system_clock::now();
      m_status.ok = false;
      m_status.message = "keystore is missing; serving the keys loaded before (" +
                         m_path.string() + ")";
      status = m_status;
    }
    if (m_options.on_status) {
      m_options.on_status(status);
    }
  }

  Timestamp now() const {
    return m_options.clock ? m_options.clock() : detail::coarse_now();
  }

  void start_watching() {
    if (m_options.watch == WatchMode::manual) {
      return;
    }
    m_watcher = std::make_unique<detail::KeystoreWatcher>(
      m_path, m_options.watch, m_options.poll_interval, [this] { check(); });
  }

  void stop_watching() { m_watcher.reset(); }

  std::filesystem::path m_path;
  FileProviderOptions m_options;
  detail::SnapshotCell<detail::Snapshot> m_cell;
  std::mutex m_load_mutex; // serializes loads and publishes
  FileIdentity m_identity; // of the last file tried, under m_load_mutex
  mutable std::mutex m_status_mutex;
  ProviderStatus m_status;
  std::unique_ptr<detail::KeystoreWatcher> m_watcher;
};

Result<std::unique_ptr<FileProvider>>
FileProvider::open(std::filesystem::path path, FileProviderOptions options) {
  STEK_ENSURE(static_cast<bool>(options.parser), Errc::invalid_argument,
              "no keystore parser given; stek::formats::open_file_provider "
              "supplies the native one");
  STEK_ENSURE(options.poll_interval.count() > 0, Errc::invalid_argument,
              "poll_interval must be positive");
  const auto identity = FileIdentity::of(path);
  std::string notes;
  STEK_TRY_ASSIGN(auto first, Impl::load(path, options, notes));
  auto impl = std::make_unique<Impl>(std::move(path), std::move(options),
                                     std::move(first), identity,
                                     std::move(notes));
  impl->start_watching();
  return std::unique_ptr<FileProvider>(new FileProvider(std::move(impl)));
}

FileProvider::FileProvider(std::unique_ptr<Impl> impl)
  : m_impl(std::move(impl)) {}

FileProvider::~FileProvider() { m_impl->stop_watching(); }

std::optional<TicketKey>
FileProvider::encryption_key(std::optional<std::string_view> sni) {
  const auto now = m_impl->now();
  const auto snapshot = m_impl->m_cell.read();
  // Built in place and returned by NRVO: moving a TicketKey copies and
  // wipes its secrets.
  std::optional<TicketKey> key(std::in_place);
  if (!snapshot->encryption_key(now, sni, *key)) {
    key.reset();
  }
  return key;
}

std::optional<TicketKey>
FileProvider::decryption_key(std::optional<std::string_view> sni,
                             KeyIdView id) {
  const auto now = m_impl->now();
  const auto snapshot = m_impl->m_cell.read();
  std::optional<TicketKey> key(std::in_place);
  if (!snapshot->decryption_key(now, sni, id, *key)) {
    key.reset();
  }
  return key;
}

Result<void> FileProvider::reload() {
  return m_impl->reload(FileIdentity::of(m_impl->m_path));
}

ProviderStatus FileProvider::status() const {
  std::lock_guard lock(m_impl->m_status_mutex);
  return m_impl->m_status;
}

const std::filesystem::path& FileProvider::path() const {
  return m_impl->m_path;
}

} // namespace stek
