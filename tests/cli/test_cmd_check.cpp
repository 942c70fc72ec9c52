// SPDX-License-Identifier: Apache-2.0
// stekctl check: problems for monitoring, with exit 0 (ok), 3 (warning) and
// 4 (critical), as text, JSON and Prometheus metrics.
#include "support/cli.hpp"
#include "support/files.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <sys/stat.h>

using stek::test::contains;
using stek::test::run_cli;

// Generated at 14:00 under the default policy: key 1 encrypts until 02:00,
// key 2 until 14:00 the next day; the rotation that publishes key 3 is due
// at 11:48 on 2026-11-29.
TEST_CASE("stekctl check: a fresh keystore is ok") {
  stek::test::generate_keystore();
  const auto r = run_cli({"check", "--at", "2026-11-28T15:00:00Z", "ks.json"});
  CHECK(r.code == 0);
  CHECK(r.out == "ks.json: ok\n");
}

TEST_CASE("stekctl check: an overdue rotation warns, a gap ahead is critical") {
  stek::test::generate_keystore();
  // Due at 11:48; within the 1h grace it is not yet a problem.
  CHECK(run_cli({"check", "--at", "2026-11-29T12:48:00Z", "ks.json"}).code == 0);
  auto r = run_cli({"check", "--at", "2026-11-29T12:49:00Z", "ks.json"});
  CHECK(r.code == 3);
  CHECK(contains(r.out, "warning: rotation_overdue: a rotation has been due since "
                        "2026-11-29T11:48:00Z"));
  CHECK(run_cli({"check", "--grace", "2h", "--at", "2026-11-29T12:49:00Z", "ks.json"})
          .code == 0);
  // Key 2 stops at 14:00 and nothing follows: critical within publish_ahead.
  r = run_cli({"check", "--at", "2026-11-29T13:00:01Z", "ks.json"});
  CHECK(r.code == 4);
  CHECK(contains(r.out, "critical: no_encrypting_key_soon"));
  r = run_cli({"check", "--at", "2026-11-29T14:00:00Z", "ks.json"});
  CHECK(r.code == 4);
  CHECK(contains(r.out, "critical: no_encrypting_key: no key encrypts at "
                        "2026-11-29T14:00:00Z"));
  // After the rotation all is well again.
  REQUIRE(run_cli({"rotate", "--at", "2026-11-29T14:00:00Z", "ks.json"}).code == 0);
  CHECK(run_cli({"check", "--at", "2026-11-29T14:00:00Z", "ks.json"}).code == 0);
}

TEST_CASE("stekctl check reports loose permissions instead of refusing") {
  stek::test::generate_keystore();
  REQUIRE(::chmod("ks.json", 0644) == 0);
  const auto r = run_cli({"check", "--json", "--at", "2026-11-28T15:00:00Z", "ks.json"});
  CHECK(r.code == 4);
  const auto doc = nlohmann::json::parse(r.out);
  CHECK(doc["status"] == "critical");
  REQUIRE(doc["problems"].size() == 1);
  CHECK(doc["problems"][0]["problem"] == "loose_permissions");
  CHECK(doc["problems"][0]["severity"] == "critical");
  CHECK(contains(doc["problems"][0]["message"].get<std::string>(), "mode 0644"));
}

TEST_CASE("stekctl check warns about keys that live over 7 days") {
  REQUIRE(run_cli({"generate", "--at", "2026-11-28T14:00:00Z", "ks.json",
                   "--decrypt-for", "7d"})
            .code == 0);
  const auto r = run_cli({"check", "--at", "2026-11-28T15:00:00Z", "ks.json"});
  CHECK(r.code == 3);
  CHECK(contains(r.out, "lifetime_over_7_days"));
}

TEST_CASE("stekctl check --prometheus prints every problem series, 0 or 1") {
  stek::test::generate_keystore();
  const auto r =
    run_cli({"check", "--prometheus", "--at", "2026-11-29T12:49:00Z", "ks.json"});
  CHECK(r.code == 3);
  CHECK(contains(r.out, "stek_keystore_up{keystore=\"ks.json\"} 1\n"));
  CHECK(contains(r.out, "stek_check_status{keystore=\"ks.json\"} 3\n"));
  CHECK(contains(r.out, "stek_problem{keystore=\"ks.json\",problem=\"rotation_overdue\","
                        "severity=\"warning\"} 1\n"));
  CHECK(contains(r.out, "stek_problem{keystore=\"ks.json\",problem=\"no_encrypting_key\","
                        "severity=\"critical\"} 0\n"));
  CHECK(contains(r.out, "stek_keys{keystore=\"ks.json\",state=\"active\"} 1\n"));
  // Key 2 encrypts until 14:00: 1h11m left.
  CHECK(contains(r.out, "stek_encrypting_key_seconds_left{keystore=\"ks.json\"} 4260\n"));
  CHECK(contains(r.out, "stek_next_rotation_due_timestamp_seconds{keystore=\"ks.json\"} "
                        "1795952880\n"));
  // Every sample line belongs to a metric with HELP and TYPE lines.
  CHECK(contains(r.out, "# TYPE stek_problem gauge\n"));
}

TEST_CASE("stekctl check: a keystore that cannot be read is an error (exit 1)") {
  auto r = run_cli({"check", "--prometheus", "missing.json"});
  CHECK(r.code == 1);
  CHECK(r.out == "# HELP stek_keystore_up Whether the keystore was read and is valid.\n"
                 "# TYPE stek_keystore_up gauge\n"
                 "stek_keystore_up{keystore=\"missing.json\"} 0\n");
  CHECK(contains(r.err, "stekctl: error: cannot read the keystore: No such file or "
                        "directory (missing.json)"));
  stek::test::write_file("bad.json", "{\"version\": 1");
  REQUIRE(::chmod("bad.json", 0600) == 0);
  r = run_cli({"check", "bad.json"});
  CHECK(r.code == 1);
  CHECK(contains(r.err, "(bad.json)"));
  r = run_cli({"check", "--grace", "soon", "bad.json"});
  CHECK(r.code == 2);
  r = run_cli({"check", "--json", "--prometheus", "bad.json"});
  CHECK(r.code == 2);
}
