// SPDX-License-Identifier: Apache-2.0
// The fleet test of derived keystores: three real stek-server processes
// that share nothing but a derived keystore file and an oracle (a SoftHSM2
// token whose key was generated inside it, or a command) resume each
// other's sessions, follow the epochs of the wall clock, keep serving the
// epochs they hold through an oracle outage and say so, and call the
// oracle once per epoch each. Ten-second epochs keep it short; the waits
// poll for what the schedule brings (see fleet_fixture.hpp).
#include "derived/fleet_fixture.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

using namespace stek::fleet;

namespace {

// The newest epoch a server's last "oracle ok, serving epochs A to B" line
// names (B), or -1 before its first.
std::int64_t newest_served(const FleetServer& server) {
  const auto ok = server.lines("stek-server: oracle ok, serving epochs ");
  if (ok.empty()) {
    return -1;
  }
  const auto to = ok.back().find(" to ");
  return std::stoll(ok.back().substr(to + 4));
}

// The key id of the epoch a ticket taken between epochs `before` and
// `after` (of the wall clock) must carry: that of `before` or of `after`.
bool is_epoch_id(const fs::path& keystore, const std::string& id,
                 std::int64_t before, std::int64_t after) {
  return id == epoch_id(keystore, before) || id == epoch_id(keystore, after);
}

// A command oracle for the fleet: HMAC-SHA256 of stdin with openssl under
// k_command_key. Each call appends "PID PPID SHA256(message) EPOCH-HEX" to
// DIR/calls.log, where PID is $PPID of the `/bin/sh -c` the oracle runs
// (the server: the keystore's command passes it as $1) and EPOCH-HEX the
// message's last 8 bytes (u64be epoch, stekctl-keystore(5)). DIR/oracle.mode
// set to "fail" makes it exit 7, "garbage" print something that is not a
// MAC. Returns the keystore's --oracle-command.
std::string write_command_oracle(const fs::path& dir) {
  const auto script = dir / "oracle.sh";
  write_file(script,
             "dir='" + dir.string() + "'\n"
             "mode=$(cat \"$dir/oracle.mode\" 2>/dev/null)\n"
             "case $mode in\n"
             "fail) echo 'oracle.sh: failing on purpose' >&2; exit 7 ;;\n"
             "garbage) echo 'this is not a MAC'; exit 0 ;;\n"
             "esac\n"
             "msg=$(mktemp \"$dir/message.XXXXXX\") || exit 1\n"
             "cat > \"$msg\"\n"
             "digest=$(sha256sum < \"$msg\" | cut -c1-64)\n"
             "epoch=$(tail -c 8 \"$msg\" | od -An -tx1 | tr -d ' \\n')\n"
             "printf '%s %s %s %s\\n' \"$1\" \"$PPID\" \"$digest\" \"$epoch\" >> "
             "\"$dir/calls.log\"\n"
             "'" + openssl_binary() + "' mac -digest SHA256 -macopt hexkey:" +
               k_command_key + " HMAC < \"$msg\"\n"
             "rc=$?\n"
             "rm -f \"$msg\"\n"
             "exit $rc\n");
  return "sh '" + script.string() + "' \"$PPID\"";
}

struct OracleCall {
  long pid = 0;
  long ppid = 0;
  std::string digest;
  std::int64_t epoch = 0;
};

std::vector<OracleCall> oracle_calls(const fs::path& dir) {
  std::vector<OracleCall> calls;
  for (const auto& line : lines_of(read_file(dir / "calls.log"))) {
    std::istringstream in(line);
    OracleCall call;
    std::string epoch_hex;
    in >> call.pid >> call.ppid >> call.digest >> epoch_hex;
    REQUIRE_MESSAGE((!in.fail() && call.digest.size() == 64 && epoch_hex.size() == 16),
                    "bad calls.log line: " << line);
    call.epoch = static_cast<std::int64_t>(std::stoull(epoch_hex, nullptr, 16));
    calls.push_back(std::move(call));
  }
  return calls;
}

std::string server_tag(std::size_t i) { return "server-" + std::to_string(i); }

// A ticket a server issued, and the epochs of the wall clock just before
// and just after.
struct Issued {
  std::string id;
  std::int64_t before = 0;
  std::int64_t after = 0;
};

// A new session from `server` saved to `file`: its ticket names the key of
// the epoch it was issued in, and with `inspect` stekctl inspect finds that
// key in `keystore`.
Issued issue_checked(const TlsServer& server, Tls version, const fs::path& keystore,
                     const fs::path& file, bool inspect) {
  Issued issued;
  issued.before = epoch_now();
  const auto session = new_session(server, version, file);
  issued.after = epoch_now();
  issued.id = key_id_of(session.h.ticket);
  if (inspect) {
    CHECK(inspected_id(keystore, file) == issued.id);
  }
  REQUIRE(is_epoch_id(keystore, issued.id, issued.before, issued.after));
  return issued;
}

} // namespace

