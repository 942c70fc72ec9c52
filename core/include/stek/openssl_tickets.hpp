// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stek/provider.hpp>
#include <stek/result.hpp>

#include <openssl/ssl.h>

#include <memory>

namespace stek::openssl {

struct TicketOptions {
  // Install a ClientHello callback (SSL_CTX_set_client_hello_cb) that notes
  // the server name the client sent. Turn off if the server has its own
  // ClientHello callback, and call note_client_hello() from it instead.
  bool install_client_hello_callback = true;
};

// Make `ctx` encrypt and decrypt its session tickets (TLS 1.2 and 1.3) with
// keys from `provider`, through SSL_CTX_set_tlsext_ticket_key_evp_cb: the
// OpenSSL ticket format with AES-256-CBC and HMAC-SHA256, so stekctl inspect
// reads its tickets. Keys are asked for the server name of the connection's
// ClientHello, for both protocol versions: OpenSSL 3.0 decrypts a TLS 1.2
// ticket before it parses the server_name extension, so the name is taken
// from the ClientHello callback, not from SSL_get_servername(). A ticket
// whose key no longer encrypts is accepted and renewed, and so is every
// TLS 1.3 ticket (clients use those once). `ctx` keeps `provider` alive
// until it is freed; installing a second provider on it is an error
// (Errc::already_exists).
//
// Install it on the SSL_CTX the connections are created with: OpenSSL takes
// ticket keys from that context even after an SNI callback switched the
// connection to another one. SSL_OP_NO_TICKET must be off.
Result<void> use_ticket_provider(SSL_CTX* ctx,
                                 std::shared_ptr<Provider> provider,
                                 TicketOptions options = {});

// Note the server name of the ClientHello being processed on `ssl`. Call it
// from your own ClientHello callback when install_client_hello_callback is
// off; always returns 1.
int note_client_hello(SSL* ssl);

} // namespace stek::openssl
