// SPDX-License-Identifier: Apache-2.0
// examples/stek-server as an operator meets it: its command line and exit
// codes, OpenSSL's own ticket code reading the provider's tickets (and the
// other way round), a stekctl rotation reaching two running servers that
// renew old tickets under the new key, every kind of bad keystore named in
// the log at no cost, vhosts picked by SNI with their own certificates, and
// a revocation that stops one key's sessions only. Real processes on
// loopback; the client is `openssl s_client`. test_stek_server.cpp has the
// rest (Kubernetes volumes, a pending key taking over, fleets).
#include "interop/harness.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <thread>
#include <utility>

using namespace stek::interop;

namespace {

struct Vhost {
  std::string name;
  Certificate cert;
  std::string arg() const {
    return name + "=" + cert.cert.string() + "," + cert.key.string();
  }
};

std::string server_binary() {
  return require_program(STEK_SERVER_BINARY, "stek-server");
}

// stek-server serving `vhosts` (the first is the default and answers the
// readiness probe) with `keys`: {"--keystore", PATH} or {"--openssl-keys",
// FILE}.
class Server : public TlsServer {
public:
  Server(const fs::path& dir, std::vector<Vhost> vhosts, std::vector<std::string> keys)
    : TlsServer(make_spec(dir, std::move(vhosts), std::move(keys))) {
    start();
  }

  std::size_t count(const std::string& text) const {
    const auto log = output();
    std::size_t n = 0;
    for (auto at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) {
      ++n;
    }
    return n;
  }

  // Wait until a line of the log contains every one of `parts`; return it.
  std::string wait_for_line(const std::vector<std::string>& parts) const {
    const auto deadline = Clock::now() + 10s;
    for (;;) {
      for (const auto& line : lines_of(output())) {
        if (std::all_of(parts.begin(), parts.end(), [&](const std::string& part) {
              return line.find(part) != std::string::npos;
            })) {
          return line;
        }
      }
      REQUIRE_MESSAGE(Clock::now() < deadline,
                      "stek-server never logged a line with \"" << parts.front()
                                                                << "\":\n" << output());
      std::this_thread::sleep_for(10ms);
    }
  }

private:
  static Spec make_spec(const fs::path& dir, std::vector<Vhost> vhosts,
                        std::vector<std::string> keys) {
    Spec spec;
    spec.name = "stek-server";
    spec.dir = fs::absolute(dir);
    spec.cert = vhosts.front().cert;
    spec.server_name = vhosts.front().name;
    spec.command = [vhosts, keys](std::uint16_t port) {
      std::vector<std::string> argv{server_binary(), "--listen",
                                    "127.0.0.1:" + std::to_string(port)};
      for (const auto& vhost : vhosts) {
        argv.insert(argv.end(), {"--vhost", vhost.arg()});
      }
      argv.insert(argv.end(), keys.begin(), keys.end());
      return argv;
    };
    spec.ready = [](TlsServer& server) -> std::string {
      return server.output().find("listening on") != std::string::npos
               ? std::string()
               : "it serves but never said \"listening on\"";
    };
    return spec;
  }
};

// Write `bytes` to `path` as a keystore is written: mode 0600 from the
// start (a file that is 0644 for a moment may be read and refused), in
// place if it exists (O_TRUNC, like cp).
void write_private(const fs::path& path, const std::string& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  REQUIRE_MESSAGE(fd >= 0, "open " << path);
  const bool ok = ::write(fd, bytes.data(), bytes.size()) ==
                  static_cast<ssize_t>(bytes.size());
  ::close(fd);
  REQUIRE_MESSAGE(ok, "write " << path);
}

// Replace `path` by rename, as stekctl and configuration managers do.
void replace_file(const fs::path& path, const std::string& bytes) {
  const auto staged = path.string() + ".new";
  write_private(staged, bytes);
  fs::rename(staged, path);
}

// A keystore that encrypts now, in a directory of its own (the server
// watches the directory; the test's session files stay out of it).
fs::path make_keystore(const Workspace& ws, std::vector<std::string> options = {}) {
  const auto keystore = ws.path("keys/ks.json");
  fs::create_directories(keystore.parent_path());
  std::vector<std::string> args{"--quiet", "--at", utc_in(-60s), "generate"};
  args.insert(args.end(), options.begin(), options.end());
  args.push_back(keystore.string());
  require_ok(stekctl_at("", args));
  return keystore;
}

// A full handshake with `server` for `name`, its session saved to `file`;
// the key id of its ticket.
std::string new_session(const TlsServer& server, Tls version, const fs::path& file,
                        const std::string& name = "a.example") {
  const auto h = s_client(server.port(), version, {.server_name = name, .sess_out = file});
  REQUIRE_MESSAGE(h.ok, h.details());
  REQUIRE_MESSAGE(!h.reused, h.details());
  REQUIRE_MESSAGE(!h.ticket.empty(), "no ticket\n" << h.details());
  return key_id_of(h.ticket);
}

bool resumes(const TlsServer& server, Tls version, const fs::path& file,
             const std::string& name = "a.example") {
  const auto h = s_client(server.port(), version, {.server_name = name, .sess_in = file});
  REQUIRE_MESSAGE(h.ok, h.details());
  return h.reused;
}

// Wait until new sessions from `server` carry tickets of key `id`.
void wait_for_tickets_of(const TlsServer& server, Tls version, const std::string& id) {
  const auto deadline = Clock::now() + 10s;
  while (new_session(server, version, "probe.pem") != id) {
    REQUIRE_MESSAGE(Clock::now() < deadline, "tickets never carried key " << id);
    std::this_thread::sleep_for(50ms);
  }
}

// The base64 key material in `keystore`: what must never reach a log.
std::vector<std::string> materials_of(const fs::path& keystore) {
  std::vector<std::string> out;
  // Named: a range-for over parse(...)["keys"] would outlive the parsed
  // document, which is a temporary.
  const auto document = nlohmann::json::parse(read_file(keystore));
  for (const auto& key : document["keys"]) {
    out.push_back(key["material"].get<std::string>());
  }
  return out;
}

std::string wait_for_stdout(Child& child, const std::string& text) {
  const auto deadline = Clock::now() + k_start_timeout;
  while (child.out().find(text) == std::string::npos) {
    REQUIRE_MESSAGE(child.running(), "stek-server ended: " << child.err());
    REQUIRE_MESSAGE(Clock::now() < deadline, "stek-server never printed " << text);
    std::this_thread::sleep_for(10ms);
  }
  return child.out();
}

bool exited_with(const std::optional<int>& status, int code) {
  return status && WIFEXITED(*status) && WEXITSTATUS(*status) == code;
}

} // namespace

