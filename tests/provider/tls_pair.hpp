// SPDX-License-Identifier: Apache-2.0
#pragma once

// In-memory TLS handshakes between an OpenSSL client and server, for tests
// of the ticket callback without sockets or processes.

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <doctest/doctest.h>

#include <memory>
#include <optional>
#include <string>

namespace stek::test {

struct SslCtxDeleter {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
struct SessionDeleter {
  void operator()(SSL_SESSION* s) const { SSL_SESSION_free(s); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxDeleter>;
using SessionPtr = std::unique_ptr<SSL_SESSION, SessionDeleter>;

// A server context with a fresh self-signed P-256 certificate, tickets on
// and the session cache off, so that only tickets can resume.
inline SslCtxPtr server_context(int version) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  REQUIRE(ctx);
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  REQUIRE(key);
  X509* cert = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("test"), -1,
                             -1, 0);
  X509_set_issuer_name(cert, name);
  REQUIRE(X509_sign(cert, key, EVP_sha256()) > 0);
  REQUIRE(SSL_CTX_use_certificate(ctx.get(), cert) == 1);
  REQUIRE(SSL_CTX_use_PrivateKey(ctx.get(), key) == 1);
  X509_free(cert);
  EVP_PKEY_free(key);
  SSL_CTX_set_min_proto_version(ctx.get(), version);
  SSL_CTX_set_max_proto_version(ctx.get(), version);
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  return ctx;
}

inline SslCtxPtr client_context(int version) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  REQUIRE(ctx);
  SSL_CTX_set_min_proto_version(ctx.get(), version);
  SSL_CTX_set_max_proto_version(ctx.get(), version);
  return ctx;
}

struct Handshake {
  bool reused = false;
  SessionPtr session; // the client's session afterwards, with its ticket
};

// Connect a client (sending `sni` if any, offering `resume` if any) to a
// server of `server_ctx`, exchange a byte each way so TLS 1.3 tickets
// arrive, and return what the client saw.
inline Handshake handshake(SSL_CTX* server_ctx,
                           SSL_CTX* client_ctx,
                           const std::optional<std::string>& sni,
                           SSL_SESSION* resume = nullptr) {
  SSL* server = SSL_new(server_ctx);
  SSL* client = SSL_new(client_ctx);
  BIO* server_bio = nullptr;
  BIO* client_bio = nullptr;
  REQUIRE(BIO_new_bio_pair(&server_bio, 0, &client_bio, 0) == 1);
  SSL_set_bio(server, server_bio, server_bio);
  SSL_set_bio(client, client_bio, client_bio);
  SSL_set_accept_state(server);
  SSL_set_connect_state(client);
  if (sni) {
    // The macro SSL_set_tlsext_host_name casts to void*; call what it
    // expands to.
    SSL_ctrl(client, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(sni->c_str()));
  }
  if (resume) {
    SSL_set_session(client, resume);
  }
  bool client_done = false;
  bool server_done = false;
  for (int round = 0; round < 50 && !(client_done && server_done); ++round) {
    if (!client_done) {
      const int r = SSL_do_handshake(client);
      client_done = r == 1;
      REQUIRE_MESSAGE((r == 1 || SSL_get_error(client, r) == SSL_ERROR_WANT_READ),
                      "client handshake failed");
    }
    if (!server_done) {
      const int r = SSL_do_handshake(server);
      server_done = r == 1;
      REQUIRE_MESSAGE((r == 1 || SSL_get_error(server, r) == SSL_ERROR_WANT_READ),
                      "server handshake failed");
    }
  }
  REQUIRE((client_done && server_done));
  char byte = 'x';
  REQUIRE(SSL_write(server, &byte, 1) == 1);
  REQUIRE(SSL_read(client, &byte, 1) == 1);
  REQUIRE(SSL_write(client, &byte, 1) == 1);
  REQUIRE(SSL_read(server, &byte, 1) == 1);
  // Without a close_notify, SSL_free marks the session not resumable.
  SSL_shutdown(client);
  SSL_shutdown(server);
  Handshake out;
  out.reused = SSL_session_reused(client) == 1;
  out.session.reset(SSL_get1_session(client));
  SSL_free(client);
  SSL_free(server);
  return out;
}

// The key name in the clear at the start of an OpenSSL-format ticket, as
// 32 hex digits; "" if the session has no ticket.
inline std::string ticket_key_name(const SSL_SESSION* session) {
  const unsigned char* ticket = nullptr;
  std::size_t size = 0;
  SSL_SESSION_get0_ticket(session, &ticket, &size);
  if (!ticket || size < 16) {
    return "";
  }
  static const char* digits = "0123456789abcdef";
  std::string hex;
  for (std::size_t i = 0; i < 16; ++i) {
    hex += digits[ticket[i] >> 4];
    hex += digits[ticket[i] & 15];
  }
  return hex;
}

} // namespace stek::test
