// SPDX-License-Identifier: Apache-2.0
// examples/stek-server, the provider in a real server: its sessions resume
// across servers sharing a keystore, its keys follow the file without a
// restart, bad files change nothing, tickets stay with their server name,
// and revocation takes effect. The client is `openssl s_client`.
#include "interop/harness.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <fstream>

#include <chrono>
#include <thread>

using namespace stek::interop;
using namespace std::chrono_literals;

namespace {

// stek-server on a keystore, serving a.example (default) and b.example.
class StekServer : public TlsServer {
public:
  StekServer(const fs::path& dir, const Certificate& cert, fs::path keystore)
    : TlsServer(make_spec(this, dir, cert)), m_keystore(fs::absolute(keystore)) {}

  // How many times the server logged `text`.
  std::size_t count(const std::string& text) const {
    const auto log = output();
    std::size_t n = 0;
    for (auto at = log.find(text); at != std::string::npos;
         at = log.find(text, at + 1)) {
      ++n;
    }
    return n;
  }

  // Wait until the server has logged `text` at least `times` times.
  void wait_for_log(const std::string& text, std::size_t times = 1) {
    const auto deadline = Clock::now() + 10s;
    while (count(text) < times) {
      REQUIRE_MESSAGE(Clock::now() < deadline,
                      "stek-server never logged \"" << text << "\":\n" << output());
      std::this_thread::sleep_for(10ms);
    }
  }

private:
  static Spec make_spec(StekServer* self, const fs::path& dir, const Certificate& cert) {
    Spec spec;
    spec.name = "stek-server";
    spec.dir = fs::absolute(dir);
    spec.cert = cert;
    spec.command = [self, cert](std::uint16_t port) {
      const auto vhost = [&](const std::string& name) {
        return name + "=" + cert.cert.string() + "," + cert.key.string();
      };
      return std::vector<std::string>{
        require_program(STEK_SERVER_BINARY, "stek-server"),
        "--keystore", self->m_keystore.string(),
        "--listen", "127.0.0.1:" + std::to_string(port),
        "--vhost", vhost("a.example"), "--vhost", vhost("b.example"),
        "--poll-interval", "500"};
    };
    spec.ready = [](TlsServer& server) -> std::string {
      return server.output().find("listening on") != std::string::npos
               ? std::string()
               : "it serves but never said \"listening on\"";
    };
    return spec;
  }

  fs::path m_keystore;
};

// A new session from `server` for `name`, saved to `file`; its ticket's
// key id.
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
  for (;;) {
    if (new_session(server, version, "probe.pem") == id) {
      return;
    }
    REQUIRE_MESSAGE(Clock::now() < deadline, "tickets never carried key " << id);
    std::this_thread::sleep_for(50ms);
  }
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  ::chmod(path.c_str(), 0600);
}

} // namespace

TEST_CASE("stek-server: two servers on one keystore resume each other's sessions") {
  Workspace ws;
  generate_keystore(ws.path("ks.json"), utc_in(-60s));
  StekServer one(ws.path("one"), ws.cert, ws.path("ks.json"));
  StekServer two(ws.path("two"), ws.cert, ws.path("ks.json"));
  one.start();
  two.start();
  const auto encrypting = encrypting_id(ws.path("ks.json"));
  for (const Tls version : k_versions) {
    CAPTURE(name_of(version));
    const auto session = ws.path(file_tag(version) + ".pem");
    CHECK(new_session(one, version, session) == encrypting);
    CHECK(resumes(two, version, session));
    CHECK(resumes(one, version, session));
  }
}

TEST_CASE("stek-server: rotation reaches running servers without a restart") {
  Workspace ws;
  const auto keystore = ws.path("ks.json");
  generate_keystore(keystore, utc_in(-60s));
  StekServer server(ws.path("server"), ws.cert, keystore);
  server.start();
  const auto pid = server.pid();
  std::size_t reloads = 0;

  // Rotate by each way a keystore is replaced; each time the new key
  // takes over, and a session from before still resumes.
  const auto rotate = [&](const std::string& how) {
    CAPTURE(how);
    for (const Tls version : k_versions) {
      CAPTURE(name_of(version));
      const auto before = ws.path(how + "-" + file_tag(version) + ".pem");
      const auto old_id = new_session(server, version, before);
      require_ok(stekctl_at("", {"--quiet", "rotate", "--now", "rotate.json"}));
      const auto new_id = encrypting_id("rotate.json");
      REQUIRE(new_id != old_id);
      if (how == "rename") {
        fs::copy_file("rotate.json", "staged.json", fs::copy_options::overwrite_existing);
        ::chmod("staged.json", 0600);
        fs::rename("staged.json", keystore);
      } else {
        write_bytes(keystore, read_file("rotate.json")); // in place, O_TRUNC
      }
      server.wait_for_log("reload generation", ++reloads);
      wait_for_tickets_of(server, version, new_id);
      CHECK(resumes(server, version, before));
    }
  };
  fs::copy_file(keystore, "rotate.json");
  rotate("rename");
  rotate("in-place");
  CHECK(server.pid() == pid);
  CHECK(server.count("reload failed") == 0);
}