TEST_CASE("three stek-servers on one derived keystore and SoftHSM key "
          "resume each other's sessions, TLS 1.2 and 1.3") {
  Workspace ws;
  SoftHsm hsm("fleet");
  hsm.create_key("stek", {"--generate"});
  const auto ks = ws.path("fleet.json");
  generate_derived(ks, pkcs11_options(hsm, "stek"));
  Fleet fleet(ws, ks);

  for (const Tls version : k_versions) {
    for (std::size_t i = 0; i < fleet.size(); ++i) {
      CAPTURE(name_of(version));
      CAPTURE(server_tag(i));
      const auto file = ws.path("from-" + server_tag(i) + "-" + file_tag(version) + ".pem");
      issue_checked(fleet[i], version, ks, file, i == 0);
      for (std::size_t j = 0; j < fleet.size(); ++j) {
        const auto resumed = offer(fleet[j], version, file);
        CHECK_MESSAGE(resumed.h.reused, "a session of " << server_tag(i)
                                                        << " did not resume on "
                                                        << server_tag(j) << "\n"
                                                        << resumed.h.details());
      }
    }
  }
  MESSAGE("18 resumptions across 3 servers (6 sessions, TLS 1.2 and 1.3)");
}

TEST_CASE("after an epoch boundary new tickets carry the new epoch's key "
          "id and sessions of the previous epoch resume on every server") {
  Workspace ws;
  SoftHsm hsm("fleet");
  hsm.create_key("stek", {"--generate"});
  const auto ks = ws.path("fleet.json");
  generate_derived(ks, pkcs11_options(hsm, "stek"));
  Fleet fleet(ws, ks);

  // Sessions of the current epoch, one per version, from server 0.
  std::map<Tls, fs::path> old_session;
  std::map<Tls, std::string> old_id;
  std::int64_t old_epoch = 0;
  for (const Tls version : k_versions) {
    old_session[version] = ws.path("old-" + file_tag(version) + ".pem");
    const auto issued = issue_checked(fleet[0], version, ks, old_session[version], true);
    old_id[version] = issued.id;
    old_epoch = std::max(old_epoch,
                         issued.id == epoch_id(ks, issued.before) ? issued.before : issued.after);
  }
  MESSAGE("old sessions: epoch " << old_epoch << ", TLS 1.2 key " << old_id[Tls::v1_2]
                                 << ", TLS 1.3 key " << old_id[Tls::v1_3]);

  // Every server fetches the next epoch ahead of its start; then the clock
  // crosses into it.
  const auto next = old_epoch + 1;
  wait_until(
    [&] {
      for (std::size_t i = 0; i < fleet.size(); ++i) {
        if (newest_served(fleet[i]) < next) {
          return false;
        }
      }
      return epoch_now() >= next;
    },
    "every server to hold epoch " + std::to_string(next) + " and the clock to reach it",
    [&] { return fleet.outputs(); });

  const auto next_id = epoch_id(ks, next);
  CHECK(next_id != old_id[Tls::v1_2]);
  for (std::size_t i = 0; i < fleet.size(); ++i) {
    for (const Tls version : k_versions) {
      CAPTURE(name_of(version));
      CAPTURE(server_tag(i));
      const auto file = ws.path("new-" + server_tag(i) + "-" + file_tag(version) + ".pem");
      const auto issued = issue_checked(fleet[i], version, ks, file, i == 0);
      CHECK(issued.before >= next);
      CHECK(issued.id != old_id[version]);
      if (i == 0) {
        MESSAGE(name_of(version) << " ticket after the boundary: epoch " << issued.before
                                 << " key " << issued.id << " (list: " << next_id << ")");
      }
    }
  }
  // The previous epoch's sessions still resume everywhere, decrypted with
  // the previous epoch's key.
  for (std::size_t j = 0; j < fleet.size(); ++j) {
    for (const Tls version : k_versions) {
      CAPTURE(name_of(version));
      CAPTURE(server_tag(j));
      const auto resumed = offer(fleet[j], version, old_session[version]);
      CHECK_MESSAGE(resumed.h.reused, resumed.h.details());
      CHECK_MESSAGE(!fleet[j].lines("reused=1 protocol=" +
                                    std::string(version == Tls::v1_2 ? "TLSv1.2"
                                                                     : "TLSv1.3") +
                                    " resumed_with=" + old_id[version])
                       .empty(),
                    fleet[j].output());
    }
  }
}

