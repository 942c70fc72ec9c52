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
// leave. Reads cost two atomic increments and no allocation. Publishes must
// be serialized by the caller.
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
      for (;;) {
        m_parity = m_cell.m_epoch.load() & 1;
        m_cell.m_readers[m_parity].count.fetch_add(1);
        // Registered under the epoch that is still current: a publisher
        // either already waits for us or published before we load.
        if ((m_cell.m_epoch.load() & 1) == m_parity) {
          break;
        }
        m_cell.m_readers[m_parity].count.fetch_sub(1);
      }
      m_snapshot = m_cell.m_current.load();
    }
    ~Reader() { m_cell.m_readers[m_parity].count.fetch_sub(1); }
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;

    const T& operator*() const { return *m_snapshot; }
    const T* operator->() const { return m_snapshot; }

  private:
    const SnapshotCell& m_cell;
    std::uint64_t m_parity = 0;
    const T* m_snapshot = nullptr;
  };

  Reader read() const { return Reader(*this); }

  // Make `next` current and free the previous one once its readers left.
  void publish(std::unique_ptr<T> next) {
    T* previous = m_current.exchange(next.release());
    const std::uint64_t parity = m_epoch.fetch_add(1) & 1;
    while (m_readers[parity].count.load() != 0) {
      std::this_thread::yield();
    }
    delete previous;
  }

private:
  // Each counter on its own cache line, so readers of one parity do not
  // bounce the other's line.
  struct alignas(64) Counter {
    std::atomic<std::int64_t> count{0};
  };

  std::atomic<T*> m_current;
  std::atomic<std::uint64_t> m_epoch{0};
  mutable Counter m_readers[2];
};

} // namespace stek::detail