TEST_CASE("stek-server: a Kubernetes Secret volume update is followed") {
  Workspace ws;
  // The kubelet's layout: keystore.json -> ..data/keystore.json, and
  // ..data -> a timestamped directory, swapped by rename on update.
  const auto volume = ws.path("volume");
  fs::create_directories(volume / "..v1");
  generate_keystore(volume / "..v1/keystore.json", utc_in(-60s));
  fs::create_directory_symlink("..v1", volume / "..data");
  fs::create_symlink("..data/keystore.json", volume / "keystore.json");
  StekServer server(ws.path("server"), ws.cert, volume / "keystore.json");
  server.start();

  for (const Tls version : k_versions) {
    CAPTURE(name_of(version));
    const int n = version == Tls::v1_2 ? 2 : 3;
    const auto before = ws.path("before-" + file_tag(version) + ".pem");
    new_session(server, version, before);
    const auto previous = fs::read_symlink(volume / "..data");
    const auto next = "..v" + std::to_string(n);
    fs::create_directories(volume / next);
    fs::copy_file(volume / "keystore.json", volume / next / "keystore.json");
    require_ok(stekctl_at("", {"--quiet", "rotate", "--now",
                               (volume / next / "keystore.json").string()}));
    fs::create_directory_symlink(next, volume / "..data_tmp");
    fs::rename(volume / "..data_tmp", volume / "..data");
    fs::remove_all(volume / previous);
    server.wait_for_log("reload generation", static_cast<std::size_t>(n - 1));
    wait_for_tickets_of(server, version, encrypting_id(volume / "keystore.json"));
    CHECK(resumes(server, version, before));
  }
}

TEST_CASE("stek-server: a pending key takes over at its time with no file change") {
  Workspace ws;
  const auto keystore = ws.path("ks.json");
  // A policy of seconds: the successor generate publishes starts 4 s on.
  require_ok(stekctl_at("", {"--quiet", "generate", "--rotate-every", "4s",
                             "--publish-ahead", "2s", "--encrypt-for", "4s",
                             "--decrypt-for", "60s", keystore.string()}));
  const auto keys = list_keys(keystore);
  REQUIRE(keys.size() == 2);
  StekServer server(ws.path("server"), ws.cert, keystore);
  server.start();
  const auto first = new_session(server, Tls::v1_3, "first.pem");
  CHECK(first == keys[0].id);
  wait_for_tickets_of(server, Tls::v1_3, keys[1].id);
  CHECK(resumes(server, Tls::v1_3, "first.pem"));
  CHECK(server.count("reload generation") == 0);
}

TEST_CASE("stek-server: bad keystore files never cost the keys it has") {
  Workspace ws;
  const auto keystore = ws.path("ks.json");
  generate_keystore(keystore, utc_in(-60s));
  const auto good = read_file(keystore);
  StekServer server(ws.path("server"), ws.cert, keystore);
  server.start();
  const auto session = ws.path("session.pem");
  new_session(server, Tls::v1_3, session);

  std::size_t failures = 0;
  const auto expect_kept = [&](const std::string& what) {
    CAPTURE(what);
    server.wait_for_log("reload failed", ++failures);
    CHECK(resumes(server, Tls::v1_3, session));
  };
  write_bytes(keystore, "{\"stek_keystore\": 1, \"policy\": [");
  expect_kept("corrupt");
  write_bytes(keystore, good.substr(0, good.size() / 2));
  expect_kept("truncated");
  write_bytes(keystore, "");
  expect_kept("empty");
  fs::remove(keystore);
  expect_kept("deleted");
  CHECK(server.output().find("missing") != std::string::npos);

  // The next good file is taken: a rotated keystore, new tickets.
  write_bytes("next.json", good);
  require_ok(stekctl_at("", {"--quiet", "rotate", "--now", "next.json"}));
  write_bytes(keystore, read_file("next.json"));
  server.wait_for_log("reload generation");
  wait_for_tickets_of(server, Tls::v1_3, encrypting_id("next.json"));
  CHECK(resumes(server, Tls::v1_3, session)); // its key still decrypts
}

TEST_CASE("stek-server: a ticket for one name does not resume on another") {
  for (const bool binding : {true, false}) {
    CAPTURE(binding);
    Workspace ws;
    const auto keystore = ws.path("ks.json");
    std::vector<std::string> args = {"--quiet", "--at", utc_in(-60s), "generate",
                                     keystore.string()};
    if (!binding) {
      args.push_back("--no-sni-binding");
    }
    require_ok(stekctl_at("", args));
    StekServer server(ws.path("server"), ws.cert, keystore);
    server.start();
    for (const Tls version : k_versions) {
      CAPTURE(name_of(version));
      const auto session = ws.path(file_tag(version) + ".pem");
      new_session(server, version, session, "a.example");
      CHECK(resumes(server, version, session, "a.example"));
      // Both vhosts share the session-id context, so only the keys decide.
      // With binding off this resumes: the cross-virtual-host resumption of
      // "STEK Sharing is Not Caring", which sni_binding stops.
      CHECK(resumes(server, version, session, "b.example") == !binding);
    }
  }
}

TEST_CASE("stek-server: a revoked key's sessions stop resuming once it reloads") {
  Workspace ws;
  const auto keystore = ws.path("ks.json");
  generate_keystore(keystore, utc_in(-60s));
  StekServer server(ws.path("server"), ws.cert, keystore);
  server.start();
  std::string id;
  for (const Tls version : k_versions) {
    id = new_session(server, version, ws.path(file_tag(version) + ".pem"));
    REQUIRE(resumes(server, version, ws.path(file_tag(version) + ".pem")));
  }
  require_ok(stekctl_at("", {"--quiet", "revoke", keystore.string(), id,
                             "--reason", "test"}));
  server.wait_for_log("reload generation");
  for (const Tls version : k_versions) {
    CAPTURE(name_of(version));
    CHECK_FALSE(resumes(server, version, ws.path(file_tag(version) + ".pem")));
  }
}