TEST_CASE("the HSM key is sensitive and never extractable, and its value "
          "cannot be read") {
  SoftHsm hsm("fleet");
  hsm.create_key("stek", {"--generate"});
  const auto lines = hsm.show_key("stek");
  std::map<std::string, std::string> attributes;
  std::string shown;
  for (const auto& line : lines) {
    const auto eq = line.find('=');
    REQUIRE(eq != std::string::npos);
    attributes[line.substr(0, eq)] = line.substr(eq + 1);
    shown += "  " + line + "\n";
  }
  MESSAGE("stek-test-hsm show-key (the fleet's key):\n" << shown);
  CHECK(attributes["class"] == "secret-key");
  CHECK(attributes["value_len"] == "32");
  CHECK(attributes["sign"] == "true");
  CHECK(attributes["sensitive"] == "true");
  CHECK(attributes["extractable"] == "false");
  CHECK(attributes["always_sensitive"] == "true");
  CHECK(attributes["never_extractable"] == "true");
  CHECK(attributes["value"].starts_with("unreadable"));
  CHECK(attributes["value"].find("CKR_ATTRIBUTE_SENSITIVE") != std::string::npos);
}

TEST_CASE("through an oracle outage servers resume held epochs, report "
          "the oracle failing by name, and recover") {
  Workspace ws;
  SoftHsm hsm("fleet");
  hsm.create_key("stek", {"--generate"});
  const auto ks = ws.path("fleet.json");
  generate_derived(ks, pkcs11_options(hsm, "stek"));
  Fleet fleet(ws, ks);

  // Every server fetched what it holds at start (Fleet waits for it).
  std::map<Tls, fs::path> held;
  for (const Tls version : k_versions) {
    held[version] = ws.path("held-" + file_tag(version) + ".pem");
    new_session(fleet[version == Tls::v1_2 ? 1 : 2], version, held[version]);
  }

  // Break the oracle: the PIN file (read on each call) now has a wrong PIN.
  const std::string wrong_pin = "wrong-pin-0000";
  write_file(hsm.pin_file(), wrong_pin + "\n");
  // A server logs an outage when it starts ("oracle failing") and a new
  // error during one ("oracle still failing"): SoftHSM may have made a
  // short one of its own before (a token it briefly did not list).
  const auto pin_failure = [&](std::size_t i) -> std::string {
    for (const auto& line : fleet[i].lines("CKR_PIN_INCORRECT")) {
      if (line.starts_with("stek-server: oracle failing") ||
          line.starts_with("stek-server: oracle still failing")) {
        return line;
      }
    }
    return {};
  };
  wait_until(
    [&] {
      for (std::size_t i = 0; i < fleet.size(); ++i) {
        if (pin_failure(i).empty()) {
          return false;
        }
      }
      return true;
    },
    "every server to report the oracle failing", [&] { return fleet.outputs(); });
  const std::string oracle = "pkcs11 oracle (module " + SoftHsm::module() +
                             ", token fleet, key stek): cannot log in to token "
                             "'fleet' (CKR_PIN_INCORRECT)";
  for (std::size_t i = 0; i < fleet.size(); ++i) {
    const auto failing = pin_failure(i);
    CAPTURE(failing);
    CHECK(failing.find(oracle) != std::string::npos);
    if (i == 0) {
      MESSAGE(server_tag(i) << ": " << failing);
    }
  }
  // Sessions of the epochs held still resume on every server.
  for (std::size_t j = 0; j < fleet.size(); ++j) {
    for (const Tls version : k_versions) {
      CAPTURE(name_of(version));
      CAPTURE(server_tag(j));
      const auto resumed = offer(fleet[j], version, held[version]);
      CHECK_MESSAGE(resumed.h.reused, resumed.h.details());
    }
  }

  // Fix it: every server recovers on a retry and issues tickets of the
  // current epoch again, which the others resume.
  write_file(hsm.pin_file(), std::string(SoftHsm::k_user_pin) + "\n");
  const auto recovery = [&](std::size_t i) -> std::string {
    const auto out = fleet[i].current_output();
    const auto at = out.find("stek-server: oracle recovered", out.find(pin_failure(i)));
    return at == std::string::npos ? std::string()
                                   : out.substr(at, out.find('\n', at) - at);
  };
  wait_until(
    [&] {
      for (std::size_t i = 0; i < fleet.size(); ++i) {
        if (recovery(i).empty()) {
          return false;
        }
      }
      return true;
    },
    "every server to recover", [&] { return fleet.outputs(); });
  MESSAGE(server_tag(0) << ": " << recovery(0));
  for (std::size_t i = 0; i < fleet.size(); ++i) {
    // A new epoch may have started during the outage; the server fetches
    // it on recovery, and then issues tickets under it.
    const auto file = ws.path("after-" + server_tag(i) + ".pem");
    wait_until(
      [&] {
        const auto before = epoch_now();
        const auto s = connect(fleet[i], Tls::v1_3, {.sess_out = file});
        const auto after = epoch_now();
        return !s.h.ticket.empty() && is_epoch_id(ks, key_id_of(s.h.ticket), before, after);
      },
      server_tag(i) + " to issue tickets of the current epoch",
      [&] { return fleet.outputs(); });
    const auto resumed = offer(fleet[(i + 1) % fleet.size()], Tls::v1_3, file);
    CHECK_MESSAGE(resumed.h.reused, resumed.h.details());
  }
  for (std::size_t i = 0; i < fleet.size(); ++i) {
    const auto out = fleet[i].output();
    CHECK(out.find(wrong_pin) == std::string::npos);
    CHECK(out.find(SoftHsm::k_user_pin) == std::string::npos);
  }
}

