// SPDX-License-Identifier: Apache-2.0
#include "app.hpp"

#include "support/cli.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <sstream>

using stek::test::contains;
using stek::test::run_cli;

TEST_CASE("stekctl command table: every command has a man page") {
  const std::filesystem::path man = STEK_MAN_DIR;
  CHECK(std::filesystem::exists(man / "stekctl.1.scd"));
  CHECK(std::filesystem::exists(man / "stekctl-keystore.5.scd"));
  for (const auto& command : stekctl::command_table()) {
    const auto page = man / ("stekctl-" + std::string(command.name) + ".1.scd");
    CAPTURE(page.string());
    CHECK(std::filesystem::exists(page));
  }
}

TEST_CASE("stekctl --help lists every command of the table") {
  const auto r = run_cli({"--help"});
  CHECK(r.code == 0);
  for (const auto& command : stekctl::command_table()) {
    CHECK(contains(r.out, std::string(command.name)));
  }
}

TEST_CASE("stekctl --version") {
  const auto r = run_cli({"--version"});
  CHECK(r.code == 0);
  CHECK(r.out.starts_with("stekctl "));
}

TEST_CASE("stekctl usage errors exit 2") {
  SUBCASE("no command") { CHECK(run_cli({}).code == 2); }
  SUBCASE("unknown command") { CHECK(run_cli({"frobnicate"}).code == 2); }
  SUBCASE("unknown option") { CHECK(run_cli({"list", "--nope", "ks.json"}).code == 2); }
  SUBCASE("missing keystore") { CHECK(run_cli({"rotate"}).code == 2); }
  SUBCASE("bad --at") {
    const auto r = run_cli({"list", "--at", "noon", "ks.json"});
    CHECK(r.code == 2);
    CHECK(r.err.starts_with("stekctl: error: invalid --at \"noon\""));
  }
  SUBCASE("bad STEKCTL_NOW") {
    const auto r = run_cli({"list", "ks.json"}, "noon");
    CHECK(r.code == 2);
    CHECK(contains(r.err, "invalid STEKCTL_NOW"));
  }
}

TEST_CASE("stekctl --at beats STEKCTL_NOW, which beats the clock") {
  REQUIRE(run_cli({"generate", "--quiet", "--at", "2026-11-28T14:00:00Z", "ks.json"}).code == 0);
  const auto env = run_cli({"list", "--json", "ks.json"}, "2026-11-28T15:00:00Z");
  CHECK(contains(env.out, "\"now\": \"2026-11-28T15:00:00Z\""));
  const auto both = run_cli({"list", "--json", "--at", "@1795881600", "ks.json"},
                            "2026-11-28T15:00:00Z");
  CHECK(contains(both.out, "\"now\": \"2026-11-28T16:00:00Z\""));
}

TEST_CASE("stekctl global options work after the command") {
  REQUIRE(run_cli({"generate", "ks.json", "--quiet"}).code == 0);
  const auto r = run_cli({"list", "ks.json", "--json"});
  CHECK(r.code == 0);
  CHECK(r.out.starts_with("{"));
}

TEST_CASE("stekctl operational errors exit 1 with one error line") {
  const auto r = run_cli({"list", "missing.json"});
  CHECK(r.code == 1);
  CHECK(r.err == "stekctl: error: no keystore here; create one with "
                 "'stekctl generate missing.json' (missing.json)\n");
  CHECK(r.out.empty());
}

TEST_CASE("stekctl usage errors read like every other error") {
  const auto unknown = run_cli({"frobnicate", "ks.json"});
  CHECK(unknown.code == 2);
  CHECK(unknown.err.starts_with("stekctl: error: unknown command \"frobnicate\""));
  const auto option = run_cli({"rotate", "--frobnicate", "ks.json"});
  CHECK(option.code == 2);
  CHECK(option.err.starts_with("stekctl: error: "));
  CHECK(contains(option.err, "--frobnicate"));
  // A value of --at is not mistaken for the command.
  CHECK(run_cli({"--at", "2026-11-28T14:00:00Z", "list", "missing.json"}).code == 1);
}

TEST_CASE("stekctl fails when its output cannot be written") {
  stek::test::generate_keystore();
  std::ostream broken(nullptr); // every write fails, like a full disk
  std::ostringstream err;
  const int code = stekctl::run({"stekctl", "list", "--json", "ks.json"}, broken, err);
  CHECK(code == 1);
  CHECK(err.str() == "stekctl: error: cannot write to standard output\n");
}
