// SPDX-License-Identifier: Apache-2.0
#include "keystore_watcher.hpp"

#include <array>
#include <cerrno>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

namespace stek::detail {
namespace {

// Events that can mean the keystore's bytes or identity changed. IN_MODIFY
// is left out on purpose: an in-place rewrite fires it for every write, and
// reading after the first would see half a file; IN_CLOSE_WRITE follows.
constexpr std::uint32_t k_events = IN_CLOSE_WRITE | IN_MOVED_TO |
                                   IN_MOVED_FROM | IN_CREATE | IN_DELETE |
                                   IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;

std::filesystem::path directory_of(const std::filesystem::path& path) {
  auto dir = path.parent_path();
  return dir.empty() ? std::filesystem::path(".") : dir;
}

} // namespace

KeystoreWatcher::KeystoreWatcher(std::filesystem::path path,
                                 WatchMode mode,
                                 std::chrono::milliseconds poll_interval,
                                 std::function<void()> on_maybe_changed)
  : m_path(std::move(path)),
    m_poll_interval(poll_interval),
    m_on_maybe_changed(std::move(on_maybe_changed)) {
  m_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (mode == WatchMode::automatic) {
    // Where inotify is unavailable (no instances left, a seccomp filter),
    // polling still works.
    m_inotify_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    update_watches();
  }
  m_thread = std::thread([this] { run(); });
}

KeystoreWatcher::~KeystoreWatcher() {
  if (m_wake_fd >= 0) {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto written = ::write(m_wake_fd, &one, sizeof one);
  }
  if (m_thread.joinable()) {
    m_thread.join();
  }
  if (m_inotify_fd >= 0) {
    ::close(m_inotify_fd);
  }
  if (m_wake_fd >= 0) {
    ::close(m_wake_fd);
  }
}

// Watch the keystore's directory, and its symlink target's directory when
// that is elsewhere. Called after every wake-up: a directory that was
// removed and made again needs a new watch, and a symlink may now point
// elsewhere.
void KeystoreWatcher::update_watches() {
  if (m_inotify_fd < 0) {
    return;
  }
  std::error_code ec;
  const auto target = std::filesystem::canonical(m_path, ec);
  const std::filesystem::path wanted[2] = {
    directory_of(m_path),
    ec ? std::filesystem::path() : directory_of(target)};
  for (int i = 0; i < 2; ++i) {
    const bool same_as_first =
      i == 1 && (wanted[1].empty() ||
                 std::filesystem::equivalent(wanted[0], wanted[1], ec));
    const auto& dir = same_as_first ? std::filesystem::path() : wanted[i];
    if (dir == m_dirs[i] && m_watches[i] >= 0) {
      continue;
    }
    if (m_watches[i] >= 0) {
      inotify_rm_watch(m_inotify_fd, m_watches[i]);
      m_watches[i] = -1;
    }
    m_dirs[i] = dir;
    if (!dir.empty()) {
      m_watches[i] = inotify_add_watch(m_inotify_fd, dir.c_str(),
                                       k_events | IN_ONLYDIR);
    }
  }
}

// Read every pending event; true if there was any. Any event in a watched
// directory is reason enough to look: the callback compares the file's
// identity, so temporaries and lock files cost one stat.
bool KeystoreWatcher::drain_inotify() {
  alignas(inotify_event) std::array<char, 4096> buffer;
  bool any = false;
  for (;;) {
    const auto n = ::read(m_inotify_fd, buffer.data(), buffer.size());
    if (n <= 0) {
      return any;
    }
    any = true;
    for (ssize_t at = 0; at < n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(&buffer[static_cast<std::size_t>(at)]);
      if (event->mask & IN_IGNORED) {
        // The directory went away; update_watches() adds it back when it
        // returns.
        for (auto& watch : m_watches) {
          if (watch == event->wd) {
            watch = -1;
          }
        }
      }
      at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
    }
  }
}

void KeystoreWatcher::run() {
  for (;;) {
    pollfd fds[2] = {{m_wake_fd, POLLIN, 0}, {m_inotify_fd, POLLIN, 0}};
    const nfds_t count = m_inotify_fd >= 0 ? 2 : 1;
    const int ready =
      ::poll(fds, count, static_cast<int>(m_poll_interval.count()));
    if (ready < 0 && errno != EINTR) {
      return;
    }
    if (fds[0].revents & POLLIN) {
      return; // stop
    }
    if (count == 2 && (fds[1].revents & POLLIN)) {
      drain_inotify();
    }
    update_watches();
    m_on_maybe_changed();
  }
}

} // namespace stek::detail
