// SPDX-License-Identifier: Apache-2.0
// TCP connections of a capture, each direction reassembled in order and read
// as TLS records and handshake messages, reporting every ticket. State is
// bounded per direction, in number of connections and in bytes buffered
// across all connections, and dropped as soon as a direction can carry no
// more tickets.
#pragma once
#include "packet.hpp"

#include <stek/inspect/capture.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace stek::inspect::pcap {

using CaptureTime = std::chrono::sys_time<std::chrono::microseconds>;

struct FlowKey {
  Address a;
  Address b;
  std::uint16_t port_a = 0;
  std::uint16_t port_b = 0;
  bool operator==(const FlowKey&) const = default;
};

struct FlowKeyHash {
  std::size_t operator()(const FlowKey& key) const;
};

class ConnectionTracker {
public:
  ConnectionTracker(const CaptureOptions& options,
                    CaptureSink& sink,
                    CaptureStats& stats);
  ~ConnectionTracker();
  ConnectionTracker(const ConnectionTracker&) = delete;
  ConnectionTracker& operator=(const ConnectionTracker&) = delete;

  // Feed one decoded segment of frame `frame` captured at `time`.
  void segment(const TcpSegment& segment, std::uint64_t frame, CaptureTime time);

  // Report a problem with the current input.
  void problem(std::uint64_t frame, std::string what);

  // Connections tracked now.
  std::size_t size() const { return m_connections.size(); }

private:
  struct Direction;
  struct Connection;
  using Bytes = std::span<const std::uint8_t>;

  Connection* find_or_create(const FlowKey& key, bool create);
  void evict_idle();
  void erase(Connection& c);
  void account(Connection& c);
  void enforce_buffer_budget();
  void receive(Connection& c, int d, std::uint32_t seq, Bytes payload);
  void deliver(Connection& c, int d, Bytes bytes);
  std::size_t records(Connection& c, int d, Bytes data);
  void record(Connection& c, int d, std::uint8_t type, Bytes record);
  void handshake_bytes(Connection& c, int d, Bytes bytes, bool inner);
  std::size_t messages(Connection& c, int d, Bytes data, bool inner);
  void message(Connection& c, int d, std::uint8_t type, Bytes body, bool inner);
  void encrypted_server_record(Connection& c, int d, Bytes record);
  void done(Connection& c, int d);
  void emit(Connection& c, int d, MessageKind kind, std::uint32_t index,
            Bytes ticket, std::optional<std::uint32_t> lifetime = std::nullopt);

  const CaptureOptions& m_options;
  CaptureSink& m_sink;
  CaptureStats& m_stats;
  std::unordered_map<FlowKey, std::unique_ptr<Connection>, FlowKeyHash>
    m_connections;
  // Most recently active first, so idle and excess connections go from the
  // back in constant time.
  std::list<Connection*> m_lru;
  std::uint64_t m_frame = 0;
  CaptureTime m_time{};
  bool m_reported_full = false;
  // Bytes held in the buffers of all connections, and the most allowed.
  std::size_t m_buffered = 0;
  std::size_t m_buffer_budget = 0;
  bool m_reported_budget = false;
};

} // namespace stek::inspect::pcap