TEST_CASE("stekctl exits 1 naming the oracle when it fails: module "
          "missing, wrong PIN, command failing, command printing garbage") {
  Workspace ws;
  SoftHsm hsm("fleet");
  hsm.create_key("stek", {"--generate"});

  const auto expect_failure = [&](const ProcessResult& r, const std::string& oracle,
                                  const std::string& why) {
    CAPTURE(describe(r));
    CHECK(r.code == 1);
    CHECK(r.err.find("stekctl: error: " + oracle) != std::string::npos);
    CHECK(r.err.find(why) != std::string::npos);
    CHECK(r.err.find(SoftHsm::k_user_pin) == std::string::npos);
    MESSAGE((r.err.empty() ? std::string("(nothing on stderr)") : lines_of(r.err).front()));
  };
  const auto export_to = [&](const fs::path& keystore, const std::string& out) {
    return stekctl({"export", keystore.string(), "--format", "nginx", "--out",
                    ws.path(out).string()});
  };

  SUBCASE("the PKCS#11 module is missing") {
    // generate checks the oracle once and writes nothing.
    const auto missing = ws.path("gone/libsofthsm2.so");
    std::vector<std::string> args{"generate", ws.path("a.json").string(), "--derive"};
    args.insert(args.end(), k_policy.begin(), k_policy.end());
    args.insert(args.end(), {"--pkcs11-module", missing.string(), "--pkcs11-token",
                             "fleet", "--pkcs11-key", "stek", "--pkcs11-pin-file",
                             hsm.pin_file().string()});
    expect_failure(stekctl(args), "pkcs11 oracle (module " + missing.string(),
                   "cannot load the PKCS#11 module");
    CHECK(!fs::exists(ws.path("a.json")));
    // export of a keystore whose module went away.
    const auto copy = ws.path("lib/libsofthsm2.so");
    fs::create_directories(copy.parent_path());
    fs::copy_file(SoftHsm::module(), copy);
    const auto ks = ws.path("b.json");
    auto options = pkcs11_options(hsm, "stek");
    options[1] = copy.string();
    generate_derived(ks, options);
    fs::remove(copy);
    expect_failure(export_to(ks, "out-b"), "pkcs11 oracle (module " + copy.string(),
                   "cannot load the PKCS#11 module");
    CHECK(!fs::exists(ws.path("out-b")));
  }
  SUBCASE("the PIN is wrong") {
    const auto ks = ws.path("c.json");
    generate_derived(ks, pkcs11_options(hsm, "stek"));
    REQUIRE(export_to(ks, "out-good").code == 0);
    write_file(hsm.pin_file(), "wrong-pin-0000\n");
    const std::string oracle = "pkcs11 oracle (module " + SoftHsm::module() +
                               ", token fleet, key stek)";
    const auto r = export_to(ks, "out-c");
    expect_failure(r, oracle, "CKR_PIN_INCORRECT");
    CHECK(r.err.find("wrong-pin-0000") == std::string::npos);
    CHECK(!fs::exists(ws.path("out-c")));
    std::vector<std::string> args{"generate", ws.path("d.json").string(), "--derive"};
    args.insert(args.end(), k_policy.begin(), k_policy.end());
    const auto options = pkcs11_options(hsm, "stek");
    args.insert(args.end(), options.begin(), options.end());
    expect_failure(stekctl(args), oracle, "CKR_PIN_INCORRECT");
    CHECK(!fs::exists(ws.path("d.json")));
  }
  SUBCASE("the command exits non-zero or prints garbage") {
    const auto command = write_command_oracle(ws.dir);
    const auto ks = ws.path("e.json");
    generate_derived(ks, {"--oracle-command", command, "--oracle-output", "hex"});
    REQUIRE(export_to(ks, "out-good").code == 0);
    // The description shortens a long command.
    const std::string oracle = "command oracle (sh '";
    write_file(ws.path("oracle.mode"), "fail\n");
    expect_failure(export_to(ks, "out-fail"), oracle, "exited with status 7");
    CHECK(!fs::exists(ws.path("out-fail")));
    write_file(ws.path("oracle.mode"), "garbage\n");
    expect_failure(export_to(ks, "out-garbage"), oracle, "not hex");
    CHECK(!fs::exists(ws.path("out-garbage")));
    // generate --derive checks the command once.
    std::vector<std::string> args{"generate", ws.path("f.json").string(), "--derive"};
    args.insert(args.end(), k_policy.begin(), k_policy.end());
    args.insert(args.end(), {"--oracle-command", "exit 3"});
    expect_failure(stekctl(args), "command oracle (exit 3)", "exited with status 3");
    CHECK(!fs::exists(ws.path("f.json")));
  }
}

