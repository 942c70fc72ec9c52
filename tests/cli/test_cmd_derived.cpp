// SPDX-License-Identifier: Apache-2.0
// Derived keystores from the command line: generate --derive, list, export,
// inspect and check, with `openssl mac` standing in for a KMS, and the
// commands that do not apply (rotate, revoke, import) refusing clearly.
#include "support/cli.hpp"
#include "support/files.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <fstream>
#include <sstream>

using stek::test::contains;
using stek::test::run_cli;

namespace {

constexpr const char* k_at = "2026-11-29T10:30:00Z";
constexpr const char* k_hex_key =
  "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

// The oracle: `openssl mac` under a known key, counting its calls in
// calls.log so tests can see how often a command asked.
std::string oracle_command(const std::string& key = k_hex_key) {
  return "echo call >> calls.log; openssl mac -digest SHA256 -macopt hexkey:" +
         key + " HMAC";
}

std::size_t oracle_calls() {
  std::ifstream in("calls.log");
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
  }
  std::filesystem::remove("calls.log");
  return n;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Tests share one directory: each starts from no keystore and no calls.
stek::test::CliResult generate_derived(std::vector<std::string> extra = {}) {
  std::filesystem::remove("fleet.json");
  std::filesystem::remove("calls.log");
  std::vector<std::string> args{"generate", "--quiet", "--at", k_at, "fleet.json",
                                "--derive", "--fleet", "web", "--rotate-every", "1h",
                                "--publish-ahead", "10m", "--decrypt-for", "2h",
                                "--oracle-command", oracle_command(),
                                "--oracle-output", "hex"};
  args.insert(args.end(), extra.begin(), extra.end());
  return run_cli(args);
}

} // namespace

