// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <vector>

namespace stek_server {

struct VhostSpec {
  std::string name;
  std::string cert;
  std::string key;
};

// Parse NAME=CERT,KEY; false if it is not that shape.
bool parse_vhost(const std::string& text, VhostSpec& out);

// One SSL_CTX per virtual host, picked by the client's server name. The
// first is the default: clients without SNI, or with a name no vhost has,
// get it. Connections are created with the default context, which is where
// the ticket keys must be installed: OpenSSL takes them from the context a
// connection started with, even after the SNI callback switched it.
class Vhosts {
public:
  // Build the contexts; on failure print why to stderr and return null.
  static std::unique_ptr<Vhosts> create(const std::vector<VhostSpec>& specs,
                                        int max_version);
  ~Vhosts();
  Vhosts(const Vhosts&) = delete;
  Vhosts& operator=(const Vhosts&) = delete;

  SSL_CTX* default_context() const { return m_contexts.front().ctx; }
  // The vhost a connection ended up on (after the SNI callback).
  const std::string& vhost_of(SSL* ssl) const;

private:
  struct Entry {
    std::string name;
    SSL_CTX* ctx = nullptr;
  };
  Vhosts() = default;
  static int on_server_name(SSL* ssl, int* alert, void* arg);

  std::vector<Entry> m_contexts;
};

} // namespace stek_server
