// SPDX-License-Identifier: Apache-2.0
// File modes and owners of what the real binary writes, whatever the umask
// it runs under.

#include "fixture.hpp"

#include "support/files.hpp"

#include <doctest/doctest.h>

#include <filesystem>

#include <sys/stat.h>
#include <unistd.h>

using stek::test::describe;
using stek::test::file_mode;
using stek::test::ProcessOptions;
using stek::test::stekctl;
using stek::test::k_t0;
using stek::test::k_ks;

namespace {


ProcessOptions umask_000() {
  ProcessOptions options;
  options.umask = 0;
  return options;
}

} // namespace

TEST_CASE("stekctl generate makes a 0600 keystore under umask 000") {
  const stek::test::ScratchDir scratch;
  const auto r = stekctl({"--at", k_t0, "generate", k_ks}, umask_000());
  REQUIRE_MESSAGE(r.code == 0, describe(r));
  CHECK(file_mode(k_ks) == 0600);
  CHECK(file_mode(std::string(k_ks) + ".lock") == 0600);

  SUBCASE("replacing a loose file with --force") {
    ::chmod(k_ks, 0666);
    const auto again =
      stekctl({"--at", k_t0, "generate", "--force", k_ks}, umask_000());
    REQUIRE_MESSAGE(again.code == 0, describe(again));
    CHECK(file_mode(k_ks) == 0600);
  }
}

TEST_CASE("stekctl rotate keeps the keystore 0600 under umask 000") {
  const stek::test::ScratchDir scratch;
  {
    const auto r = stekctl({"--at", k_t0, "generate", k_ks});
    REQUIRE_MESSAGE(r.code == 0, describe(r));
  }
  const auto before = stek::test::read_file(k_ks);
  const auto r =
    stekctl({"--at", k_t0, "rotate", "--force", k_ks}, umask_000());
  REQUIRE_MESSAGE(r.code == 0, describe(r));
  CHECK(stek::test::read_file(k_ks) != before);
  CHECK(file_mode(k_ks) == 0600);

  const auto revoke = stekctl({"--at", k_t0, "revoke", k_ks,
                               stek::test::load_json_file(k_ks)
                                 .at("keys")
                                 .at(1)
                                 .at("id")
                                 .get<std::string>(),
                               "--reason", "test"},
                              umask_000());
  REQUIRE_MESSAGE(revoke.code == 0, describe(revoke));
  CHECK(file_mode(k_ks) == 0600);
}

TEST_CASE("stekctl rotate run by root keeps the keystore's owner") {
  if (::geteuid() != 0) {
    MESSAGE("not root: skipped");
    return;
  }
  const stek::test::ScratchDir scratch;
  {
    const auto r = stekctl({"--at", k_t0, "generate", k_ks});
    REQUIRE_MESSAGE(r.code == 0, describe(r));
  }
  REQUIRE(::chown(k_ks, 65534, 65534) == 0);
  // A lock file root creates must also stay usable by the service.
  std::filesystem::remove(std::string(k_ks) + ".lock");
  const auto r = stekctl({"--at", k_t0, "rotate", "--force", k_ks});
  REQUIRE_MESSAGE(r.code == 0, describe(r));
  struct stat st {};
  REQUIRE(::stat(k_ks, &st) == 0);
  CHECK(st.st_uid == 65534);
  CHECK(st.st_gid == 65534);
  CHECK(file_mode(k_ks) == 0600);
  struct stat lock {};
  REQUIRE(::stat((std::string(k_ks) + ".lock").c_str(), &lock) == 0);
  CHECK(lock.st_uid == 65534);
  CHECK(lock.st_gid == 65534);
}
