// SPDX-License-Identifier: Apache-2.0
#include "interop/servers/test_servers.hpp"

#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <string_view>
#include <thread>
#include <utility>

#ifndef STEK_INTEROP_GO_SERVER
#define STEK_INTEROP_GO_SERVER ""
#endif
#ifndef STEK_INTEROP_OPENSSL_SERVER
#define STEK_INTEROP_OPENSSL_SERVER ""
#endif
#ifndef STEK_INTEROP_APACHE
#define STEK_INTEROP_APACHE ""
#endif
#ifndef STEK_INTEROP_APACHE_MODULES
#define STEK_INTEROP_APACHE_MODULES "/usr/lib/apache2/modules"
#endif

namespace stek::interop {

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

// ---------------------------------------------------------------------------
// Our test servers

TicketTestServer::TicketTestServer(std::string name, const char* program,
                                   const fs::path& dir, const Certificate& cert,
                                   fs::path keys)
  : TlsServer(make_spec(this, std::move(name), program, dir, cert)),
    m_keys(fs::absolute(keys)) {}

void TicketTestServer::reload() {
  REQUIRE_MESSAGE(running(), name() << " is not running");
  const auto before = count_of(output(), "reloaded");
  signal(SIGHUP);
  const auto deadline = Clock::now() + k_start_timeout;
  auto pause = 2ms;
  while (count_of(output(), "reloaded") == before) {
    REQUIRE_MESSAGE(running(), name() << " ended on SIGHUP:\n" << output());
    REQUIRE_MESSAGE(Clock::now() < deadline,
                    name() << " did not reload its keys:\n" << output());
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
}

TlsServer::Spec TicketTestServer::make_spec(TicketTestServer* self, std::string name,
                                            const char* program, const fs::path& dir,
                                            const Certificate& cert) {
  Spec spec;
  spec.name = name;
  spec.dir = fs::absolute(dir);
  spec.cert = cert;
  spec.command = [self, program, name](std::uint16_t port) {
    return std::vector<std::string>{
      require_program(program, name.c_str()),
      "-listen", "127.0.0.1:" + std::to_string(port),
      "-cert", self->cert().cert.string(),
      "-key", self->cert().key.string(),
      "-keys", self->m_keys.string()};
  };
  spec.ready = [](TlsServer& server) -> std::string {
    return server.output().find("listening") != std::string::npos
             ? std::string()
             : "it serves but never said \"listening\"";
  };
  return spec;
}

GoServer::GoServer(const fs::path& dir, const Certificate& cert, fs::path keys)
  : TicketTestServer("go_ticket_server", STEK_INTEROP_GO_SERVER, dir, cert,
                     std::move(keys)) {}

OpensslServer::OpensslServer(const fs::path& dir, const Certificate& cert, fs::path keys)
  : TicketTestServer("openssl_ticket_server", STEK_INTEROP_OPENSSL_SERVER, dir, cert,
                     std::move(keys)) {}

// ---------------------------------------------------------------------------
// Apache

ApacheServer::ApacheServer(const fs::path& dir, const Certificate& cert,
                           fs::path ticket_key, std::string server_name)
  : TlsServer(make_spec(this, dir, cert, std::move(server_name))),
    m_ticket_key(fs::absolute(ticket_key)) {}

TlsServer::Spec ApacheServer::make_spec(ApacheServer* self, const fs::path& dir,
                                        const Certificate& cert, std::string server_name) {
  Spec spec;
  spec.name = "apache2";
  spec.dir = fs::absolute(dir);
  spec.cert = cert;
  spec.server_name = std::move(server_name);
  spec.command = [self](std::uint16_t port) {
    self->write_config(port);
    const auto d = self->dir().string();
    return std::vector<std::string>{require_program(STEK_INTEROP_APACHE, "apache2"),
                                    "-d", d, "-f", d + "/httpd.conf",
                                    "-DFOREGROUND"};
  };
  return spec;
}

void ApacheServer::write_config(std::uint16_t port) const {
  const auto d = dir().string();
  const std::string modules = STEK_INTEROP_APACHE_MODULES;
  const auto module = [&](const std::string& name, const std::string& file) {
    return "LoadModule " + name + " " + modules + "/" + file + "\n";
  };
  // Started as root, Apache's children switch to User/Group; as anyone
  // else they stay that user and the directives would only warn.
  const std::string user = ::geteuid() == 0 ? "User daemon\nGroup daemon\n" : "";
  const std::string conf =
    "# Written by the stekctl interop tests.\n"
    "ServerRoot \"" + d + "\"\n"
    "DefaultRuntimeDir \"" + d + "\"\n"
    "PidFile \"" + d + "/httpd.pid\"\n"
    "ErrorLog \"" + d + "/error.log\"\n"
    "LogLevel info\n"
    "Mutex file:" + d + " default\n" +
    module("mpm_event_module", "mod_mpm_event.so") +
    module("authz_core_module", "mod_authz_core.so") +
    module("socache_shmcb_module", "mod_socache_shmcb.so") +
    module("ssl_module", "mod_ssl.so") + user +
    "ServerLimit 1\n"
    "StartServers 1\n"
    "ThreadsPerChild 8\n"
    "MaxRequestWorkers 8\n"
    "MinSpareThreads 1\n"
    "MaxSpareThreads 8\n"
    "Listen 127.0.0.1:" + std::to_string(port) + "\n"
    "ServerName " + server_name() + "\n"
    "DocumentRoot \"" + d + "\"\n"
    "<Directory />\n"
    "  Require all granted\n"
    "</Directory>\n"
    "# No session cache: a resumption can only come from a ticket.\n"
    "SSLSessionCache none\n"
    "SSLEngine on\n"
    "SSLProtocol -all +TLSv1.2 +TLSv1.3\n"
    "SSLCertificateFile \"" + cert().cert.string() + "\"\n"
    "SSLCertificateKeyFile \"" + cert().key.string() + "\"\n"
    "SSLSessionTicketKeyFile \"" + m_ticket_key.string() + "\"\n";
  write_file(dir() / "httpd.conf", conf, 0644);
}

// ---------------------------------------------------------------------------
// OpenSSL-family tickets, one part at a time

bool ticket_mac_matches(const Bytes& ticket, const Bytes& hmac_key) {
  if (ticket.size() < 16 + 16 + 32) {
    return false;
  }
  const std::string_view t(ticket);
  const auto mac = hmac_sha256(hmac_key, t.substr(0, t.size() - 32));
  return mac.size() == 32 && CRYPTO_memcmp(mac.data(), t.data() + t.size() - 32, 32) == 0;
}

std::optional<Bytes> decrypt_ticket_ignoring_mac(const Bytes& ticket, const Bytes& aes) {
  if (ticket.size() < 16 + 16 + 16 + 32 || (ticket.size() - 64) % 16 != 0 ||
      (aes.size() != 16 && aes.size() != 32)) {
    return std::nullopt;
  }
  const std::string_view t(ticket);
  const auto iv = t.substr(16, 16);
  const auto body = t.substr(32, t.size() - 64);
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  Bytes out(body.size() + 32, '\0');
  int n1 = 0;
  int n2 = 0;
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), aes.size() == 32 ? EVP_aes_256_cbc() : EVP_aes_128_cbc(),
                         nullptr, reinterpret_cast<const unsigned char*>(aes.data()),
                         reinterpret_cast<const unsigned char*>(iv.data())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &n1,
                        reinterpret_cast<const unsigned char*>(body.data()),
                        static_cast<int>(body.size())) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + n1,
                          &n2) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  out.resize(static_cast<std::size_t>(n1 + n2));
  const auto* p = reinterpret_cast<const unsigned char*>(out.data());
  SessionPtr session(d2i_SSL_SESSION(nullptr, &p, static_cast<long>(out.size())));
  ERR_clear_error();
  if (!session || p != reinterpret_cast<const unsigned char*>(out.data()) + out.size()) {
    return std::nullopt;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Go 1.19 tickets

GoTicketKey go_ticket_key(const Bytes& seed) {
  std::array<unsigned char, 64> h{};
  unsigned int len = 0;
  REQUIRE(EVP_Digest(seed.data(), seed.size(), h.data(), &len, EVP_sha512(), nullptr) == 1);
  const Bytes digest(reinterpret_cast<const char*>(h.data()), len);
  return {digest.substr(0, 16), digest.substr(16, 16), digest.substr(32, 16)};
}

std::vector<Bytes> go_export_keys(const fs::path& file) {
  std::vector<Bytes> out;
  for (const auto& line : lines_of(read_file(file))) {
    if (line.empty()) {
      continue;
    }
    const auto key = base64_decode(line);
    REQUIRE_MESSAGE(key.has_value(), "not base64: \"" << line << "\" in " << file);
    REQUIRE_MESSAGE(key->size() == 32, "a Go key of " << key->size() << " bytes");
    out.push_back(*key);
  }
  return out;
}

std::optional<Bytes> open_go_ticket(const Bytes& ticket, const GoTicketKey& key) {
  if (ticket.size() < 16 + 16 + 32 || ticket.compare(0, 16, key.name) != 0) {
    return std::nullopt;
  }
  const std::string_view t(ticket);
  const auto mac = hmac_sha256(key.hmac, t.substr(0, t.size() - 32));
  if (CRYPTO_memcmp(mac.data(), t.data() + t.size() - 32, 32) != 0) {
    return std::nullopt;
  }
  const auto iv = t.substr(16, 16);
  const auto body = t.substr(32, t.size() - 64);
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  Bytes out(body.size() + 16, '\0');
  int n1 = 0;
  int n2 = 0;
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_128_ctr(), nullptr,
                         reinterpret_cast<const unsigned char*>(key.aes.data()),
                         reinterpret_cast<const unsigned char*>(iv.data())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &n1,
                        reinterpret_cast<const unsigned char*>(body.data()),
                        static_cast<int>(body.size())) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + n1,
                          &n2) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  out.resize(static_cast<std::size_t>(n1 + n2));
  return out;
}

Bytes keystore_material(const fs::path& keystore, const std::string& id) {
  const auto doc = stek::test::load_json_file(keystore);
  REQUIRE_MESSAGE(doc.is_object(), "not a keystore: " << keystore);
  for (const auto& key : doc.at("keys")) {
    if (key.value("id", "") == id && key.contains("material")) {
      const auto material = base64_decode(key.at("material").get<std::string>());
      REQUIRE(material.has_value());
      return *material;
    }
  }
  FAIL("no key " << id << " with material in " << keystore);
  return {};
}

} // namespace stek::interop