TEST_CASE("generate --derive writes policy and oracle, no secret, after one oracle call") {
  const auto r = generate_derived();
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(oracle_calls() == 1);
  const auto doc = nlohmann::json::parse(read_text("fleet.json"));
  CHECK(doc["stek_keystore"] == 1);
  CHECK(!doc.contains("keys"));
  CHECK(doc["derived"]["fleet"] == "web");
  CHECK(doc["derived"]["generation"] == 1);
  CHECK(doc["derived"]["oracle"]["type"] == "command");
  CHECK(doc["derived"]["oracle"]["output"] == "hex");
  CHECK(doc["policy"]["rotate_every"] == "1h");
  struct stat st {};
  REQUIRE(::stat("fleet.json", &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("generate --derive: a failing oracle writes nothing and names the oracle") {
  std::filesystem::remove("fleet.json");
  for (const std::string command : {"exit 3", "echo not-a-mac", "echo 0011"}) {
    CAPTURE(command);
    const auto r = run_cli({"generate", "--at", k_at, "fleet.json", "--derive",
                            "--fleet", "web", "--oracle-command", command});
    CHECK(r.code == 1);
    CHECK(contains(r.err, "stekctl: error: command oracle ("));
    CHECK(!std::filesystem::exists("fleet.json"));
  }
  // --no-oracle-check trusts the configuration.
  CHECK(run_cli({"generate", "--quiet", "--at", k_at, "fleet.json", "--derive",
                 "--fleet", "web", "--oracle-command", "exit 3",
                 "--no-oracle-check"})
          .code == 0);
}

TEST_CASE("generate --derive: usage errors name the option") {
  std::filesystem::remove("f.json");
  auto r = run_cli({"generate", "--at", k_at, "f.json", "--derive",
                    "--oracle-command", "true"});
  CHECK(r.code == 2);
  CHECK(contains(r.err, "--fleet"));
  r = run_cli({"generate", "--at", k_at, "f.json", "--derive", "--fleet", "web"});
  CHECK(r.code == 2);
  CHECK(contains(r.err, "needs an oracle"));
  r = run_cli({"generate", "--at", k_at, "f.json", "--derive", "--fleet", "bad name",
               "--oracle-command", "true"});
  CHECK(r.code == 2);
  CHECK(contains(r.err, "--fleet must be 1 to 64 characters"));
  r = run_cli({"generate", "--at", k_at, "f.json", "--derive", "--fleet", "web",
               "--pkcs11-module", "/x.so", "--pkcs11-token", "t", "--pkcs11-key", "k"});
  CHECK(r.code == 2);
  CHECK(contains(r.err, "--pkcs11-pin-file"));
  r = run_cli({"generate", "--at", k_at, "f.json", "--fleet", "web"});
  CHECK(r.code == 2);
  CHECK(contains(r.err, "need --derive"));
  // Every epoch is an oracle call: a second-long epoch with a day of
  // decryption would be 86,400 of them.
  r = run_cli({"generate", "--at", k_at, "f.json", "--derive", "--fleet", "web",
               "--oracle-command", "true", "--rotate-every", "1m", "--decrypt-for", "1d"});
  CHECK(r.code == 2);
  CHECK(contains(r.err, "too short for a derived keystore"));
  CHECK(!std::filesystem::exists("f.json"));
}

TEST_CASE("the derivation follows the documented encoding (stekctl-keystore(5))") {
  // Worked out by hand from the man page, not by the code under test:
  // message = "stekctl derived STEK v1" 00 | 03 "web" | u32 1 | u64 3600 |
  // u64 498874 (10:30 on 2026-11-29 is in epoch 498874 of an hour).
  REQUIRE(generate_derived({"--no-sni-binding"}).code == 0);
  REQUIRE(run_cli({"export", "--quiet", "--at", k_at, "fleet.json", "--format", "go",
                   "--out", "go.keys"})
            .code == 0);
  // Go's file lists the encrypting key first: epoch 498874's material,
  // HMAC-SHA256 under the oracle key, as it is.
  const auto text = read_text("go.keys");
  CHECK(text.substr(0, text.find('\n')) == "vdyLXDtGkJAe01Mg4bT3yB4526/EL3/TWUCPTdl3s3w=");
  // The id is the first half of SHA-256 of the id label and the same fields.
  const auto listed = run_cli({"list", "--json", "--at", k_at, "fleet.json"});
  const auto doc = nlohmann::json::parse(listed.out);
  bool found = false;
  for (const auto& key : doc["keys"]) {
    if (key["encrypting"] == true) {
      found = true;
      CHECK(key["id"] == "0396d39c990f781cc922451ebfb75635");
      CHECK(key["epoch"] == 498874);
    }
  }
  CHECK(found);
}

TEST_CASE("list shows past, current and coming epochs without calling the oracle") {
  REQUIRE(generate_derived().code == 0);
  oracle_calls();
  const auto r = run_cli({"list", "--json", "--at", k_at, "fleet.json"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(oracle_calls() == 0);
  const auto doc = nlohmann::json::parse(r.out);
  CHECK(doc["derived"]["fleet"] == "web");
  CHECK(doc["derived"]["epoch_length"] == "1h");
  CHECK(doc["current_epoch"] == 498874);
  CHECK(doc["next_epoch_starts"] == "2026-11-29T11:00:00Z");
  // Encrypt 1h + decrypt 2h: epochs 498872 and 498873 still decrypt, 498874
  // encrypts, 498875 is coming.
  REQUIRE(doc["keys"].size() == 4);
  const std::vector<std::string> states{"decrypt-only", "decrypt-only", "active",
                                        "pending"};
  for (std::size_t i = 0; i < 4; ++i) {
    CHECK(doc["keys"][i]["epoch"] == 498872 + static_cast<int>(i));
    CHECK(doc["keys"][i]["state"] == states[i]);
  }
  const auto text = run_cli({"list", "--at", k_at, "fleet.json"});
  CHECK(contains(text.out, "epoch 498874"));
  CHECK(contains(text.out, "derived: fleet web, generation 1, command oracle"));
  CHECK(contains(text.out, "next epoch starts 2026-11-29T11:00:00Z (in 30m)"));
}

TEST_CASE("export calls the oracle only for the epochs the format writes") {
  REQUIRE(generate_derived().code == 0);
  oracle_calls();
  // At 10:55 the next epoch is published: 4 epochs live.
  const std::vector<std::pair<std::string, std::size_t>> formats{
    {"nginx", 4}, {"haproxy", 3}, {"apache", 1}, {"s2n", 4}, {"go", 4}};
  for (const auto& [format, calls] : formats) {
    CAPTURE(format);
    const auto r = run_cli({"export", "--quiet", "--at", "2026-11-29T10:55:00Z",
                            "fleet.json", "--format", format, "--out", "out." + format});
    CHECK_MESSAGE(r.code == 0, r.err);
    CHECK(oracle_calls() == calls);
  }
  // A Secret carrying the keystore carries the derived file: no secret,
  // no oracle call.
  const auto r = run_cli({"export", "--quiet", "--at", k_at, "fleet.json",
                          "--format", "k8s-secret", "--out", "secret.yaml"});
  CHECK_MESSAGE(r.code == 0, r.err);
  CHECK(oracle_calls() == 0);
}

TEST_CASE("export and check report a failing oracle by name") {
  REQUIRE(generate_derived().code == 0);
  // Break the oracle: the key is now not hex, so openssl exits non-zero.
  auto text = read_text("fleet.json");
  text.replace(text.find("hexkey:00"), 9, "hexkey:zz");
  {
    std::ofstream out("fleet.json", std::ios::trunc);
    out << text;
  }
  auto r = run_cli({"export", "--at", k_at, "fleet.json", "--format", "nginx",
                    "--out", "nginx.d"});
  CHECK(r.code == 1);
  CHECK(contains(r.err, "stekctl: error: command oracle ("));
  CHECK(contains(r.err, "exited with status 1"));
  CHECK(!std::filesystem::exists("nginx.d"));
  // check needs no oracle unless asked to probe it.
  CHECK(run_cli({"check", "--at", k_at, "fleet.json"}).code == 0);
  r = run_cli({"check", "--json", "--probe-oracle", "--at", k_at, "fleet.json"});
  CHECK(r.code == 4);
  const auto doc = nlohmann::json::parse(r.out);
  REQUIRE(doc["problems"].size() == 1);
  CHECK(doc["problems"][0]["problem"] == "oracle_failing");
}

TEST_CASE("rotate, revoke and import refuse a derived keystore and leave it alone") {
  REQUIRE(generate_derived().code == 0);
  const auto before = read_text("fleet.json");
  auto r = run_cli({"rotate", "--at", k_at, "fleet.json"});
  CHECK(r.code == 1);
  CHECK(contains(r.err, "a derived keystore is not rotated"));
  r = run_cli({"revoke", "--at", k_at, "fleet.json", "0396d39c", "--reason", "x"});
  CHECK(r.code == 1);
  CHECK(contains(r.err, "new generation"));
  stek::test::generate_keystore();
  REQUIRE(run_cli({"export", "--quiet", "--at", "2026-11-28T15:00:00Z", "ks.json",
                   "--format", "openssl", "--out", "key.bin"})
            .code == 0);
  r = run_cli({"import", "--at", k_at, "fleet.json", "--format", "openssl", "key.bin"});
  CHECK(r.code == 1);
  CHECK(contains(r.err, "cannot import keys into a derived keystore"));
  CHECK(read_text("fleet.json") == before);
}

TEST_CASE("a derived keystore file is read strictly") {
  REQUIRE(generate_derived().code == 0);
  const auto good = read_text("fleet.json");
  const std::vector<std::pair<std::string, std::string>> cases{
    {"\"fleet\": \"web\"", "\"fleet\": \"\""},
    {"\"type\": \"command\"", "\"type\": \"kms\""},
    {"\"output\": \"hex\"", "\"output\": \"octal\""},
    {"\"timeout\": \"30s\"", "\"timeout\": \"soon\""},
    {"\"generation\": 1", "\"generation\": 0"},
    {"\"generation\": 1", "\"generation\": 1, \"pin\": \"1234\""},
    {"\"derived\": {", "\"keys\": [], \"derived\": {"},
  };
  const std::vector<std::string> expected{
    "\"derived.fleet\"", "\"type\" must be", "\"output\" must be",
    "\"timeout\" is not a duration", "\"derived.generation\"",
    "unknown field \"pin\"", "has no \"keys\""};
  for (std::size_t i = 0; i < cases.size(); ++i) {
    auto text = good;
    text.replace(text.find(cases[i].first), cases[i].first.size(), cases[i].second);
    {
      std::ofstream out("bad.json", std::ios::trunc);
      out << text;
    }
    ::chmod("bad.json", 0600);
    const auto r = run_cli({"list", "--at", k_at, "bad.json"});
    CAPTURE(cases[i].second);
    CHECK(r.code == 1);
    CHECK(contains(r.err, expected[i]));
    CHECK(contains(r.err, "(bad.json)"));
  }
}