TEST_CASE("each server calls the oracle once per epoch") {
  Workspace ws;
  const auto command = write_command_oracle(ws.dir);
  const auto ks = ws.path("fleet.json");
  generate_derived(ks, {"--oracle-command", command, "--oracle-output", "hex"});

  const auto first_start = epoch_now();
  Fleet fleet(ws, ks);
  const auto last_start = epoch_now();
  std::map<long, std::size_t> server_of;
  for (std::size_t i = 0; i < fleet.size(); ++i) {
    server_of[static_cast<long>(fleet[i].pid())] = i;
  }
  // A session from the start, to offer at the end.
  const auto early = ws.path("early.pem");
  new_session(fleet[0], Tls::v1_3, early);

  // Run across two epoch boundaries, until every server has fetched the
  // epoch the clock is in.
  std::int64_t end_epoch = 0;
  wait_until(
    [&] {
      end_epoch = epoch_now();
      if (end_epoch < last_start + 2) {
        return false;
      }
      std::set<long> fetched;
      for (const auto& call : oracle_calls(ws.dir)) {
        if (call.epoch == end_epoch) {
          fetched.insert(call.pid);
        }
      }
      return std::all_of(server_of.begin(), server_of.end(),
                         [&](const auto& s) { return fetched.contains(s.first); });
    },
    "every server to fetch two more epochs", [&] { return fleet.outputs(); });
  const auto resumed = offer(fleet[2], Tls::v1_3, early);
  CHECK_MESSAGE(resumed.h.reused, resumed.h.details());

  // Stop them, so that no call is under way while the log is read.
  std::vector<std::size_t> oks;
  for (std::size_t i = 0; i < fleet.size(); ++i) {
    fleet[i].stop();
  }
  for (std::size_t i = 0; i < fleet.size(); ++i) {
    oks.push_back(fleet[i].lines("stek-server: oracle ok").size());
    CHECK(fleet[i].lines("oracle failing").empty());
  }

  const auto calls = oracle_calls(ws.dir);
  // pid -> epoch -> digests; and the digest of each epoch, fleet-wide.
  std::map<long, std::map<std::int64_t, std::vector<std::string>>> by_server;
  std::map<std::int64_t, std::set<std::string>> digests_of_epoch;
  std::size_t others = 0;
  std::set<long> ppids;
  for (const auto& call : calls) {
    if (!server_of.contains(call.pid)) {
      ++others; // stekctl generate's check
      continue;
    }
    by_server[call.pid][call.epoch].push_back(call.digest);
    digests_of_epoch[call.epoch].insert(call.digest);
    ppids.insert(call.ppid);
  }
  CHECK(others == 1);
  MESSAGE("PIDs of the servers: " << [&] {
    std::string s;
    for (const auto& [pid, i] : server_of) {
      s += std::to_string(pid) + " ";
    }
    return s;
  }() << "; $PPID inside oracle.sh (the parent of `sh oracle.sh`): "
      << [&] {
           std::string s;
           for (const long p : ppids) {
             s += std::to_string(p) + " ";
           }
           return s;
         }());
  REQUIRE(by_server.size() == fleet.size());
  for (const auto& [pid, epochs] : by_server) {
    const auto i = server_of.at(pid);
    CAPTURE(server_tag(i));
    std::ostringstream counts;
    std::set<std::string> seen;
    for (const auto& [epoch, digests] : epochs) {
      counts << " " << epoch << "x" << digests.size();
      // Exactly one call per epoch, and no message twice.
      CHECK_MESSAGE(digests.size() == 1, "epoch " << epoch << " called "
                                                  << digests.size() << " times");
      for (const auto& d : digests) {
        CHECK_MESSAGE(seen.insert(d).second, "message " << d << " MACed twice");
      }
    }
    const auto first = epochs.begin()->first;
    const auto last = epochs.rbegin()->first;
    MESSAGE(server_tag(i) << " (pid " << pid << "): " << epochs.size()
                          << " calls for epochs " << first << ".." << last
                          << " (started in " << first_start << ".." << last_start
                          << ", stopped in " << end_epoch << "); epoch x calls:"
                          << counts.str());
    // At start: every epoch still decrypting (the current one and the 6
    // before it, 10 s + 60 s), then each new one once, with no gap.
    CHECK(first >= first_start - 6);
    CHECK(first <= last_start - 6);
    CHECK(last >= end_epoch);
    CHECK(last >= last_start + 2);
    CHECK(epochs.size() == static_cast<std::size_t>(last - first + 1));
    // Every call the oracle saw was one the server logged as a fetch.
    CHECK(oks.at(i) == epochs.size());
  }
  // The same epoch is the same message on every server.
  for (const auto& [epoch, digests] : digests_of_epoch) {
    CHECK_MESSAGE(digests.size() == 1, "epoch " << epoch << " has "
                                                << digests.size() << " messages");
  }
}
