// SPDX-License-Identifier: Apache-2.0
#pragma once

// What the fleet test (test_fleet.cpp) starts from: a derived keystore with
// ten-second epochs, made by the real stekctl for a SoftHSM2 key or a
// command oracle, and three stek-server processes on it, each on its own
// loopback port with the same certificate (they are one fleet). The
// servers are the interop harness's TlsServer (tests/interop/harness.hpp):
// free ports, readiness by a TLS handshake, stdout and stderr in
// DIR/output.log, stopped (SIGTERM, then SIGKILL) when destroyed, also when
// a check fails. The client is `openssl s_client` through the harness.
//
// Nothing here waits a fixed time: every wait polls for its condition
// with a generous deadline, since the machine may be loaded.

#include "derived/softhsm_fixture.hpp"
#include "interop/harness.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace stek::fleet {

using namespace stek::interop;
using stek::test::SoftHsm;

// Ten-second epochs, fetched in the first half of a 4 s publish-ahead
// window, decrypting for a minute after they stop encrypting: a server
// holds 7 or 8 epochs (policy validation allows up to 1000).
inline constexpr std::int64_t k_rotate_seconds = 10;
inline const std::vector<std::string> k_policy = {
  "--fleet", "web", "--rotate-every", "10s", "--publish-ahead", "4s",
  "--decrypt-for", "60s"};
// How long a wait for something the schedule brings may take: an epoch or
// two, and then some for a loaded machine.
inline constexpr auto k_epoch_deadline = 45s;

// The HMAC key of the command oracle (the PKCS#11 oracle's key is generated
// in the token and never seen).
inline constexpr const char* k_command_key =
  "5f0e2b7c9a14d3e6081f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f";

inline std::string openssl_binary() {
  return require_program(STEK_FLEET_OPENSSL, "openssl");
}

// The epoch the wall clock is in now: floor(unix time / 10 s).
inline std::int64_t epoch_now() {
  const auto t = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  return t >= 0 ? t / k_rotate_seconds : (t - k_rotate_seconds + 1) / k_rotate_seconds;
}

// Poll `done` every 100 ms until it is true or `deadline` passed; REQUIRE
// it, naming `what` and showing `detail()`.
inline void wait_until(const std::function<bool()>& done, const std::string& what,
                       const std::function<std::string()>& detail = {},
                       stek::interop::Clock::duration deadline = k_epoch_deadline) {
  const auto end = stek::interop::Clock::now() + deadline;
  while (!done()) {
    if (stek::interop::Clock::now() >= end) {
      FAIL("timed out waiting for " << what << "\n" << (detail ? detail() : ""));
    }
    std::this_thread::sleep_for(100ms);
  }
}

// The lines of `text` that contain `part`.
inline std::vector<std::string> lines_with(const std::string& text,
                                           const std::string& part) {
  std::vector<std::string> out;
  for (auto& line : lines_of(text)) {
    if (line.find(part) != std::string::npos) {
      out.push_back(std::move(line));
    }
  }
  return out;
}

// `stekctl generate KEYSTORE --derive` with the fleet policy and `oracle`
// (the --pkcs11-* or --oracle-* options), required to succeed.
inline void generate_derived(const fs::path& keystore, std::vector<std::string> oracle) {
  std::vector<std::string> args{"generate", "--quiet", keystore.string(), "--derive"};
  args.insert(args.end(), k_policy.begin(), k_policy.end());
  args.insert(args.end(), oracle.begin(), oracle.end());
  const auto r = stekctl(args);
  REQUIRE_MESSAGE(r.code == 0, describe(r));
}

// The --pkcs11-* options for key `key` in `hsm`.
inline std::vector<std::string> pkcs11_options(const SoftHsm& hsm, const std::string& key) {
  return {"--pkcs11-module", SoftHsm::module(), "--pkcs11-token", hsm.token(),
          "--pkcs11-key", key, "--pkcs11-pin-file", hsm.pin_file().string()};
}

