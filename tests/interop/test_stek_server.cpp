// SPDX-License-Identifier: Apache-2.0
// examples/stek-server, the provider in a real server, as a fleet sees it:
// servers sharing one keystore resume each other's sessions and follow the
// file (rewritten in place, a Kubernetes Secret volume update) and the
// clock without a restart; and the options test_stek_server_ops.cpp does
// not cover. The client is `openssl s_client`. The server says in each
// answer which key served the connection ("key="); the tests check that
// against the tickets on the wire.
#include "interop/harness.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <thread>

using namespace stek::interop;

namespace {

// How long a running server may take to notice a keystore change or a key
// taking over. Inotify makes it milliseconds; this is for loaded machines.
constexpr auto k_follow_deadline = 10s;

std::string server_binary() {
  return require_program(STEK_SERVER_BINARY, "stek-server");
}

// stek-server on `keystore`, serving a.example (the Workspace's
// certificate) and `more` arguments.
class StekServer : public TlsServer {
public:
  StekServer(const fs::path& dir, const Certificate& cert, const fs::path& keystore,
             std::vector<std::string> more = {"--poll-interval", "500"})
    : TlsServer(make_spec(dir, cert, fs::absolute(keystore), std::move(more))) {}

  // Count the lines of its output (stdout and stderr) that contain `text`.
  std::size_t count(const std::string& text) const {
    std::size_t n = 0;
    for (const auto& line : lines_of(output())) {
      if (line.find(text) != std::string::npos) {
        ++n;
      }
    }
    return n;
  }

private:
  static Spec make_spec(const fs::path& dir, const Certificate& cert,
                        const fs::path& keystore, std::vector<std::string> more) {
    Spec spec;
    spec.name = "stek-server";
    spec.dir = fs::absolute(dir);
    spec.cert = cert;
    spec.command = [cert, keystore, more](std::uint16_t port) {
      std::vector<std::string> argv{server_binary(), "--keystore", keystore.string(),
                                    "--listen", "127.0.0.1:" + std::to_string(port),
                                    "--vhost",
                                    "a.example=" + cert.cert.string() + "," +
                                      cert.key.string()};
      argv.insert(argv.end(), more.begin(), more.end());
      return argv;
    };
    spec.ready = [](TlsServer& server) -> std::string {
      return server.output().find("stek-server: listening on") != std::string::npos
               ? std::string()
               : "it serves but never said \"listening on\"";
    };
    return spec;
  }
};

// One connection and what the server answered ("hello from VHOST
// reused=0|1 key=ID|-": the key of the ticket it issued, else of the one
// it resumed with), and the key of the ticket the client holds afterwards.
struct Served {
  Handshake h;
  std::string key;
  std::string held;
};

// The word after `label` in `text` ("" if there is none).
std::string word_after(const std::string& text, const std::string& label) {
  const auto at = text.find(label);
  if (at == std::string::npos) {
    return {};
  }
  const auto start = at + label.size();
  return text.substr(start, text.find_first_of(" \r\n", start) - start);
}

Served connect(std::uint16_t port, Tls version, const ClientOptions& options = {}) {
  Served s{s_client(port, version, options), {}, {}};
  REQUIRE_MESSAGE(s.h.ok, s.h.details());
  // No std::regex here: g++ 12 warns about its internals under -O2 with
  // sanitizers (-Wmaybe-uninitialized), which -Werror turns into an error.
  const auto answer = s.h.out.substr(std::min(s.h.out.find("hello from "), s.h.out.size()));
  const auto reused = word_after(answer, " reused=");
  s.key = word_after(answer, " key=");
  REQUIRE_MESSAGE((reused == "0" || reused == "1"), s.h.details());
  REQUIRE_MESSAGE((s.key == "-" || s.key.size() == 32), s.h.details());
  CHECK_MESSAGE((reused == "1") == s.h.reused, s.h.details());
  return s;
}

// A full handshake whose session goes to `file`; the server's key= must be
// the key name its ticket carries.
Served new_session(const TlsServer& server, Tls version, const fs::path& file) {
  auto s = connect(server.port(), version, {.sess_out = file});
  REQUIRE_MESSAGE(!s.h.reused, s.h.details());
  REQUIRE_MESSAGE(!s.h.ticket.empty(), "no ticket\n" << s.h.details());
  s.held = key_id_of(s.h.ticket);
  CHECK(s.key == s.held);
  return s;
}

// Offer the session in `file` (which stays as it is, to be offered again).
Served offer(const TlsServer& server, Tls version, const fs::path& file) {
  const auto renewed = fs::path(file).concat(".renewed");
  auto s = connect(server.port(), version, {.sess_in = file, .sess_out = renewed});
  // s_client saves a TLS 1.3 ticket that arrives, never a TLS 1.2 one
  // renewed on resumption; that one shows in its session printout.
  if (version == Tls::v1_2) {
    s.held = s.h.held_ticket_id;
  } else {
    s.held = key_id_of(s.h.ticket.empty() ? read_ticket(file) : s.h.ticket);
  }
  return s;
}

std::map<Tls, fs::path> sessions_from(const TlsServer& server, const fs::path& dir) {
  std::map<Tls, fs::path> sessions;
  for (const Tls version : k_versions) {
    sessions[version] = dir / ("before-" + file_tag(version) + ".pem");
    new_session(server, version, sessions[version]);
  }
  return sessions;
}

void wait_for_tickets_of(const TlsServer& server, Tls version, const std::string& id) {
  const auto deadline = Clock::now() + k_follow_deadline;
  for (;;) {
    const auto key = connect(server.port(), version).key;
    if (key == id) {
      return;
    }
    REQUIRE_MESSAGE(Clock::now() < deadline,
                    "port " << server.port() << " never issued key " << id << "; still " << key);
    std::this_thread::sleep_for(20ms);
  }
}

// After a change that makes `new_id` the encrypting key: every server
// issues tickets of it without a restart, and the sessions from before
// resume on every server, which renews them under `new_id` (the old key
// only decrypts now): the server says so, and the client holds the ticket.
void check_took_over(const std::vector<const StekServer*>& servers, const std::string& new_id,
                     const std::map<Tls, fs::path>& before) {
  for (const auto* server : servers) {
    for (const Tls version : k_versions) {
      CAPTURE(server->dir());
      CAPTURE(name_of(version));
      wait_for_tickets_of(*server, version, new_id);
      const auto again = offer(*server, version, before.at(version));
      CHECK_MESSAGE(again.h.reused, again.h.details());
      CHECK(again.key == new_id);
      CHECK(again.held == new_id);
    }
  }
}

// A copy of `keystore` at `copy` after `stekctl rotate --now`; the id of
// the key that encrypts in it.
std::string rotated_copy(const fs::path& keystore, const fs::path& copy) {
  fs::copy_file(keystore, copy, fs::copy_options::overwrite_existing);
  require_ok(stekctl_at("", {"--quiet", "rotate", "--now", copy.string()}));
  return encrypting_id(copy);
}

// Its exit code once it ended by itself within the deadline.
int exit_code_of(Child& child) {
  const auto status = child.wait_for(k_start_timeout);
  REQUIRE_MESSAGE(status.has_value(), "stek-server did not exit:\n" << child.err());
  REQUIRE_MESSAGE(WIFEXITED(*status), child.describe_status() << "\n" << child.err());
  return WEXITSTATUS(*status);
}

// The port a server told to listen on 127.0.0.1:0 says it took.
std::uint16_t port_of(Child& child) {
  const auto deadline = Clock::now() + k_start_timeout;
  for (;;) {
    const auto out = child.out();
    const auto port = word_after(out, "stek-server: listening on 127.0.0.1:");
    if (!port.empty() && out.find('\n') != std::string::npos) {
      return static_cast<std::uint16_t>(std::stoi(port));
    }
    REQUIRE_MESSAGE(child.running(), "stek-server ended:\n" << out << child.err());
    REQUIRE_MESSAGE(Clock::now() < deadline, "no listening line:\n" << out << child.err());
    std::this_thread::sleep_for(10ms);
  }
}

} // namespace

