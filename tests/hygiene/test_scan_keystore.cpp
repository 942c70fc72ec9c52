// SPDX-License-Identifier: Apache-2.0
// Secret scan of the commands that make and keep a keystore: generate,
// rotate (with its deploy hook), list, revoke, the help and version texts,
// and their usage errors. Every keystore they write is read back with
// libstek, so its secrets are known when the output is scanned.
#include "hygiene/scan_fixture.hpp"

#include <doctest/doctest.h>

#include <filesystem>

using namespace stek::hygiene;
using stek::test::ProcessOptions;

namespace {

ProcessOptions with_env(std::string var) {
  ProcessOptions options;
  options.env = {std::move(var)};
  return options;
}

void generate_commands(ScanSession& s, KnownSecrets& known) {
  s.ok({"--at", k_t0, "generate", "ks.json"});
  known.learn_keystore("ks.json");
  s.ok({"--json", "--at", k_t0, "generate", "ks-json.json"});
  known.learn_keystore("ks-json.json");
  s.ok({"--quiet", "--at", k_t0, "generate", "ks-quiet.json"});
  known.learn_keystore("ks-quiet.json");
  s.ok({"--at", k_t0, "generate", "ks-policy.json", "--rotate-every", "6h",
        "--publish-ahead", "30m", "--encrypt-for", "8h", "--decrypt-for",
        "2d", "--no-sni-binding"});
  known.learn_keystore("ks-policy.json");
  // Longer than RFC 8446's 7 days, and a first key stretched: warnings.
  s.ok({"--at", k_t0, "generate", "ks-long.json", "--encrypt-for", "7d",
        "--decrypt-for", "2d", "--publish-ahead", "6d", "--rotate-every", "7d"});
  known.learn_keystore("ks-long.json");
  s.ok({"generate", "ks-env.json"}, with_env(std::string("STEKCTL_NOW=") + k_t0));
  known.learn_keystore("ks-env.json");
  // Replaced: the old keys are known before they are gone.
  s.ok({"--at", k_t0, "generate", "ks-force.json"});
  known.learn_keystore("ks-force.json");
  s.ok({"--at", k_t0, "generate", "--force", "ks-force.json"});
  known.learn_keystore("ks-force.json");
  s.ok({"--json", "--at", k_t0, "generate", "--force", "ks-force.json"});
  known.learn_keystore("ks-force.json");

  s.fails({"--at", k_t0, "generate", "ks.json"});
  s.fails({"--json", "--at", k_t0, "generate", "ks.json"});
  s.fails({"--at", k_t0, "generate", "no-such-dir/ks.json"});
  s.fails({"--at", k_t0, "generate", "ks.json/inside"});
  s.usage({"--at", k_t0, "generate", "x.json", "--rotate-every", "banana"});
  s.usage({"--at", k_t0, "generate", "x.json", "--rotate-every", "2h",
           "--encrypt-for", "1h"});
  s.usage({"--at", k_t0, "generate", "x.json", "--decrypt-for", "0s"});
  s.usage({"--at", k_t0, "generate"});
  s.usage({"--at", k_t0, "generate", "x.json", "--bogus"});
  s.usage({"--at", "yesterday", "generate", "x.json"});
  s.usage({"generate", "x.json"}, with_env("STEKCTL_NOW=not-a-time"));
}

void rotate_commands(ScanSession& s, KnownSecrets& known) {
  s.ok({"--at", k_t0, "rotate", "ks.json"});
  s.ok({"--json", "--at", k_t0, "rotate", "ks.json"});
  s.ok({"--at", k_after_due, "rotate", "--dry-run", "ks.json"});
  s.ok({"--json", "--at", k_after_due, "rotate", "--dry-run", "ks.json"});
  // The hook prints its environment and arguments on stdout, and with
  // --json on stderr: both are scanned.
  s.ok({"--at", k_after_due, "rotate", "ks.json", "--deploy-hook",
        k_printing_hook});
  known.learn_keystore("ks.json");
  s.ok({"--json", "--at", k_after_due, "rotate", "--force", "ks.json",
        "--deploy-hook", k_printing_hook});
  known.learn_keystore("ks.json");
  s.ok({"--quiet", "--at", k_after_due, "rotate", "--force", "ks.json",
        "--deploy-hook", k_printing_hook});
  known.learn_keystore("ks.json");
  s.ok({"--at", k_after_due, "rotate", "--now", "ks.json", "--deploy-hook",
        k_printing_hook});
  known.learn_keystore("ks.json");
  s.ok({"--at", k_after_due, "rotate", "--revoke-current", "compromised",
        "ks.json", "--deploy-hook", k_printing_hook});
  known.learn_keystore("ks.json");
  s.ok({"--json", "--at", k_after_due, "rotate", "--revoke-current",
        "compromised again", "ks.json"});
  known.learn_keystore("ks.json");

  // Late: the encrypting key is stretched, with a warning.
  s.ok({"--at", k_t0, "generate", "ks-late.json"});
  known.learn_keystore("ks-late.json");
  s.ok({"--at", k_late, "rotate", "ks-late.json"});
  known.learn_keystore("ks-late.json");
  // Left alone past every key: a gap, pruned keys, a warning. Listed first,
  // with no key encrypting.
  s.ok({"--at", k_t0, "generate", "ks-gap.json"});
  known.learn_keystore("ks-gap.json");
  s.ok({"--at", k_much_later, "list", "ks-gap.json"});
  s.ok({"--json", "--at", k_much_later, "list", "ks-gap.json"});
  s.ok({"--at", k_much_later, "rotate", "--revoke-current", "gone",
        "ks-gap.json", "--deploy-hook", k_printing_hook});
  known.learn_keystore("ks-gap.json");
  // Through a symbolic link.
  std::filesystem::create_symlink("ks-late.json", "ks-link.json");
  s.ok({"--at", k_late, "rotate", "--force", "ks-link.json"});
  known.learn_keystore("ks-late.json");

  // A hook that fails or is killed: the keystore changed all the same.
  s.fails({"--at", k_after_due, "rotate", "--force", "ks.json",
           "--deploy-hook", "env; exit 3"});
  known.learn_keystore("ks.json");
  s.fails({"--json", "--at", k_after_due, "rotate", "--force", "ks.json",
           "--deploy-hook", "env >&2; kill -9 $$"});
  known.learn_keystore("ks.json");
  s.fails({"--at", k_after_due, "rotate", "missing.json"});
  s.usage({"--at", k_after_due, "rotate", "--revoke-current", "", "ks.json"});
  s.usage({"--at", k_after_due, "rotate"});
  s.usage({"--at", k_after_due, "rotate", "ks.json", "--deploy-hook"});
}

void list_and_revoke_commands(ScanSession& s, KnownSecrets& known) {
  for (const char* ks : {"ks.json", "ks-policy.json", "ks-long.json",
                         "ks-late.json", "ks-link.json", "ks-gap.json"}) {
    s.ok({"--at", k_after_due, "list", ks});
    s.ok({"--json", "--at", k_after_due, "list", ks});
    s.ok({"--quiet", "--at", k_after_due, "list", ks});
  }
  s.ok({"list", "ks.json"}, with_env(std::string("STEKCTL_NOW=") + k_late));
  s.ok({"--at", "@1795874400", "list", "ks.json"});
  s.ok({"-q", "--at", k_late, "list", "ks.json"});
  s.ok({"list", "--at", "2026-11-29 13:00:00.5+02:00", "ks.json"});
  s.fails({"--at", k_t0, "list", "missing.json"});
  s.usage({"--at", k_t0, "list"});

  const auto ids = key_ids("ks-policy.json");
  REQUIRE(ids.size() == 2);
  const std::string encrypting = encrypting_id(s, "ks-policy.json", k_t0);
  s.ok({"--at", k_t0, "revoke", "ks-policy.json", encrypting, "--reason",
        "incident 42"});
  s.ok({"--at", k_t0, "revoke", "ks-policy.json", encrypting, "--reason",
        "again"});
  s.ok({"--json", "--at", k_t0, "revoke", "ks-policy.json",
        ids[1].substr(0, 8), "--reason", "the successor too"});
  known.learn_keystore("ks-policy.json");
  s.ok({"--at", k_t0, "list", "ks-policy.json"});
  s.ok({"--json", "--at", k_t0, "list", "ks-policy.json"});
  s.ok({"--quiet", "--at", k_t0, "revoke", "ks-json.json",
        key_ids("ks-json.json")[1], "--reason", "pending"});
  known.learn_keystore("ks-json.json");

  s.fails({"--at", k_t0, "revoke", "ks.json", std::string(32, 'f'),
           "--reason", "no such key"});
  s.fails({"--at", k_t0, "revoke", "missing.json", ids[0], "--reason", "x"});
  s.usage({"--at", k_t0, "revoke", "ks.json", "xyz", "--reason", "bad id"});
  s.usage({"--at", k_t0, "revoke", "ks.json", std::string(33, 'a'),
           "--reason", "too long"});
  s.usage({"--at", k_t0, "revoke", "ks.json", ids[0], "--reason", ""});
  s.usage({"--at", k_t0, "revoke", "ks.json", ids[0]});
}

void help_commands(ScanSession& s) {
  s.ok({"--help"});
  s.ok({"-h"});
  s.ok({"--version"});
  for (const char* command : {"generate", "rotate", "list", "revoke", "export",
                              "import", "inspect"}) {
    s.ok({command, "--help"});
  }
  s.usage({});
  s.usage({"frobnicate", "ks.json"});
  s.usage({"--frobnicate", "list", "ks.json"});
  s.usage({"list", "ks.json", "extra", "arguments"});
  // The design names these two; this stekctl may or may not have them yet.
  // Whatever they do, their output is scanned.
  // check exits 3 or 4 for what it finds: healthy, overdue, a gap, keys
  // living over 7 days, revoked keys.
  for (const char* ks : {"ks.json", "ks-late.json", "ks-long.json", "ks-policy.json",
                         "ks-gap.json", "missing.json"}) {
    for (const char* at : {k_t0, k_after_due, k_much_later}) {
      s.run(Expect::any, {"--at", at, "check", ks});
      s.run(Expect::any, {"--at", at, "check", "--prometheus", ks});
      s.run(Expect::any, {"--json", "--at", at, "check", ks});
    }
  }
  s.run(Expect::any, {"--quiet", "--at", k_after_due, "check", "ks.json"});
  s.run(Expect::any, {"check", "--help"});
  for (const char* shell : {"bash", "zsh", "fish"}) {
    s.run(Expect::any, {"completion", shell});
  }
}

} // namespace

TEST_CASE("secret scan: generate, rotate, list, revoke and help print no secret") {
  const stek::test::ScratchDir dir("scan-keystore");
  KnownSecrets known;
  ScanSession s(known);
  generate_commands(s, known);
  rotate_commands(s, known);
  list_and_revoke_commands(s, known);
  help_commands(s);
  s.scan_all("generate, rotate, list, revoke, help");
}