TEST_CASE("stek-server: port 0, --max-connections, SIGTERM, and keystores that do not load") {
  Workspace ws;
  const auto keystore = make_keystore(ws);
  const Vhost a{"a.example", ws.cert};
  const auto run = [&](const std::string& path, std::vector<std::string> more = {}) {
    std::vector<std::string> argv{server_binary(), "--keystore", path,
                                  "--listen", "127.0.0.1:0", "--vhost", a.arg()};
    argv.insert(argv.end(), more.begin(), more.end());
    return Child::spawn(argv);
  };

  // A server must not start without keys; the error names the file.
  fs::copy_file(keystore, ws.path("keys/open.json"));
  ::chmod(ws.path("keys/open.json").c_str(), 0644);
  for (const auto& [path, why] :
       {std::pair{ws.path("keys/missing.json"), std::string("no such file")},
        std::pair{ws.path("keys/open.json"), std::string("group or others")}}) {
    CAPTURE(path);
    auto child = run(path.string());
    CHECK(exited_with(child.wait_for(k_start_timeout), 1));
    CHECK(child.out().find("listening") == std::string::npos);
    CHECK(child.err().find("stek-server: error: ") == 0);
    CHECK(child.err().find(why) != std::string::npos);
    CHECK(child.err().find(path.string()) != std::string::npos);
  }

  // Port 0: the kernel's choice is on the one line of stdout.
  auto counted = run(keystore.string(), {"--max-connections", "2"});
  const auto out = wait_for_stdout(counted, "\n");
  // Parsed by hand: g++ 12 warns inside <regex> in the sanitizer build.
  const std::string prefix = "stek-server: listening on 127.0.0.1:";
  const std::string suffix = " keystore " + keystore.string() + " generation 1\n";
  REQUIRE_MESSAGE(out.rfind(prefix, 0) == 0, out);
  REQUIRE_MESSAGE(out.size() > prefix.size() + suffix.size(), out);
  REQUIRE_MESSAGE(out.compare(out.size() - suffix.size(), suffix.size(), suffix) == 0, out);
  const auto digits = out.substr(prefix.size(), out.size() - prefix.size() - suffix.size());
  REQUIRE_MESSAGE(!digits.empty(), out);
  REQUIRE_MESSAGE(digits.find_first_not_of("0123456789") == std::string::npos, out);
  const auto port = static_cast<std::uint16_t>(std::stoi(digits));
  const auto first = s_client(port, Tls::v1_3, {.sess_out = ws.path("s.pem")});
  CHECK_MESSAGE(first.out.find("hello from a.example reused=0") != std::string::npos,
                first.details());
  const auto second = s_client(port, Tls::v1_3, {.sess_in = ws.path("s.pem")});
  CHECK_MESSAGE(second.reused, second.details());
  CHECK(second.out.find("hello from a.example reused=1") != std::string::npos);
  // Two connections, then it ends by itself, cleanly.
  CHECK(exited_with(counted.wait_for(k_stop_timeout), 0));
  CHECK(counted.err().find("conn sni=a.example vhost=a.example reused=1 protocol=TLSv1.3") !=
        std::string::npos);

  auto stopped = run(keystore.string());
  wait_for_stdout(stopped, "listening on");
  stopped.signal(SIGTERM);
  CHECK(exited_with(stopped.wait_for(k_stop_timeout), 0));
}

