// SPDX-License-Identifier: Apache-2.0
#include "vhosts.hpp"

#include <openssl/err.h>

#include <cstdio>
#include <strings.h>

namespace stek_server {
namespace {

// Every vhost gets the same session-id context: OpenSSL refuses to resume a
// session made under another context, and that refusal must not hide
// whether the ticket keys themselves keep names apart.
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

bool parse_vhost(const std::string& text, VhostSpec& out) {
  const auto equals = text.find('=');
  const auto comma = text.find(',', equals == std::string::npos ? 0 : equals);
  if (equals == std::string::npos || equals == 0 ||
      comma == std::string::npos || comma == equals + 1 ||
      comma + 1 == text.size()) {
    return false;
  }
  out.name = text.substr(0, equals);
  out.cert = text.substr(equals + 1, comma - equals - 1);
  out.key = text.substr(comma + 1);
  return true;
}

std::unique_ptr<Vhosts> Vhosts::create(const std::vector<VhostSpec>& specs,
                                       int max_version) {
  std::unique_ptr<Vhosts> vhosts(new Vhosts);
  for (const auto& spec : specs) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
      print_ssl_errors("SSL_CTX_new");
      return nullptr;
    }
    vhosts->m_contexts.push_back({spec.name, ctx});
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(ctx, max_version) != 1 ||
        SSL_CTX_use_certificate_chain_file(ctx, spec.cert.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, spec.key.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_set_session_id_context(ctx, k_session_id_context,
                                       sizeof k_session_id_context - 1) != 1) {
      print_ssl_errors("vhost " + spec.name + " (" + spec.cert + ", " +
                       spec.key + ")");
      return nullptr;
    }
    // No server-side cache: every resumption comes from a ticket.
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(ctx, 1);
  }
  // SSL_CTX_set_tlsext_servername_callback, without the macro's C cast.
  SSL_CTX_callback_ctrl(vhosts->default_context(),
                        SSL_CTRL_SET_TLSEXT_SERVERNAME_CB,
                        reinterpret_cast<void (*)()>(on_server_name));
  SSL_CTX_set_tlsext_servername_arg(vhosts->default_context(), vhosts.get());
  return vhosts;
}

Vhosts::~Vhosts() {
  for (auto& entry : m_contexts) {
    SSL_CTX_free(entry.ctx);
  }
}

int Vhosts::on_server_name(SSL* ssl, int*, void* arg) {
  const auto* self = static_cast<const Vhosts*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!name) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  for (const auto& entry : self->m_contexts) {
    if (strcasecmp(entry.name.c_str(), name) == 0) {
      SSL_set_SSL_CTX(ssl, entry.ctx);
      return SSL_TLSEXT_ERR_OK;
    }
  }
  return SSL_TLSEXT_ERR_OK; // unknown name: stay on the default vhost
}

const std::string& Vhosts::vhost_of(SSL* ssl) const {
  const SSL_CTX* ctx = SSL_get_SSL_CTX(ssl);
  for (const auto& entry : m_contexts) {
    if (entry.ctx == ctx) {
      return entry.name;
    }
  }
  return m_contexts.front().name;
}

} // namespace stek_server
