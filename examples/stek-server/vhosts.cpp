// SPDX-License-Identifier: Apache-2.0
#include "vhosts.hpp"

#include <openssl/err.h>

#include <strings.h>

#include <cstdio>

namespace stek_server {
namespace {

// Every vhost gets the same session-id context. OpenSSL refuses to resume a
// session made under another context, and that refusal would hide whether
// the ticket keys themselves keep names apart (their SNI binding).
constexpr unsigned char k_session_id_context[] = "stek-server";

void print_ssl_errors(const std::string& what) {
  std::fprintf(stderr, "stek-server: error: %s:", what.c_str());
  unsigned long code = 0;
  while ((code = ERR_get_error()) != 0) {
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    std::fprintf(stderr, " %s", text);
  }
  std::fprintf(stderr, "\n");
}

} // namespace

std::optional<VhostSpec> parse_vhost(const std::string& text) {
  const auto equals = text.find('=');
  if (equals == std::string::npos || equals == 0) {
    return std::nullopt;
  }
  const auto comma = text.find(',', equals);
  if (comma == std::string::npos || comma == equals + 1 ||
      comma + 1 == text.size()) {
    return std::nullopt;
  }
  return VhostSpec{text.substr(0, equals),
                   text.substr(equals + 1, comma - equals - 1),
                   text.substr(comma + 1)};
}

std::unique_ptr<Vhosts> Vhosts::create(const std::vector<VhostSpec>& specs,
                                       int max_version) {
  std::unique_ptr<Vhosts> vhosts(new Vhosts);
  for (const auto& spec : specs) {
    for (const auto& entry : vhosts->m_entries) {
      if (strcasecmp(entry.name.c_str(), spec.name.c_str()) == 0) {
        std::fprintf(stderr, "stek-server: error: vhost %s given twice\n",
                     spec.name.c_str());
        return nullptr;
      }
    }
    if (!vhosts->add(spec, max_version)) {
      return nullptr;
    }
  }
  if (vhosts->m_entries.empty()) {
    std::fprintf(stderr, "stek-server: error: no vhost given\n");
    return nullptr;
  }
  // Only the default context needs the callback: it runs on the context the
  // connection starts with. (SSL_CTX_set_tlsext_servername_callback without
  // the macro's C cast.)
  SSL_CTX_callback_ctrl(vhosts->default_context(),
                        SSL_CTRL_SET_TLSEXT_SERVERNAME_CB,
                        reinterpret_cast<void (*)()>(on_server_name));
  SSL_CTX_set_tlsext_servername_arg(vhosts->default_context(), vhosts.get());
  return vhosts;
}

bool Vhosts::add(const VhostSpec& spec, int max_version) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) {
    print_ssl_errors("SSL_CTX_new");
    return false;
  }
  m_entries.push_back({spec.name, ctx}); // freed by ~Vhosts from here on
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, max_version) != 1 ||
      SSL_CTX_use_certificate_chain_file(ctx, spec.cert.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, spec.key.c_str(), SSL_FILETYPE_PEM) !=
        1 ||
      SSL_CTX_check_private_key(ctx) != 1 ||
      SSL_CTX_set_session_id_context(ctx, k_session_id_context,
                                     sizeof k_session_id_context - 1) != 1) {
    print_ssl_errors("vhost " + spec.name + " (" + spec.cert + ", " +
                     spec.key + ")");
    return false;
  }
  // Tickets stay on (SSL_OP_NO_TICKET is not set) and the server-side cache
  // is off, so every resumption comes from a ticket and so from the keys.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  // One TLS 1.3 ticket per connection instead of OpenSSL's two: a client
  // keeps one session per server anyway, and each ticket costs a key lookup.
  SSL_CTX_set_num_tickets(ctx, 1);
  return true;
}

Vhosts::~Vhosts() {
  for (auto& entry : m_entries) {
    SSL_CTX_free(entry.ctx);
  }
}

int Vhosts::on_server_name(SSL* ssl, int*, void* arg) {
  const auto* self = static_cast<const Vhosts*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!name) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  for (const auto& entry : self->m_entries) {
    if (strcasecmp(entry.name.c_str(), name) == 0) {
      if (entry.ctx != SSL_get_SSL_CTX(ssl)) {
        SSL_set_SSL_CTX(ssl, entry.ctx);
      }
      return SSL_TLSEXT_ERR_OK;
    }
  }
  // An unknown name stays on the default vhost, as web servers do; its
  // tickets are still keyed to the name the client sent.
  return SSL_TLSEXT_ERR_OK;
}

const std::string& Vhosts::vhost_of(const SSL* ssl) const {
  const SSL_CTX* ctx = SSL_get_SSL_CTX(ssl);
  for (const auto& entry : m_entries) {
    if (entry.ctx == ctx) {
      return entry.name;
    }
  }
  return m_entries.front().name;
}

} // namespace stek_server