TEST_CASE("stek-server: OpenSSL's own ticket keys (--openssl-keys) and the provider read each other's tickets") {
  Workspace ws;
  const auto keystore = make_keystore(ws);
  const auto id = encrypting_id(keystore);
  // The export for a.example holds the secrets the provider derives for
  // that name (sni_binding); the unbound export holds the unbound ones.
  export_keys(keystore, "openssl", ws.path("unbound.key"));
  require_ok(stekctl_at("", {"--quiet", "export", keystore.string(), "--format", "openssl",
                             "--sni", "a.example", "--out", ws.path("a-bound.key").string()}));
  const std::vector<Vhost> vhosts{{"a.example", ws.cert}};
  Server provider(ws.path("provider"), vhosts, {"--keystore", keystore.string()});
  Server bound(ws.path("bound"), vhosts, {"--openssl-keys", ws.path("a-bound.key").string()});
  Server unbound(ws.path("unbound"), vhosts, {"--openssl-keys", ws.path("unbound.key").string()});
  for (const Tls version : k_versions) {
    CAPTURE(name_of(version));
    const auto from_provider = ws.path("p-" + file_tag(version) + ".pem");
    CHECK(new_session(provider, version, from_provider) == id);
    CHECK(resumes(bound, version, from_provider));
    CHECK_FALSE(resumes(unbound, version, from_provider));
    const auto from_openssl = ws.path("o-" + file_tag(version) + ".pem");
    CHECK(new_session(bound, version, from_openssl) == id);
    CHECK(resumes(provider, version, from_openssl));
    CHECK(resumes(bound, version, from_openssl));
  }
}

TEST_CASE("stek-server: stekctl rotate reaches two running servers, which renew old tickets under the new key") {
  Workspace ws;
  const auto keystore = make_keystore(ws);
  const std::vector<Vhost> vhosts{{"a.example", ws.cert}};
  Server one(ws.path("one"), vhosts, {"--keystore", keystore.string()});
  Server two(ws.path("two"), vhosts, {"--keystore", keystore.string()});
  const auto old_id = encrypting_id(keystore);
  for (const Tls version : k_versions) {
    CHECK(new_session(one, version, ws.path("before-" + file_tag(version) + ".pem")) == old_id);
  }
  // stekctl replaces the file itself: temporary file, fsync, rename.
  require_ok(stekctl_at("", {"--quiet", "rotate", "--now", keystore.string()}));
  const auto new_id = encrypting_id(keystore);
  REQUIRE(new_id != old_id);
  for (const Tls version : k_versions) {
    CAPTURE(name_of(version));
    const auto before = ws.path("before-" + file_tag(version) + ".pem");
    for (const Server* server : {&two, &one}) {
      CAPTURE(server->dir());
      wait_for_tickets_of(*server, version, new_id);
      const auto h = s_client(server->port(), version,
                              {.sess_in = before, .sess_out = ws.path("renewed.pem")});
      CHECK_MESSAGE(h.reused, h.details());
      // A TLS 1.2 client saves no session on resumption; what it holds
      // after the handshake shows the renewed ticket.
      CHECK((version == Tls::v1_2 ? h.held_ticket_id : key_id_of(h.ticket)) == new_id);
    }
  }
  for (const Server* server : {&one, &two}) {
    CHECK(server->count("stek-server: reload generation 2 ") == 1);
    CHECK(server->count("reload failed") == 0);
  }
}