// Epoch -> key id of every epoch `stekctl list --json` shows at `at` (no
// oracle call: ids are public).
inline std::map<std::int64_t, std::string> listed_epochs(const fs::path& keystore,
                                                         const std::string& at) {
  const auto r = stekctl({"list", "--json", "--at", at, keystore.string()});
  REQUIRE_MESSAGE(r.code == 0, describe(r));
  const auto doc = stek::test::parse_json(r.out);
  REQUIRE_MESSAGE(doc.is_object(), r.out);
  std::map<std::int64_t, std::string> out;
  for (const auto& key : doc.at("keys")) {
    out[key.at("epoch").get<std::int64_t>()] = key.at("id").get<std::string>();
  }
  return out;
}

// The key id of epoch `n` per `stekctl list --at` (a time inside it).
inline std::string epoch_id(const fs::path& keystore, std::int64_t n) {
  const auto at = std::chrono::sys_seconds{std::chrono::seconds{n * k_rotate_seconds}};
  const auto ids = listed_epochs(keystore, stek::test::format_utc(at));
  const auto found = ids.find(n);
  REQUIRE_MESSAGE(found != ids.end(), "stekctl list shows no epoch " << n);
  return found->second;
}

// What `stekctl inspect --json --keystore KEYSTORE SESSION` says of the
// ticket in a saved session: its key id, which must be one of the
// keystore's (match "found", the same id). Inspect derives the key through
// the oracle to open the ticket. A one-shot process that meets SoftHSM's
// start-up race (see FleetServer::start_and_fetch) has no later call to
// recover on, so that case is run again.
inline std::string inspected_id(const fs::path& keystore, const fs::path& session) {
  ProcessResult r;
  for (int attempt = 1;; ++attempt) {
    r = stekctl({"inspect", "--json", "--keystore", keystore.string(),
                 session.string()});
    if (r.code == 0 || r.err.find("CKR_TOKEN_NOT_PRESENT") == std::string::npos ||
        attempt == 3) {
      break;
    }
    MESSAGE("stekctl inspect: SoftHSM showed no token; retrying:\n" << r.err);
  }
  REQUIRE_MESSAGE(r.code == 0, describe(r));
  const auto doc = stek::test::parse_json(r.out);
  REQUIRE_MESSAGE(doc.is_object(), r.out);
  const auto id = doc.value("key_id", "");
  REQUIRE_MESSAGE(id.size() == 32, r.out);
  REQUIRE_MESSAGE(doc.contains("key"), r.out);
  CHECK_MESSAGE(doc["key"].value("match", "") == "found", r.out);
  CHECK_MESSAGE(doc["key"].value("id", "") == id, r.out);
  return id;
}

// One stek-server of the fleet on `keystore`, serving a.example with the
// workspace's certificate.
class FleetServer : public TlsServer {
public:
  FleetServer(const fs::path& dir, const Certificate& cert, const fs::path& keystore)
    : TlsServer(make_spec(dir, cert, fs::absolute(keystore))) {}

  // Its output (stdout and stderr) since it last started.
  std::string current_output() const {
    auto all = output();
    const auto start = all.rfind("### start ");
    return start == std::string::npos ? all : all.substr(start);
  }

  // The lines of current_output() that contain `part`.
  std::vector<std::string> lines(const std::string& part) const {
    return lines_with(current_output(), part);
  }