TEST_CASE("stek-server: two servers on one keystore resume each other's sessions") {
  Workspace ws;
  const auto keystore = ws.path("ks.json");
  generate_keystore(keystore, utc_in(-60s));
  StekServer one(ws.path("one"), ws.cert, keystore);
  StekServer two(ws.path("two"), ws.cert, keystore);
  one.start();
  two.start();
  const auto encrypting = encrypting_id(keystore);
  for (const Tls version : k_versions) {
    CAPTURE(name_of(version));
    const auto session = ws.path(file_tag(version) + ".pem");
    CHECK(new_session(one, version, session).key == encrypting);
    for (const auto* server : {&two, &one}) {
      const auto again = offer(*server, version, session);
      CHECK_MESSAGE(again.h.reused, again.h.details());
      CHECK(again.key == encrypting);
      CHECK(again.held == encrypting); // its key still encrypts: not renewed
    }
  }
  CHECK(two.count("stek-server: conn sni=a.example vhost=a.example reused=1 ") == 2);
}

TEST_CASE("stek-server: a keystore rewritten in place reaches two running servers") {
  Workspace ws;
  const auto keystore = ws.path("ks.json");
  generate_keystore(keystore, utc_in(-60s));
  StekServer one(ws.path("one"), ws.cert, keystore);
  StekServer two(ws.path("two"), ws.cert, keystore);
  one.start();
  two.start();
  const auto before = sessions_from(one, ws.dir);
  const auto new_id = rotated_copy(keystore, ws.path("staged.json"));
  const auto bytes = read_file(ws.path("staged.json"));
  // As `cp staged.json ks.json` does: truncate, write, same inode. A server
  // may read the file half-written and log a failed reload; it must keep
  // its keys meanwhile and end up on the new file, which check_took_over
  // shows.
  const auto inode = stek::test::inode_of(keystore);
  const int fd = ::open(keystore.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
  REQUIRE(::close(fd) == 0);
  REQUIRE(stek::test::inode_of(keystore) == inode);
  check_took_over({&one, &two}, new_id, before);
  CHECK(one.count("stek-server: reload generation") >= 1);
}

TEST_CASE("stek-server: a Kubernetes Secret volume update reaches two running servers") {
  Workspace ws;
  // The kubelet's layout: keystore.json -> ..data/keystore.json, ..data ->
  // a timestamped directory. An update writes a new directory, points
  // ..data_tmp at it, renames ..data_tmp over ..data and removes the old
  // directory. (A real Secret volume needs defaultMode 0400, or
  // --allow-insecure-permissions: the provider refuses 0644 files.)
  const auto volume = ws.path("volume");
  fs::create_directories(volume / "..2026_11_28_x");
  generate_keystore(volume / "..2026_11_28_x/keystore.json", utc_in(-60s));
  fs::create_directory_symlink("..2026_11_28_x", volume / "..data");
  fs::create_symlink("..data/keystore.json", volume / "keystore.json");
  StekServer one(ws.path("one"), ws.cert, volume / "keystore.json");
  StekServer two(ws.path("two"), ws.cert, volume / "keystore.json");
  one.start();
  two.start();

  const auto before = sessions_from(one, ws.dir);
  const auto new_id = rotated_copy(volume / "keystore.json", ws.path("update.json"));
  fs::create_directories(volume / "..2026_11_28_y");
  fs::copy_file(ws.path("update.json"), volume / "..2026_11_28_y/keystore.json");
  fs::create_directory_symlink("..2026_11_28_y", volume / "..data_tmp");
  fs::rename(volume / "..data_tmp", volume / "..data");
  fs::remove_all(volume / "..2026_11_28_x");

  check_took_over({&one, &two}, new_id, before);
  // Every step but the rename left keystore.json as it was.
  CHECK(one.count("stek-server: reload generation 2 ") == 1);
  CHECK(one.count("reload failed") == 0);
  CHECK(two.count("reload failed") == 0);
}

TEST_CASE("stek-server: a pending key takes over at its time with no file change") {
  Workspace ws;
  const auto keystore = ws.path("ks.json");
  // generate publishes the successor at once, pending (no `rotate --force`
  // needed): it starts encrypting 3 to 4 s after generate ran (times are
  // whole seconds), time enough for the server to start and issue a ticket
  // of the first key; both keys keep encrypting and decrypting for a minute, so nothing
  // else changes while the test runs.
  require_ok(stekctl_at("", {"--quiet", "generate", "--rotate-every", "4s",
                             "--publish-ahead", "1s", "--encrypt-for", "60s",
                             "--decrypt-for", "60s", keystore.string()}));
  const auto keys = list_keys(keystore);
  REQUIRE(keys.size() == 2);
  REQUIRE(keys[1].state == "pending");
  const auto bytes = read_file(keystore);
  StekServer server(ws.path("server"), ws.cert, keystore);
  server.start();

  CHECK(new_session(server, Tls::v1_3, ws.path("first.pem")).key == keys[0].id);
  for (const Tls version : k_versions) {
    CAPTURE(name_of(version));
    wait_for_tickets_of(server, version, keys[1].id);
  }
  const auto again = offer(server, Tls::v1_3, ws.path("first.pem"));
  CHECK_MESSAGE(again.h.reused, again.h.details());
  CHECK(read_file(keystore) == bytes);
  CHECK(server.count("reload") == 0);
}

TEST_CASE("stek-server: --tls-max, --listen checks, SIGINT and --allow-insecure-permissions") {
  Workspace ws;
  const auto keystore = ws.path("ks.json");
  generate_keystore(keystore, utc_in(-60s));
  const auto id = encrypting_id(keystore);
  const auto run = [&](std::vector<std::string> args) {
    std::vector<std::string> argv{server_binary(), "--keystore", keystore.string(),
                                  "--vhost",
                                  "a.example=" + ws.cert.cert.string() + "," +
                                    ws.cert.key.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return Child::spawn(argv);
  };

  for (const char* listen : {"127.0.0.1:70000", "127.0.0.1:", "127.0.0.1:8x", "8443"}) {
    CAPTURE(listen);
    auto child = run({"--listen", listen});
    CHECK(exit_code_of(child) == 2);
    CHECK(child.err().find("--listen") != std::string::npos);
  }

  // A failed handshake counts as a connection too.
  auto capped = run({"--listen", "127.0.0.1:0", "--tls-max", "1.2", "--max-connections", "2"});
  const auto port = port_of(capped);
  CHECK_FALSE(s_client(port, Tls::v1_3).ok);
  CHECK(connect(port, Tls::v1_2).h.protocol == "TLSv1.2");
  CHECK(exit_code_of(capped) == 0);

  // The provider's error for a 0644 file names the flag.
  ::chmod(keystore.c_str(), 0644);
  auto refused = run({"--listen", "127.0.0.1:0"});
  CHECK(exit_code_of(refused) == 1);
  CHECK(refused.err().find("--allow-insecure-permissions") != std::string::npos);
  auto allowed = run({"--listen", "127.0.0.1:0", "--allow-insecure-permissions"});
  CHECK(connect(port_of(allowed), Tls::v1_3).key == id);
  allowed.signal(SIGINT);
  CHECK(exit_code_of(allowed) == 0);
}
