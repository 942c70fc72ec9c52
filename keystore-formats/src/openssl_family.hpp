// SPDX-License-Identifier: Apache-2.0
// What the OpenSSL-family formats (nginx, HAProxy, Apache, Envoy, OpenSSL)
// share: which keys a server should hold now, and key files made of a
// 16-byte name and an AES and an HMAC key in some order.
#pragma once

#include <stek/formats/server_format.hpp>

#include <string>
#include <vector>

namespace stek::formats::detail {

// The keys a server should hold at an instant: the encrypting key, pending
// keys (soonest first) and decrypt-only keys (newest first). Never expired
// or revoked ones.
struct LiveKeys {
  const Key* encrypting = nullptr;
  std::vector<const Key*> pending;
  std::vector<const Key*> decrypting;

  // Return the encrypting key, then pending, then decrypt-only keys.
  std::vector<const Key*> all() const;
};

// Return the live keys of the request's keystore, or an error when no key
// encrypts (an empty, all-expired or all-revoked keystore).
Result<LiveKeys> live_keys(const ExportRequest& request);

// Return the request's binding for `key`, or unbound (with a warning) for an
// imported key: the server it came from issued its tickets unbound.
Binding unbound_if_imported(const Key& key,
                            const ExportRequest& request,
                            std::vector<std::string>& warnings);

// Return the 32 bytes of material a raw-material server (Go, s2n-tls) gets
// for `key`. Keys imported with only AES and HMAC keys have none: a clear
// error.
Result<SecretBytes> export_material(const Key& key,
                                    const ExportRequest& request,
                                    std::string_view format,
                                    std::vector<std::string>& warnings);

// The order of the two secrets after the name in a key file.
enum class SecretOrder { hmac_then_aes, aes_then_hmac };

// The layout of one OpenSSL-family key file: 16-byte name, then two
// `secret_size`-byte keys in `order`.
struct KeyFileLayout {
  std::size_t secret_size; // 16 (48-byte files) or 32 (80-byte files)
  SecretOrder order;
  std::size_t file_size() const { return 16 + 2 * secret_size; }
};

// Return `key` as a key file in `layout`. An imported key keeps its bytes
// (and, under --sni, stays unbound: a warning says so); a generated key's
// AES and HMAC keys are derived from its material.
Result<SecretBytes> key_file(const Key& key,
                             const ExportRequest& request,
                             KeyFileLayout layout,
                             std::vector<std::string>& warnings);

// Parse one key file in `layout`, naming `source` in errors; the key is
// recorded as imported from `origin`.
Result<ServerKey> parse_key_file(SecretView bytes,
                                 KeyFileLayout layout,
                                 std::string_view origin,
                                 std::string_view source);

// Say that a single-key server keeps only the encrypting key of `live`.
void warn_single_key(const LiveKeys& live,
                     std::string_view server,
                     std::vector<std::string>& warnings);

// Return "<id>.key", the name of a key's file in a directory export.
std::string key_file_name(const KeyId& id);

// Return `text` as secret bytes.
SecretBytes secret_text(std::string_view text);

} // namespace stek::formats::detail
