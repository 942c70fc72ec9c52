// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace stek_server {

// One --vhost: the server name and the PEM files it is served with.
struct VhostSpec {
  std::string name;
  std::string cert;
  std::string key;
};

// Parse NAME=CERT,KEY; nullopt if `text` is not that shape.
std::optional<VhostSpec> parse_vhost(const std::string& text);

// One SSL_CTX per virtual host, picked by the client's server name. The
// first is the default: clients without SNI, or with a name no vhost has,
// get it. Connections are created with the default context, which is where
// ticket keys must be installed: OpenSSL takes them from the context a
// connection started with, even after the SNI callback switched it.
class Vhosts {
public:
  // Build the contexts (TLS 1.2 up to `max_version`); on failure print why
  // to stderr and return null.
  static std::unique_ptr<Vhosts> create(const std::vector<VhostSpec>& specs,
                                        int max_version);
  ~Vhosts();
  Vhosts(const Vhosts&) = delete;
  Vhosts& operator=(const Vhosts&) = delete;

  // The context connections are created with: the first vhost's.
  SSL_CTX* default_context() const { return m_entries.front().ctx; }

  // Return the name of the vhost `ssl` ended up on (after the SNI callback).
  const std::string& vhost_of(const SSL* ssl) const;

private:
  struct Entry {
    std::string name;
    SSL_CTX* ctx = nullptr;
  };
  Vhosts() = default;
  bool add(const VhostSpec& spec, int max_version);
  static int on_server_name(SSL* ssl, int* alert, void* arg);

  std::vector<Entry> m_entries;
};

} // namespace stek_server
