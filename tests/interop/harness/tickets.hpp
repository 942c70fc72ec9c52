// SPDX-License-Identifier: Apache-2.0
#pragma once

// Tickets and sessions: read_ticket(pem), key_id_of(ticket); KeyParts and
// KeyLayout (every OpenSSL-family key-file layout), split_key()/join_key();
// open_ticket()/seal_ticket() (name | IV | AES-CBC | HMAC-SHA256, as
// OpenSSL's default ticket code); session_id_context_of(),
// with_session_id_context(), write_session_with_ticket(): decrypt a
// server's ticket and re-mint one; nginx_http_session_id_context(cert),
// haproxy_session_id_context(); generated_key_parts(keystore, id, size)
// recomputes a generated key's AES/HMAC keys with the documented HKDF
// labels, to check a key file's layout independently of stekctl.

#include "interop/harness/common.hpp"
#include "interop/harness/workspace.hpp"

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace stek::interop {

// The ticket of a session saved with `s_client -sess_out` (empty if none).
Bytes read_ticket(const fs::path& session_pem);

// The key name an OpenSSL-family ticket carries in its first 16 bytes, as
// 32 hex digits: the key id stekctl shows.
std::string key_id_of(const Bytes& ticket);

// An OpenSSL-family ticket key, split into its parts.
struct KeyParts {
  Bytes name; // 16
  Bytes hmac; // 16 or 32
  Bytes aes;  // 16 (AES-128-CBC) or 32 (AES-256-CBC)
  std::string id() const { return to_hex(name); }
  bool operator==(const KeyParts&) const = default;
};

// The byte layouts of the key files (reference/server-formats.md §0).
enum class KeyLayout {
  nginx80,   // name | HMAC 32 | AES 32
  nginx48,   // name | AES 16 | HMAC 16
  haproxy80, // name | AES 32 | HMAC 32
  haproxy48, // name | AES 16 | HMAC 16
  openssl80, // name | HMAC 32 | AES 32 (SSL_CTX_set_tlsext_ticket_keys, Envoy)
  openssl48, // name | HMAC 16 | AES 16 (OpenSSL 1.0, BoringSSL, Apache)
};

// The size of a key file in `layout`: 80 or 48 bytes.
std::size_t size_of(KeyLayout layout);

// Whether `layout` puts the AES key before the HMAC key.
bool aes_first(KeyLayout layout);

// Split a key file in `layout` (REQUIRE()d to have its size) into its parts.
KeyParts split_key(const Bytes& file, KeyLayout layout);

// The key file in `layout` made of `k`.
Bytes join_key(const KeyParts& k, KeyLayout layout);

// AES-256-CBC for a 32-byte AES key, else AES-128-CBC.
const EVP_CIPHER* cipher_for(const KeyParts& key);

// HMAC-SHA256 of `data` under `key`.
Bytes hmac_sha256(const Bytes& key, std::string_view data);

// Verify and decrypt an OpenSSL-format ticket (name | IV | AES-CBC | HMAC-
// SHA256 over the rest, tls_decrypt_ticket): the DER SSL_SESSION inside, or
// nullopt if the name or the HMAC does not match `key` or it does not
// decrypt.
std::optional<Bytes> open_ticket(const Bytes& ticket, const KeyParts& key);

// Encrypt a DER SSL_SESSION into a ticket under `key` as OpenSSL's
// construct_stateless_ticket does (random IV).
Bytes seal_ticket(const Bytes& session_der, const KeyParts& key);

// The SSL_SESSION in `der`, REQUIRE()d to be one.
SessionPtr session_from_der(const Bytes& der);

// The DER of `session`.
Bytes session_to_der(SSL_SESSION* session);

// The session-id context recorded in a (decrypted) server session.
Bytes session_id_context_of(const Bytes& session_der);

// The same server session with another session-id context.
Bytes with_session_id_context(const Bytes& session_der, const Bytes& context);

// Write `session_pem` (a client session from -sess_out) to `out_pem` with
// its ticket replaced by `ticket`. OpenSSL has no setter for a client
// session's ticket, so this edits field [10] (tlsext_tick, ssl/ssl_asn1.c)
// of the DER, then checks that OpenSSL reads the result back.
void write_session_with_ticket(const fs::path& session_pem, const Bytes& ticket,
                               const fs::path& out_pem);

// The session-id context nginx 1.22's http module gives an SSL_CTX with one
// certificate and no client CA list: SHA-1("HTTP" || SHA-1(certificate DER))
// (ngx_ssl_session_id_context, src/event/ngx_event_openssl.c; "HTTP" is
// ngx_http_ssl_sess_id_ctx).
Bytes nginx_http_session_id_context(const Certificate& cert);

// The session-id context HAProxy 2.6 sets on every SSL_CTX: SHCTX_APPNAME,
// "haproxy" (include/haproxy/shctx-t.h; ssl_set_shctx in src/ssl_sock.c).
inline Bytes haproxy_session_id_context() { return "haproxy"; }

// HKDF-SHA256 (RFC 5869) with an empty salt.
Bytes hkdf_sha256(const Bytes& key, const std::string& info, std::size_t size);

// The OpenSSL-family parts a generated key must have, recomputed from its
// 32-byte material in the keystore file: HKDF-SHA256, empty salt, info =
// the fixed labels of stekctl-keystore(5) ("stekctl/v1 openssl
// aes-256-cbc" and "stekctl/v1 openssl hmac-sha256 32" for 80-byte files,
// "... aes-128-cbc" and "... hmac-sha256 16" for 48-byte ones). Comparing
// a key file split the way its server reads it against these shows the
// file's layout is the server's, which a resumption alone cannot (a
// server reads any 80 bytes as some key).
KeyParts generated_key_parts(const fs::path& keystore, const std::string& id,
                             std::size_t file_size);

} // namespace stek::interop