  // Start it and wait until it has fetched the 7 epochs it holds at start
  // (the current one and the 6 before it that still decrypt).
  //
  // SoftHSM2 initialized (C_Initialize) while another process uses the
  // same token sometimes lists no token (18 of 80 runs of 4 concurrent
  // `stek-test-hsm show-key` here); the oracle then initializes the module
  // again on its next call, so a server that starts that way catches up
  // on its first retry a second later, which this wait allows for.
  void start_and_fetch() {
    start();
    wait_until([&] { return lines("stek-server: oracle ok").size() >= 7; },
               name() + " to fetch the epochs it holds", [&] { return output(); });
  }

private:
  static Spec make_spec(const fs::path& dir, const Certificate& cert,
                        const fs::path& keystore) {
    Spec spec;
    spec.name = "stek-server " + dir.filename().string();
    spec.dir = fs::absolute(dir);
    spec.cert = cert;
    spec.command = [cert, keystore](std::uint16_t port) {
      return std::vector<std::string>{
        require_program(STEK_SERVER_BINARY, "stek-server"), "--keystore",
        keystore.string(), "--listen", "127.0.0.1:" + std::to_string(port),
        "--vhost", "a.example=" + cert.cert.string() + "," + cert.key.string()};
    };
    spec.ready = [](TlsServer& server) -> std::string {
      const auto out = server.output();
      const auto start = out.rfind("### start ");
      return out.find("stek-server: listening on",
                      start == std::string::npos ? 0 : start) != std::string::npos
               ? std::string()
               : "it serves but never said \"listening on\"";
    };
    return spec;
  }
};

// Three servers on one keystore, started one after the other, each once
// it fetched its first epochs; stopped when destroyed.
struct Fleet {
  std::vector<std::unique_ptr<FleetServer>> servers;

  Fleet(const Workspace& ws, const fs::path& keystore, int size = 3) {
    for (int i = 0; i < size; ++i) {
      servers.push_back(std::make_unique<FleetServer>(
        ws.path("server-" + std::to_string(i)), ws.cert, keystore));
      servers.back()->start_and_fetch();
    }
  }
  FleetServer& operator[](std::size_t i) { return *servers.at(i); }
  std::size_t size() const { return servers.size(); }
  // Every server's output, for failure messages.
  std::string outputs() const {
    std::string all;
    for (const auto& s : servers) {
      all += "--- " + s->name() + " (port " + std::to_string(s->port()) + ") ---\n" +
             s->output();
    }
    return all;
  }
};

// One connection and what the server answered ("hello from VHOST
// reused=0|1 key=ID|-": the key of the ticket it issued, else of the one
// it resumed with).
struct Served {
  Handshake h;
  std::string key;
};

// The word after `label` in `text` ("" if there is none).
inline std::string word_after(const std::string& text, const std::string& label) {
  const auto at = text.find(label);
  if (at == std::string::npos) {
    return {};
  }
  const auto start = at + label.size();
  return text.substr(start, text.find_first_of(" \r\n", start) - start);
}

inline Served connect(const TlsServer& server, Tls version,
                      const ClientOptions& options = {}) {
  Served s{s_client(server.port(), version, options), {}};
  REQUIRE_MESSAGE(s.h.ok, server.name() << ": " << s.h.details());
  const auto answer =
    s.h.out.substr(std::min(s.h.out.find("hello from "), s.h.out.size()));
  const auto reused = word_after(answer, " reused=");
  s.key = word_after(answer, " key=");
  REQUIRE_MESSAGE((reused == "0" || reused == "1"), s.h.details());
  CHECK_MESSAGE((reused == "1") == s.h.reused, s.h.details());
  return s;
}

// A full handshake whose session (with a ticket) goes to `file`; the key
// the server says it used is the one the ticket names.
inline Served new_session(const TlsServer& server, Tls version, const fs::path& file) {
  auto s = connect(server, version, {.sess_out = file});
  REQUIRE_MESSAGE(!s.h.reused, s.h.details());
  REQUIRE_MESSAGE(!s.h.ticket.empty(), "no ticket from " << server.name() << "\n"
                                                         << s.h.details());
  CHECK(s.key == key_id_of(s.h.ticket));
  return s;
}

// Offer the session saved in `file` (which stays as it is).
inline Served offer(const TlsServer& server, Tls version, const fs::path& file) {
  return connect(server, version, {.sess_in = file});
}

} // namespace stek::fleet
