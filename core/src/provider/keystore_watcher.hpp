// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stek/file_provider.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

namespace stek::detail {

// A thread that calls `on_maybe_changed` whenever the keystore at `path`
// may have changed: on inotify events in its directory (and in its
// symlink target's directory, if elsewhere), which covers atomic renames,
// in-place rewrites, deletion and Kubernetes' `..data` symlink swap; and
// every `poll_interval` regardless, as a safety net and as the only means
// where inotify is unavailable. The callback decides whether anything
// really changed.
class KeystoreWatcher {
public:
  KeystoreWatcher(std::filesystem::path path,
                  WatchMode mode,
                  std::chrono::milliseconds poll_interval,
                  std::function<void()> on_maybe_changed);
  // Stops and joins the thread.
  ~KeystoreWatcher();
  KeystoreWatcher(const KeystoreWatcher&) = delete;
  KeystoreWatcher& operator=(const KeystoreWatcher&) = delete;

  // Whether inotify is in use (false: polling only).
  bool uses_inotify() const { return m_inotify_fd >= 0; }

private:
  void run();
  void update_watches();
  bool drain_inotify();

  std::filesystem::path m_path;
  std::chrono::milliseconds m_poll_interval;
  std::function<void()> m_on_maybe_changed;
  int m_inotify_fd = -1;
  int m_wake_fd = -1;
  // The watched directories and their watch descriptors.
  std::filesystem::path m_dirs[2];
  int m_watches[2] = {-1, -1};
  std::thread m_thread;
};

} // namespace stek::detail
