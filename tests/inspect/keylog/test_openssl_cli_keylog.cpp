// SPDX-License-Identifier: Apache-2.0
// A key log written by the real `openssl s_client -keylogfile` (against an
// `openssl s_server` on 127.0.0.1) parses, and every line is found again.
#include <stek/inspect/keylog.hpp>

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace {

// Return a port that was free a moment ago.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  socklen_t size = sizeof address;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0);
  ::close(fd);
  return ntohs(address.sin_port);
}

int run(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::array<std::uint8_t, 32> random_of(const std::string& hex) {
  std::array<std::uint8_t, 32> out{};
  for (std::size_t i = 0; i < 32; ++i) {
    out[i] = static_cast<std::uint8_t>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  }
  return out;
}

} // namespace

TEST_CASE("stek::inspect::Keylog::load reads what openssl s_client -keylogfile writes") {
  const std::string openssl = STEK_OPENSSL_EXECUTABLE;
  if (openssl.empty()) {
    MESSAGE("openssl(1) not found at configure time; not run");
    return;
  }
  REQUIRE(run("'" + openssl + "' req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
              "-nodes -keyout key.pem -out cert.pem -subj /CN=test -days 1 "
              ">req.log 2>&1") == 0);
  const std::string port = std::to_string(free_port());
  // One connection, then s_server exits by itself; `timeout` bounds it.
  REQUIRE(run("timeout 60 '" + openssl + "' s_server -accept 127.0.0.1:" + port +
              " -cert cert.pem -key key.pem -tls1_3 -naccept 1 -quiet "
              "</dev/null >server.log 2>&1 & echo $! >server.pid") == 0);
  bool connected = false;
  for (int attempt = 0; attempt < 100 && !connected; ++attempt) {
    std::remove("client.keylog");
    connected = run("echo hello | timeout 10 '" + openssl + "' s_client -connect 127.0.0.1:" +
                    port + " -tls1_3 -keylogfile client.keylog >client.log 2>&1") == 0 &&
                read_text("client.keylog").find("SERVER_TRAFFIC_SECRET_0") != std::string::npos;
    if (!connected) {
      ::usleep(100000);
    }
  }
  const int server_pid = std::atoi(read_text("server.pid").c_str());
  if (server_pid > 0) {
    ::kill(server_pid, SIGTERM); // ours; usually gone already
  }
  REQUIRE_MESSAGE(connected, read_text("client.log"));

  const std::string text = read_text("client.keylog");
  CHECK(text.starts_with("#")); // OpenSSL's header comment
  auto log = stek::inspect::Keylog::load("client.keylog");
  REQUIRE_MESSAGE(log.ok(), (log.ok() ? "" : log.error().message));
  std::istringstream in(text);
  std::size_t entries = 0;
  std::array<std::uint8_t, 32> random{};
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') {
      continue;
    }
    std::istringstream fields(line);
    std::string label, random_hex, secret_hex;
    fields >> label >> random_hex >> secret_hex;
    REQUIRE(random_hex.size() == 64);
    random = random_of(random_hex);
    const stek::SecretBytes* secret = log->find(label, random);
    REQUIRE_MESSAGE(secret != nullptr, label);
    // TLS_AES_256_GCM_SHA384, OpenSSL's first choice: 48-byte secrets.
    CHECK(secret->size() == secret_hex.size() / 2);
    CHECK(secret->size() == 48);
    ++entries;
  }
  CHECK(entries >= 5);
  CHECK(log->size() == entries);
  auto factory = stek::inspect::make_keylog_decryptors(*log);
  CHECK(factory->for_connection(random, 0x1302) != nullptr);
  CHECK(factory->for_connection(random, 0x1301) == nullptr);
}
