// SPDX-License-Identifier: Apache-2.0
#pragma once

// Real TLS connections between an in-memory OpenSSL client and server whose
// every byte on the wire is kept, in order and by direction, so that a test
// can write them as a pcap, with the client's key log and its session.
// Tickets in them are real tickets, sealed under the server's keys.

#include "inspect/pcap/capture_builder.hpp"
#include "provider/tls_pair.hpp"

#include <openssl/bio.h>
#include <openssl/ssl.h>

#include <doctest/doctest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace stek::hygiene {

using stek::test::SessionPtr;
using stek::test::SslCtxPtr;

struct Flight {
  bool from_client;
  std::vector<std::uint8_t> bytes;
};

struct Transcript {
  std::vector<Flight> flights;
  SessionPtr session; // the client's, with its ticket
  bool reused = false;
};

namespace detail {

inline void collect_keylog_line(const SSL* ssl, const char* line) {
  auto* lines = static_cast<std::vector<std::string>*>(
    SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), 0));
  if (lines != nullptr) {
    lines->push_back(line);
  }
}

// Move what `from` wrote to its peer's `to`, keeping a copy.
inline bool pump(BIO* from, BIO* to, bool from_client, Transcript& t) {
  std::vector<std::uint8_t> bytes;
  std::uint8_t buffer[4096];
  for (;;) {
    const int n = BIO_read(from, buffer, sizeof buffer);
    if (n <= 0) {
      break;
    }
    bytes.insert(bytes.end(), buffer, buffer + n);
  }
  if (bytes.empty()) {
    return false;
  }
  REQUIRE(BIO_write(to, bytes.data(), static_cast<int>(bytes.size())) ==
          static_cast<int>(bytes.size()));
  t.flights.push_back({from_client, std::move(bytes)});
  return true;
}

} // namespace detail

// Make `client_ctx` append its key log lines to `lines`.
inline void log_keys(SSL_CTX* client_ctx, std::vector<std::string>& lines) {
  SSL_CTX_set_ex_data(client_ctx, 0, &lines);
  SSL_CTX_set_keylog_callback(client_ctx, detail::collect_keylog_line);
}

// Connect, exchange a byte each way (so that TLS 1.3 tickets are sent),
// close, and return every byte that crossed.
inline Transcript record_connection(SSL_CTX* server_ctx,
                                    SSL_CTX* client_ctx,
                                    const std::optional<std::string>& sni,
                                    SSL_SESSION* resume = nullptr) {
  Transcript t;
  SSL* server = SSL_new(server_ctx);
  SSL* client = SSL_new(client_ctx);
  BIO* to_client = BIO_new(BIO_s_mem());
  BIO* from_client = BIO_new(BIO_s_mem());
  BIO* to_server = BIO_new(BIO_s_mem());
  BIO* from_server = BIO_new(BIO_s_mem());
  SSL_set_bio(client, to_client, from_client);
  SSL_set_bio(server, to_server, from_server);
  SSL_set_connect_state(client);
  SSL_set_accept_state(server);
  if (sni) {
    SSL_ctrl(client, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(sni->c_str()));
  }
  if (resume != nullptr) {
    SSL_set_session(client, resume);
  }
  const auto exchange = [&] {
    bool moved = detail::pump(from_client, to_server, true, t);
    moved = detail::pump(from_server, to_client, false, t) || moved;
    return moved;
  };
  bool client_done = false;
  bool server_done = false;
  for (int round = 0; round < 50 && !(client_done && server_done); ++round) {
    client_done = client_done || SSL_do_handshake(client) == 1;
    exchange();
    server_done = server_done || SSL_do_handshake(server) == 1;
    exchange();
  }
  REQUIRE_MESSAGE((client_done && server_done), "TLS handshake failed");
  char byte = 'x';
  REQUIRE(SSL_write(server, &byte, 1) == 1);
  exchange();
  REQUIRE(SSL_read(client, &byte, 1) == 1);
  REQUIRE(SSL_write(client, &byte, 1) == 1);
  exchange();
  REQUIRE(SSL_read(server, &byte, 1) == 1);
  exchange();
  SSL_shutdown(client);
  exchange();
  SSL_shutdown(server);
  exchange();
  t.reused = SSL_session_reused(client) == 1;
  t.session.reset(SSL_get1_session(client));
  SSL_free(client);
  SSL_free(server);
  return t;
}

// The connections as a capture (pcap or pcapng), one TCP flow each.
inline std::vector<std::uint8_t> capture_of(const std::vector<Transcript>& connections,
                                            bool pcapng) {
  namespace cap = stek::test::capture;
  std::vector<cap::Packet> packets;
  std::uint32_t micros = 0;
  std::uint16_t port = 50000;
  for (const auto& c : connections) {
    cap::Flow flow;
    flow.client_port = port++;
    std::uint32_t client_seq = 1000;
    std::uint32_t server_seq = 900000;
    const auto add = [&](bool from_client, std::uint32_t seq, std::uint8_t flags,
                         const cap::Bytes& payload) {
      cap::Packet p;
      p.frame = cap::frame(cap::Link::ethernet,
                           cap::tcp_packet(flow, from_client, seq, flags, payload),
                           false);
      p.micros = micros;
      micros += 10;
      packets.push_back(std::move(p));
    };
    add(true, client_seq - 1, 0x02, {});
    add(false, server_seq - 1, 0x12, {});
    for (const auto& f : c.flights) {
      auto& seq = f.from_client ? client_seq : server_seq;
      for (std::size_t i = 0; i < f.bytes.size(); i += 1400) {
        const auto n = std::min<std::size_t>(1400, f.bytes.size() - i);
        const auto first = f.bytes.begin() + static_cast<std::ptrdiff_t>(i);
        add(f.from_client, seq, 0x18,
            cap::Bytes(first, first + static_cast<std::ptrdiff_t>(n)));
        seq += static_cast<std::uint32_t>(n);
      }
    }
    add(true, client_seq, 0x11, {});
    add(false, server_seq, 0x11, {});
  }
  return pcapng ? cap::pcapng_file(1, packets) : cap::pcap_file(1, packets);
}

} // namespace stek::hygiene
