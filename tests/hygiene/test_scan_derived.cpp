// SPDX-License-Identifier: Apache-2.0
// Secret scan of derived keystores: generate --derive, list, check, export,
// inspect and the refusals, with the command oracle (`openssl mac`) under a
// key the scan knows. The secrets are the oracle's key and every epoch's
// material with all it derives; only an export to standard output may
// print an epoch's secrets.
#include "hygiene/scan_fixture.hpp"

#include <stek/derived_keystore.hpp>
#include <stek/encoding.hpp>
#include <stek/formats/native_keystore.hpp>

#include <doctest/doctest.h>

using namespace stek::hygiene;

namespace {

constexpr const char* k_oracle_key_hex =
  "5f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

// The oracle reads its key from a file, as a real KMS client keeps its
// credentials out of the command: the keystore and every message name only
// the file.
void write_oracle(const std::string& key_hex) {
  write_text("oracle.key", key_hex);
  write_text("oracle.sh",
             "#!/bin/sh\nexec openssl mac -digest SHA256 -macopt "
             "hexkey:\"$(cat oracle.key)\" HMAC\n");
}

// Learn the oracle key, and every epoch's keys from k_t0 minus a week to
// two days later, computed through the same oracle.
void learn_derived(KnownSecrets& known, const std::string& path) {
  known.learn("oracle key", *stek::hex_decode(k_oracle_key_hex));
  auto keystore = stek::formats::load_native_keystore(path);
  REQUIRE(keystore.ok());
  auto oracle = stek::open_oracle(keystore->derivation->oracle);
  REQUIRE(oracle.ok());
  const auto t0 = *stek::parse_time(k_t0);
  const auto first = stek::epoch_at(keystore->policy, t0 - std::chrono::days(1));
  const auto last = stek::epoch_at(keystore->policy, t0 + std::chrono::days(2));
  std::vector<stek::Epoch> epochs;
  for (auto n = first; n <= last; ++n) {
    epochs.push_back(n);
  }
  auto plain = stek::materialize(*keystore, epochs, **oracle);
  REQUIRE_MESSAGE(plain.ok(), (plain.ok() ? "" : plain.error().message));
  known.learn_keys(*plain);
}

} // namespace

TEST_CASE("secret scan: derived keystores print no secret") {
  const stek::test::ScratchDir dir("scan-derived");
  KnownSecrets known;
  ScanSession s(known);
  write_oracle(k_oracle_key_hex);
  const std::vector<std::string> make{
    "--at", k_t0, "generate", "fleet.json", "--derive", "--fleet", "web",
    "--rotate-every", "6h", "--publish-ahead", "1h", "--decrypt-for", "12h",
    "--oracle-command", "sh oracle.sh", "--oracle-output", "hex"};
  s.ok(make);
  learn_derived(known, "fleet.json");
  auto json = make;
  json.insert(json.begin(), "--json");
  json.push_back("--force");
  s.ok(json);

  for (const char* at : {k_t0, k_after_due, k_much_later}) {
    s.ok({"--at", at, "list", "fleet.json"});
    s.ok({"--json", "--at", at, "list", "fleet.json"});
    s.ok({"--at", at, "check", "fleet.json", "--probe-oracle"});
    s.ok({"--at", at, "check", "fleet.json", "--prometheus"});
  }
  for (const char* format : {"nginx", "haproxy", "envoy", "go", "s2n", "k8s-secret"}) {
    s.ok({"--at", k_t0, "export", "fleet.json", "--format", format, "--out",
          std::string("out-") + format});
    // A Secret carrying the keystore takes no --sni.
    std::vector<std::string> bound{"--json", "--at", k_t0, "export", "fleet.json",
                                   "--format", format, "--out",
                                   std::string("json-") + format};
    if (std::string(format) != "k8s-secret") {
      bound.insert(bound.end(), {"--sni", "shop.example"});
    }
    s.ok(bound);
  }
  // The one place an epoch's secret may be printed, as a control.
  s.secret_to_stdout({"--at", k_t0, "export", "fleet.json", "--format", "haproxy",
                      "--out", "-"},
                     {encrypting_id(s, "fleet.json", k_t0)});
  s.fails({"--at", k_t0, "rotate", "fleet.json"});
  s.fails({"--at", k_t0, "revoke", "fleet.json", "0011aabb", "--reason", "x"});

  // A failing oracle: its error goes to stderr, and must name the oracle
  // without quoting what it printed.
  write_text("oracle.key", "not hex");
  s.fails({"--at", k_t0, "export", "fleet.json", "--format", "nginx", "--out", "bad"});
  s.ok({"--at", k_t0, "check", "fleet.json"});
  s.run(Expect::any, {"--at", k_t0, "check", "fleet.json", "--probe-oracle"});
  write_oracle(k_oracle_key_hex);
  s.scan_all("derived keystores");
}
