// SPDX-License-Identifier: Apache-2.0
#pragma once

// A real TLS 1.3 connection between an OpenSSL client and server over
// memory BIOs, with every byte each side sent, the client's key log lines
// and the tickets the client received; and the test side of reading it
// back: TLS records, handshake messages, NewSessionTickets.

#include "provider/tls_pair.hpp"

#include <stek/inspect/keylog.hpp>

#include <openssl/bio.h>
#include <openssl/ssl.h>

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace stek::test {

using Bytes = std::vector<std::uint8_t>;

struct ConnectionOptions {
  const char* suite = "TLS_AES_128_GCM_SHA256";
  std::size_t block_padding = 0; // SSL_CTX_set_block_padding on the server
  bool key_update = false;       // then a third ticket under the new key
  Bytes app_data = Bytes(20000, 0x5A); // the server sends this after tickets
};

struct Connection {
  Bytes to_client; // every byte the server sent
  Bytes to_server;
  std::string keylog; // the client's key log lines
  std::vector<Bytes> tickets; // as the client received them, in order
  Bytes last_session_ticket;  // SSL_SESSION_get0_ticket of the final session
  Bytes app_received;         // what the client read
  std::array<std::uint8_t, 32> client_random{};
  std::uint16_t suite = 0;
};

namespace detail {

inline void keylog_line(const SSL* ssl, const char* line) {
  auto* c = static_cast<Connection*>(SSL_get_ex_data(ssl, 0));
  c->keylog += line;
  c->keylog += '\n';
}

inline int new_session(SSL* ssl, SSL_SESSION* session) {
  auto* c = static_cast<Connection*>(SSL_get_ex_data(ssl, 0));
  const unsigned char* ticket = nullptr;
  std::size_t size = 0;
  SSL_SESSION_get0_ticket(session, &ticket, &size);
  c->tickets.emplace_back(ticket, ticket + size);
  return 0; // not kept; OpenSSL frees it
}

// Move what `from` holds into `to`, appending a copy to `log`.
inline void transfer(BIO* from, BIO* to, Bytes& log) {
  std::uint8_t buffer[4096];
  for (;;) {
    const int n = BIO_read(from, buffer, sizeof buffer);
    if (n <= 0) {
      return;
    }
    log.insert(log.end(), buffer, buffer + n);
    REQUIRE(BIO_write(to, buffer, n) == n);
  }
}

} // namespace detail

// Run a full TLS 1.3 connection with `options`; the server sends its
// tickets and `options.app_data`, then close_notify.
inline Connection run_connection(const ConnectionOptions& options) {
  Connection out;
  auto server_ctx = server_context(TLS1_3_VERSION);
  auto client_ctx = client_context(TLS1_3_VERSION);
  REQUIRE(SSL_CTX_set_ciphersuites(server_ctx.get(), options.suite) == 1);
  REQUIRE(SSL_CTX_set_ciphersuites(client_ctx.get(), options.suite) == 1);
  if (options.block_padding > 0) {
    REQUIRE(SSL_CTX_set_block_padding(server_ctx.get(), options.block_padding) == 1);
  }
  SSL_CTX_set_keylog_callback(client_ctx.get(), detail::keylog_line);
  SSL_CTX_set_session_cache_mode(client_ctx.get(),
                                 SSL_SESS_CACHE_CLIENT |
                                   SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(client_ctx.get(), detail::new_session);

  SSL* server = SSL_new(server_ctx.get());
  SSL* client = SSL_new(client_ctx.get());
  REQUIRE(SSL_set_ex_data(client, 0, &out) == 1);
  BIO* server_in = BIO_new(BIO_s_mem());
  BIO* server_out = BIO_new(BIO_s_mem());
  BIO* client_in = BIO_new(BIO_s_mem());
  BIO* client_out = BIO_new(BIO_s_mem());
  SSL_set_bio(server, server_in, server_out);
  SSL_set_bio(client, client_in, client_out);
  SSL_set_accept_state(server);
  SSL_set_connect_state(client);
  const auto pump = [&] {
    detail::transfer(server_out, client_in, out.to_client);
    detail::transfer(client_out, server_in, out.to_server);
  };

  bool client_done = false;
  bool server_done = false;
  for (int round = 0; round < 20 && !(client_done && server_done); ++round) {
    for (auto [ssl, done] : {std::pair{client, &client_done},
                             std::pair{server, &server_done}}) {
      if (!*done) {
        const int r = SSL_do_handshake(ssl);
        *done = r == 1;
        REQUIRE((r == 1 || SSL_get_error(ssl, r) == SSL_ERROR_WANT_READ));
      }
      pump();
    }
  }
  REQUIRE((client_done && server_done));

  const auto write_all = [&](const Bytes& data) {
    std::size_t written = 0;
    REQUIRE(SSL_write_ex(server, data.data(), data.size(), &written) == 1);
    REQUIRE(written == data.size());
    pump();
  };
  const auto read_all = [&] {
    std::uint8_t buffer[4096];
    std::size_t n = 0;
    while (SSL_read_ex(client, buffer, sizeof buffer, &n) == 1) {
      out.app_received.insert(out.app_received.end(), buffer, buffer + n);
    }
  };
  write_all(options.app_data);
  read_all();
  if (options.key_update) {
    // The KeyUpdate goes out with the next write; a ticket sent after it
    // is under the next generation's key.
    REQUIRE(SSL_key_update(server, SSL_KEY_UPDATE_NOT_REQUESTED) == 1);
    write_all(Bytes{'a', 'f'});
    read_all();
    REQUIRE(SSL_new_session_ticket(server) == 1);
    write_all(Bytes{'t', 'e', 'r'});
    read_all();
  }
  SSL_shutdown(server);
  pump();
  read_all();

  SSL_get_client_random(client, out.client_random.data(), out.client_random.size());
  out.suite = static_cast<std::uint16_t>(
    SSL_CIPHER_get_protocol_id(SSL_get_current_cipher(client)));
  SessionPtr session(SSL_get1_session(client));
  REQUIRE(session);
  const unsigned char* ticket = nullptr;
  std::size_t size = 0;
  SSL_SESSION_get0_ticket(session.get(), &ticket, &size);
  out.last_session_ticket.assign(ticket, ticket + size);
  SSL_free(client);
  SSL_free(server);
  return out;
}

struct Record {
  std::uint8_t type = 0;
  std::span<const std::uint8_t> bytes; // header and body
};

// Split `stream` into TLS records; it must hold whole records only.
inline std::vector<Record> split_records(std::span<const std::uint8_t> stream) {
  std::vector<Record> out;
  while (!stream.empty()) {
    REQUIRE(stream.size() >= 5);
    const std::size_t length = (std::size_t{stream[3]} << 8) | stream[4];
    REQUIRE(stream.size() >= 5 + length);
    out.push_back({stream[0], stream.first(5 + length)});
    stream = stream.subspan(5 + length);
  }
  return out;
}

struct HandshakeMessage {
  std::uint8_t type = 0;
  Bytes body;
};

// Split the handshake byte stream `bytes` into messages; it must hold whole
// messages only.
inline std::vector<HandshakeMessage> split_messages(std::span<const std::uint8_t> bytes) {
  std::vector<HandshakeMessage> out;
  while (!bytes.empty()) {
    REQUIRE(bytes.size() >= 4);
    const std::size_t length = (std::size_t{bytes[1]} << 16) |
                               (std::size_t{bytes[2]} << 8) | bytes[3];
    REQUIRE(bytes.size() >= 4 + length);
    out.push_back({bytes[0], Bytes(bytes.begin() + 4, bytes.begin() + 4 + static_cast<std::ptrdiff_t>(length))});
    bytes = bytes.subspan(4 + length);
  }
  return out;
}

// Return the ticket of NewSessionTicket body `body` (RFC 8446 4.6.1):
// lifetime(4) age_add(4) nonce<0..255> ticket<1..2^16-1> extensions.
inline Bytes ticket_of(const Bytes& body) {
  REQUIRE(body.size() >= 9);
  std::size_t pos = 8;
  pos += std::size_t{1} + body[pos];
  REQUIRE(body.size() >= pos + 2);
  const std::size_t length = (std::size_t{body[pos]} << 8) | body[pos + 1];
  pos += 2;
  REQUIRE(body.size() >= pos + length);
  return Bytes(body.begin() + static_cast<std::ptrdiff_t>(pos),
               body.begin() + static_cast<std::ptrdiff_t>(pos + length));
}

// What the server's encrypted records held, by inner content type.
struct Opened {
  std::size_t encrypted = 0; // records of outer type 23
  std::size_t opened = 0;
  std::size_t crypto_failures = 0;
  std::size_t other_failures = 0;
  Bytes handshake;
  Bytes application;
  Bytes alert;
  std::vector<Bytes> inner_records; // each opened record's plaintext + type
};

// Feed every record of outer type 23 in `stream` (ServerHello and the
// compatibility ChangeCipherSpec are skipped, as the capture reader does)
// to `decryptor`.
inline Opened open_all(inspect::ServerRecordDecryptor& decryptor,
                       std::span<const std::uint8_t> stream) {
  Opened out;
  for (const Record& record : split_records(stream)) {
    if (record.type != 23) {
      continue;
    }
    ++out.encrypted;
    auto inner = decryptor.open(record.bytes);
    if (!inner.ok()) {
      (inner.error().code == Errc::crypto ? out.crypto_failures
                                          : out.other_failures)++;
      continue;
    }
    ++out.opened;
    Bytes& sink = inner->content_type == 22   ? out.handshake
                  : inner->content_type == 23 ? out.application
                                              : out.alert;
    sink.insert(sink.end(), inner->plaintext.begin(), inner->plaintext.end());
    Bytes whole = inner->plaintext;
    whole.push_back(inner->content_type);
    out.inner_records.push_back(std::move(whole));
  }
  return out;
}

// Return the tickets of every NewSessionTicket in `messages`.
inline std::vector<Bytes> tickets_in(const std::vector<HandshakeMessage>& messages) {
  std::vector<Bytes> out;
  for (const auto& m : messages) {
    if (m.type == 4) {
      out.push_back(ticket_of(m.body));
    }
  }
  return out;
}

// With STEK_FUZZ_SEEDS_DIR set, write `bytes` as seed `name` of fuzz target
// `target` (fuzz/corpus/<target>/ when pointed at fuzz/corpus).
inline void write_keylog_fuzz_seed(const std::string& target,
                                   const std::string& name,
                                   std::span<const std::uint8_t> bytes) {
  const char* dir = std::getenv("STEK_FUZZ_SEEDS_DIR");
  if (dir == nullptr || *dir == 0) {
    return;
  }
  const auto path = std::filesystem::path(dir) / target;
  std::filesystem::create_directories(path);
  std::ofstream out(path / name, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

} // namespace stek::test