TEST_CASE("stek-server: each kind of bad keystore is named in the log and costs no keys") {
  Workspace ws;
  const auto keystore = make_keystore(ws);
  const auto good = read_file(keystore);
  const auto old_id = encrypting_id(keystore);
  Server server(ws.path("server"), {{"a.example", ws.cert}}, {"--keystore", keystore.string()});
  for (const Tls version : k_versions) {
    new_session(server, version, ws.path(file_tag(version) + ".pem"));
  }

  const std::vector<std::pair<std::string, std::function<void()>>> bad_files{
    {"malformed JSON", [&] { write_private(keystore, "garbage, not JSON\n"); }},
    {"truncated JSON", [&] { write_private(keystore, good.substr(0, good.size() / 2)); }},
    {"empty file", [&] { write_private(keystore, ""); }},
    {"group or others", [&] { ::chmod(keystore.c_str(), 0644); }},
    {"missing", [&] { fs::remove(keystore); }},
  };
  for (const auto& [problem, make_bad] : bad_files) {
    CAPTURE(problem);
    make_bad();
    const auto line = server.wait_for_line({"reload failed", problem});
    CHECK(line.find("serving generation 1: ") != std::string::npos);
    CHECK(line.find(keystore.string()) != std::string::npos);
    for (const Tls version : k_versions) {
      CAPTURE(name_of(version));
      CHECK(resumes(server, version, ws.path(file_tag(version) + ".pem")));
    }
    CHECK(new_session(server, Tls::v1_3, ws.path("probe.pem")) == old_id);
  }

  // The next good file is taken: a rotated keystore.
  write_private(ws.path("next.json"), good);
  require_ok(stekctl_at("", {"--quiet", "rotate", "--now", ws.path("next.json").string()}));
  replace_file(keystore, read_file(ws.path("next.json")));
  server.wait_for_line({"reload generation 2"});
  for (const Tls version : k_versions) {
    CAPTURE(name_of(version));
    wait_for_tickets_of(server, version, encrypting_id(keystore));
    CHECK(resumes(server, version, ws.path(file_tag(version) + ".pem")));
  }
  CHECK(server.count("reload generation") == 1);
  for (const auto& material : materials_of(keystore)) {
    CHECK(server.output().find(material) == std::string::npos);
  }
}

TEST_CASE("stek-server: SNI picks the vhost and its certificate, and a ticket stays with its name") {
  for (const bool binding : {true, false}) {
    CAPTURE(binding);
    Workspace ws;
    const auto keystore =
      binding ? make_keystore(ws) : make_keystore(ws, {"--no-sni-binding"});
    const Vhost a{"a.example", ws.cert};
    const Vhost b{"b.example", make_certificate(ws.path("tls-b"), "b.example")};
    Server server(ws.path("server"), {a, b}, {"--keystore", keystore.string()});
    for (const Tls version : k_versions) {
      CAPTURE(name_of(version));
      const auto on_b = s_client(server.port(), version, {.server_name = "b.example"});
      CHECK_MESSAGE(on_b.out.find("subject=CN = b.example") != std::string::npos, on_b.out);
      CHECK(on_b.out.find("hello from b.example reused=0") != std::string::npos);
      // A name no vhost has gets the default one.
      const auto other = s_client(server.port(), version, {.server_name = "c.example"});
      CHECK(other.out.find("hello from a.example") != std::string::npos);

      const auto session = ws.path(file_tag(version) + ".pem");
      new_session(server, version, session, "a.example");
      // With binding off this resumes: the cross-virtual-host resumption of
      // "STEK Sharing is Not Caring" (a ticket from one name accepted by a
      // vhost of another), which sni_binding stops.
      CHECK(resumes(server, version, session, "b.example") == !binding);
      CHECK(resumes(server, version, session, "a.example"));
    }
  }
}

TEST_CASE("stek-server: revoking a key stops its sessions and no others") {
  Workspace ws;
  const auto keystore = make_keystore(ws);
  Server server(ws.path("server"), {{"a.example", ws.cert}}, {"--keystore", keystore.string()});
  const auto k1 = encrypting_id(keystore);
  for (const Tls version : k_versions) {
    CHECK(new_session(server, version, ws.path("k1-" + file_tag(version) + ".pem")) == k1);
  }
  require_ok(stekctl_at("", {"--quiet", "rotate", "--now", keystore.string()}));
  const auto k2 = encrypting_id(keystore);
  server.wait_for_line({"reload generation 2"});
  for (const Tls version : k_versions) {
    CHECK(new_session(server, version, ws.path("k2-" + file_tag(version) + ".pem")) == k2);
  }
  require_ok(stekctl_at("", {"--quiet", "revoke", keystore.string(), k1, "--reason", "test"}));
  server.wait_for_line({"reload generation 3"});
  for (const Tls version : k_versions) {
    CAPTURE(name_of(version));
    CHECK_FALSE(resumes(server, version, ws.path("k1-" + file_tag(version) + ".pem")));
    CHECK(resumes(server, version, ws.path("k2-" + file_tag(version) + ".pem")));
  }
}
