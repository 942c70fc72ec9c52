// SPDX-License-Identifier: Apache-2.0
#include "interop/harness/servers.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <regex>
#include <thread>
#include <utility>

#ifndef STEK_INTEROP_NGINX
#define STEK_INTEROP_NGINX ""
#endif
#ifndef STEK_INTEROP_HAPROXY
#define STEK_INTEROP_HAPROXY ""
#endif

namespace stek::interop {

// ---------------------------------------------------------------------------
// nginx

NginxServer::NginxServer(const fs::path& dir, const Certificate& cert, NginxSite site,
                         std::string server_name)
  : TlsServer(make_spec(this, dir, cert, std::move(server_name))),
    m_site(std::move(site)) {}

void NginxServer::reload() {
  REQUIRE_MESSAGE(running(), "nginx is not running");
  write_config(port());
  const auto before = read_file(error_log());
  // The workers running now: started and not yet exited.
  std::vector<std::string> old_workers;
  for (const auto& pid : workers_started(before)) {
    if (!contains(before, "worker process " + pid + " exited")) {
      old_workers.push_back(pid);
    }
  }
  signal(SIGHUP);
  const auto deadline = Clock::now() + k_start_timeout;
  auto pause = 5ms;
  for (;;) {
    const auto log = read_file(error_log());
    const auto added = log.size() > before.size() ? log.substr(before.size()) : std::string();
    if (contains(added, "[emerg]")) {
      FAIL("nginx refused the new configuration:\n" << added);
    }
    const auto started = workers_started(added);
    bool old_gone = true;
    for (const auto& pid : old_workers) {
      old_gone = old_gone && contains(added, "worker process " + pid + " exited");
    }
    if (!started.empty() && old_gone) {
      return;
    }
    REQUIRE_MESSAGE(running(), "nginx ended during reload:\n" << log << output());
    REQUIRE_MESSAGE(Clock::now() < deadline, "nginx reload timed out:\n" << added);
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
}

bool NginxServer::contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

std::vector<std::string> NginxServer::workers_started(const std::string& log) {
  static const std::regex started("start worker process ([0-9]+)");
  std::vector<std::string> out;
  for (std::sregex_iterator it(log.begin(), log.end(), started), end; it != end; ++it) {
    out.push_back((*it)[1].str());
  }
  return out;
}

TlsServer::Spec NginxServer::make_spec(NginxServer* self, const fs::path& dir,
                                       const Certificate& cert, std::string server_name) {
  Spec spec;
  spec.name = "nginx";
  spec.dir = fs::absolute(dir);
  spec.cert = cert;
  spec.server_name = std::move(server_name);
  spec.command = [self](std::uint16_t port) {
    self->write_config(port);
    const auto d = self->dir().string();
    return std::vector<std::string>{
      require_program(STEK_INTEROP_NGINX, "nginx"),
      "-p", d + "/", "-e", d + "/error.log", "-c", d + "/nginx.conf",
      "-g", "daemon off; master_process on;"};
  };
  // Once the master logged its workers: then it reloads cleanly on SIGHUP.
  spec.ready = [self](TlsServer&) -> std::string {
    const auto deadline = Clock::now() + k_start_timeout;
    while (workers_started(read_file(self->error_log())).empty()) {
      if (Clock::now() > deadline) {
        return "no \"start worker process\" in error.log";
      }
      std::this_thread::sleep_for(5ms);
    }
    return {};
  };
  return spec;
}

void NginxServer::write_config(std::uint16_t port) const {
  const auto d = dir().string();
  std::string keys;
  if (!m_site.include.empty()) {
    keys += "    include " + fs::absolute(m_site.include).string() + ";\n";
  }
  for (const auto& key : m_site.ticket_keys) {
    keys += "    ssl_session_ticket_key " + fs::absolute(key).string() + ";\n";
  }
  std::string more;
  for (const auto& host : m_site.more_hosts) {
    more += "  server {\n"
            "    listen 127.0.0.1:" + std::to_string(port) + " ssl;\n"
            "    server_name " + host.server_name + ";\n"
            "    ssl_certificate " + cert().cert.string() + ";\n"
            "    ssl_certificate_key " + cert().key.string() + ";\n"
            "    ssl_protocols TLSv1.2 TLSv1.3;\n"
            "    ssl_session_timeout 1h;\n" +
            (host.include.empty() ? std::string()
                                  : "    include " + fs::absolute(host.include).string() + ";\n") +
            "    location / { return 200 \"" + host.server_name + "\\n\"; }\n"
            "  }\n";
  }
  const std::string conf =
    "# Written by the stekctl interop tests.\n"
    "worker_processes 1;\n"
    "error_log " + d + "/error.log notice;\n"
    "pid " + d + "/nginx.pid;\n"
    "events { worker_connections 64; }\n"
    "http {\n"
    "  access_log off;\n"
    "  client_body_temp_path " + d + "/client_body_temp;\n"
    "  proxy_temp_path " + d + "/proxy_temp;\n"
    "  fastcgi_temp_path " + d + "/fastcgi_temp;\n"
    "  uwsgi_temp_path " + d + "/uwsgi_temp;\n"
    "  scgi_temp_path " + d + "/scgi_temp;\n"
    "  server {\n"
    "    listen 127.0.0.1:" + std::to_string(port) + " ssl;\n"
    "    server_name " + server_name() + ";\n"
    "    ssl_certificate " + cert().cert.string() + ";\n"
    "    ssl_certificate_key " + cert().key.string() + ";\n"
    "    ssl_protocols TLSv1.2 TLSv1.3;\n"
    "    ssl_session_timeout 1h;\n" +
    keys + m_site.extra +
    "    location / { return 200 \"ok\\n\"; }\n"
    "  }\n" +
    more +
    "}\n";
  write_file(dir() / "nginx.conf", conf, 0644);
}

// ---------------------------------------------------------------------------
// HAProxy

HaproxyServer::HaproxyServer(const fs::path& dir, const Certificate& cert,
                             fs::path ticket_keys, std::string server_name)
  : TlsServer(make_spec(this, dir, cert, std::move(server_name))),
    m_ticket_keys(fs::absolute(ticket_keys)) {}

TlsServer::Spec HaproxyServer::make_spec(HaproxyServer* self, const fs::path& dir,
                                         const Certificate& cert, std::string server_name) {
  Spec spec;
  spec.name = "haproxy";
  spec.dir = fs::absolute(dir);
  spec.cert = cert;
  spec.server_name = std::move(server_name);
  spec.command = [self](std::uint16_t port) {
    const std::string conf =
      "# Written by the stekctl interop tests.\n"
      "global\n"
      "  noreuseport\n"
      "defaults\n"
      "  mode http\n"
      "  timeout connect 5s\n"
      "  timeout client 30s\n"
      "  timeout server 30s\n"
      "frontend fe\n"
      "  bind 127.0.0.1:" + std::to_string(port) + " ssl crt " +
      self->cert().combined.string() + " tls-ticket-keys " +
      self->m_ticket_keys.string() + "\n"
      "  http-request return status 200 content-type text/plain string ok\n";
    write_file(self->dir() / "haproxy.cfg", conf, 0644);
    return std::vector<std::string>{
      require_program(STEK_INTEROP_HAPROXY, "haproxy"), "-db", "-f",
      (self->dir() / "haproxy.cfg").string()};
  };
  return spec;
}

} // namespace stek::interop
