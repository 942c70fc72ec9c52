// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>

namespace stek::detail {

// Holds the current immutable T for readers that take no lock, and frees a
// replaced T only once no reader can still see it: a two-counter grace
// period, the simplest form of read-copy-update. Readers announce
// themselves in the counter of the current epoch parity; a publisher swaps
// the pointer, advances the epoch and waits for the old parity's readers to
// leave. Reads cost two atomic increments and no allocation. Each parity's
// counter is split into per-thread slots on their own cache lines, so
// server threads looking up at once do not bounce one line between cores.
// Publishes must be serialized by the caller.
template <typename T> class SnapshotCell {
public:
  explicit SnapshotCell(std::unique_ptr<T> first) : m_current(first.release()) {}
  ~SnapshotCell() { delete m_current.load(); }
  SnapshotCell(const SnapshotCell&) = delete;
  SnapshotCell& operator=(const SnapshotCell&) = delete;

  // Keeps the snapshot it returned alive while it lives.
  class Reader {
  public:
    explicit Reader(const SnapshotCell& cell) : m_cell(cell) {
      const std::size_t slot = thread_slot();
      for (;;) {
        m_counter = &m_cell.m_readers[m_cell.m_epoch.load() & 1][slot].count;
        m_counter->fetch_add(1);
        // Registered under the epoch that is still current: a publisher
        // either already waits for us or published before we load.
        if (m_counter == &m_cell.m_readers[m_cell.m_epoch.load() & 1][slot].count) {
          break;
        }
        m_counter->fetch_sub(1);
      }
      m_snapshot = m_cell.m_current.load();
    }
    ~Reader() { m_counter->fetch_sub(1); }
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;

    const T& operator*() const { return *m_snapshot; }
    const T* operator->() const { return m_snapshot; }

  private:
    const SnapshotCell& m_cell;
    std::atomic<std::int64_t>* m_counter = nullptr;
    const T* m_snapshot = nullptr;
  };

  Reader read() const { return Reader(*this); }

  // Make `next` current and free the previous one once its readers left.
  void publish(std::unique_ptr<T> next) {
    T* previous = m_current.exchange(next.release());
    const std::uint64_t parity = m_epoch.fetch_add(1) & 1;
    for (auto& slot : m_readers[parity]) {
      while (slot.count.load() != 0) {
        std::this_thread::yield();
      }
    }
    delete previous;
  }

private:
  static constexpr std::size_t k_slots = 16;

  // 128 bytes: the spatial prefetcher of x86 cores pulls cache lines in
  // pairs, so 64 would still let neighbouring slots share.
  struct alignas(128) Counter {
    std::atomic<std::int64_t> count{0};
  };

  // This thread's slot: threads take slots in turn as they first read.
  static std::size_t thread_slot() {
    static std::atomic<std::size_t> next{0};
    thread_local const std::size_t slot = next.fetch_add(1) % k_slots;
    return slot;
  }

  std::atomic<T*> m_current;
  std::atomic<std::uint64_t> m_epoch{0};
  mutable Counter m_readers[2][k_slots];
};

} // namespace stek::detail
