// SPDX-License-Identifier: Apache-2.0
// Secret scan of the commands that give up on a keystore another process
// keeps locked: they wait the full 60 seconds (cli/keystore_access.hpp), so
// all of them wait at once, in one test case of their own.
#include "hygiene/scan_fixture.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

using namespace stek::hygiene;

TEST_CASE("secret scan: commands that find the keystore locked print no secret") {
  const stek::test::ScratchDir dir("scan-lock");
  KnownSecrets known;
  ScanSession s(known);
  s.ok({"--at", k_t0, "generate", "ks.json"});
  known.learn_keystore("ks.json");
  const Bytes key = random_bytes(80);
  known.learn_blob("the key file to import", key);
  known.learn("the HMAC key of the key file to import",
              std::span<const std::uint8_t>(key).subspan(16, 32));
  known.learn("the AES key of the key file to import",
              std::span<const std::uint8_t>(key).subspan(48, 32));
  write_bytes("fresh.key", key);
  const std::string id = key_ids("ks.json").front();

  // Held the way stekctl holds it: flock on KEYSTORE.lock.
  const int lock = ::open("ks.json.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  REQUIRE(lock >= 0);
  REQUIRE(::flock(lock, LOCK_EX) == 0);
  const std::vector<std::vector<std::string>> commands = {
    {"--at", k_after_due, "rotate", "ks.json", "--deploy-hook", k_printing_hook},
    {"--json", "--at", k_after_due, "rotate", "--now", "ks.json"},
    {"--at", k_t0, "revoke", "ks.json", id, "--reason", "locked"},
    {"--at", k_t0, "import", "ks.json", "--format", "nginx", "fresh.key"},
    {"--at", k_t0, "generate", "--force", "ks.json"},
  };
  std::vector<stek::test::Process> running;
  for (const auto& args : commands) {
    running.push_back(stek::test::start_stekctl(args));
  }
  // list and export take no lock: they work meanwhile.
  s.ok({"--at", k_t0, "list", "ks.json"});
  s.ok({"--at", k_t0, "export", "ks.json", "--format", "nginx", "--out", "out"});
  for (std::size_t i = 0; i < commands.size(); ++i) {
    const auto r = s.finish(Expect::failure, commands[i], running[i]);
    CHECK(r.err.find("locked") != std::string::npos);
  }
  ::close(lock);
  s.scan_all("locked keystore");
}
