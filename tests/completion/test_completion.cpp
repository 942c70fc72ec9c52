// SPDX-License-Identifier: Apache-2.0
// `stekctl completion bash|zsh|fish`: each script is loaded into the real
// shell and TAB is pressed at the end of command lines; the words the
// shell offers are checked (completion_fixture.hpp).
#include "completion/completion_fixture.hpp"
#include "integration/fixture.hpp"

#include "app.hpp"

#include <stek/formats/server_format.hpp>

using namespace stek::test;
using namespace stek::test::completion;

namespace {

std::vector<std::string> command_names() {
  std::vector<std::string> names;
  for (const auto& command : ::stekctl::command_table()) {
    names.emplace_back(command.name);
  }
  return sorted(names);
}

// Whether `words` offers no argument: nothing at all, or (zsh, where no
// argument is left) options only.
bool only_options(const std::vector<std::string>& words) {
  return std::all_of(words.begin(), words.end(),
                     [](const std::string& word) { return word.starts_with("-"); });
}

bool has(const std::vector<std::string>& words, const std::string& word) {
  return std::find(words.begin(), words.end(), word) != words.end();
}

// The ids `stekctl list --json` shows for `keystore`.
std::vector<std::string> listed_ids(const std::string& keystore) {
  const auto r = stek::test::stekctl({"list", "--json", keystore});
  REQUIRE_MESSAGE(r.code == 0, describe(r));
  std::vector<std::string> ids;
  const auto doc = parse_json(r.out);
  for (const auto& key : doc.at("keys")) {
    ids.push_back(key.at("id").get<std::string>());
  }
  return sorted(ids);
}

} // namespace

TEST_CASE("completion: every shell offers the commands, and completes a prefix") {
  ScratchDir dir;
  const Scripts complete;
  for (const Shell shell : k_shells) {
    CAPTURE(name_of(shell));
    CHECK(complete(shell, "stekctl ") == command_names());
    CHECK(complete(shell, "stekctl rev") == std::vector<std::string>{"revoke"});
    CHECK(complete(shell, "stekctl co") == std::vector<std::string>{"completion"});
    // After global options, still the commands.
    CHECK(complete(shell, "stekctl --json --at @0 ") == command_names());
  }
}

TEST_CASE("completion: a command's own options and the global ones, no others") {
  ScratchDir dir;
  const Scripts complete;
  for (const Shell shell : k_shells) {
    CAPTURE(name_of(shell));
    const auto rotate = complete(shell, "stekctl rotate ks.json --");
    INFO("offered: " << shown(rotate));
    for (const auto* option : {"--force", "--now", "--dry-run", "--deploy-hook",
                               "--revoke-current", "--help", "--json", "--quiet", "--at",
                               "--allow-insecure-permissions"}) {
      CHECK_MESSAGE(has(rotate, option), option);
    }
    CHECK(!has(rotate, "--format"));  // export's
    CHECK(!has(rotate, "--version")); // only before a command
    const auto top = complete(shell, "stekctl --");
    INFO("offered: " << shown(top));
    CHECK(has(top, "--version"));
    CHECK(has(top, "--json"));
    CHECK(!has(top, "--force"));
    CHECK(complete(shell, "stekctl generate --pkcs11-pin-") ==
          std::vector<std::string>{"--pkcs11-pin-env", "--pkcs11-pin-file"});
  }
}

TEST_CASE("completion: --format offers the formats export writes and import reads") {
  ScratchDir dir;
  const Scripts complete;
  std::vector<std::string> exportable;
  std::vector<std::string> importable;
  for (const auto& format : stek::formats::server_formats()) {
    exportable.emplace_back(format.name);
    if (format.read != nullptr) {
      importable.emplace_back(format.name);
    }
  }
  REQUIRE(exportable.size() > importable.size()); // k8s-secret is export only
  for (const Shell shell : k_shells) {
    CAPTURE(name_of(shell));
    CHECK(complete(shell, "stekctl export ks.json --format ") == sorted(exportable));
    CHECK(complete(shell, "stekctl import --format ") == sorted(importable));
    CHECK(complete(shell, "stekctl export --format ng") ==
          std::vector<std::string>{"nginx", "nginx48"});
    CHECK(complete(shell, "stekctl export --format=hap") ==
          std::vector<std::string>{"haproxy", "haproxy48"});
    const auto secret_of = complete(shell, "stekctl export --secret-of ");
    CHECK(has(secret_of, "keystore"));
    CHECK(has(secret_of, "nginx"));
    CHECK(!has(secret_of, "k8s-secret"));
    CHECK(complete(shell, "stekctl generate --oracle-output ") ==
          std::vector<std::string>{"base64", "binary", "hex"});
    CHECK(complete(shell, "stekctl completion ") ==
          std::vector<std::string>{"bash", "fish", "zsh"});
  }
}

TEST_CASE("completion: revoke offers the key ids of the keystore on the line") {
  ScratchDir dir;
  generate("ks.json");
  const auto ids = listed_ids("ks.json");
  REQUIRE(ids.size() == 2);
  const Scripts complete;
  for (const Shell shell : k_shells) {
    CAPTURE(name_of(shell));
    CHECK(complete(shell, "stekctl revoke ks.json ") == ids);
    CHECK(complete(shell, "stekctl revoke ks.json " + ids[1].substr(0, 1)) ==
          std::vector<std::string>{ids[1]});
    // Options before and between the arguments, their values skipped.
    CHECK(complete(shell, "stekctl --json revoke --reason leaked ks.json ") == ids);
    CHECK(complete(shell, "stekctl revoke ./ks.json ") == ids);
    // The keystore's key ids only in the KEY_ID position.
    CHECK(only_options(complete(shell, "stekctl revoke ks.json " + ids[0] + " ")));
    // No keystore there: nothing offered, nothing printed (offered()
    // checks the shell's stderr is empty).
    CHECK(complete(shell, "stekctl revoke missing.json ").empty());
  }
}

TEST_CASE("completion: file, directory and environment variable values") {
  ScratchDir dir;
  generate("ks.json");
  std::filesystem::create_directory("keys");
  write_file("capture.pcap", "");
  const Scripts complete;
  for (const Shell shell : k_shells) {
    CAPTURE(name_of(shell));
    const auto files = complete(shell, "stekctl list ");
    INFO("offered: " << shown(files));
    CHECK(has(files, "ks.json"));
    CHECK(has(files, "keys"));
    CHECK(has(files, "capture.pcap"));
    CHECK(complete(shell, "stekctl list ks") ==
          std::vector<std::string>{"ks.json", "ks.json.lock"});
    CHECK(complete(shell, "stekctl export ks.json --format nginx --config-dir ") ==
          std::vector<std::string>{"keys"});
    CHECK(complete(shell, "stekctl inspect a.pcap capt") ==
          std::vector<std::string>{"capture.pcap"});
    CHECK(complete(shell, "stekctl import --format nginx ks.json capt") ==
          std::vector<std::string>{"capture.pcap"});
    CHECK(complete(shell, "stekctl generate --pkcs11-pin-env STEK_TEST_PIN") ==
          std::vector<std::string>{"STEK_TEST_PIN_VARIABLE"});
    // A command with one argument takes no second.
    CHECK(only_options(complete(shell, "stekctl list ks.json ")));
  }
}

TEST_CASE("completion: free values (times, names, reasons) offer nothing") {
  ScratchDir dir;
  generate("ks.json");
  const Scripts complete;
  for (const Shell shell : k_shells) {
    CAPTURE(name_of(shell));
    CHECK(complete(shell, "stekctl --at ").empty());
    CHECK(complete(shell, "stekctl revoke ks.json --reason ").empty());
    CHECK(complete(shell, "stekctl generate new.json --rotate-every ").empty());
    CHECK(complete(shell, "stekctl export ks.json --sni ").empty());
  }
}

TEST_CASE("completion: an unknown shell, or --json, is a usage error") {
  ScratchDir dir;
  const auto r = stek::test::stekctl({"completion", "tcsh"});
  CHECK(r.code == 2);
  CHECK(r.out.empty());
  CHECK(contains(r.err, "stekctl: error: unknown shell \"tcsh\""));
  CHECK(contains(r.err, "bash, zsh and fish"));
  CHECK(stek::test::stekctl({"completion"}).code == 2);
  const auto json = stek::test::stekctl({"--json", "completion", "bash"});
  CHECK(json.code == 2);
  CHECK(json.out.empty());
  CHECK(contains(json.err, "--json does not apply"));
}

TEST_CASE("completion: each script is valid for its shell and needs no network or file") {
  ScratchDir dir;
  for (const Shell shell : k_shells) {
    CAPTURE(name_of(shell));
    const auto script = write_script(shell);
    const std::string checker = shell == Shell::bash  ? STEK_BASH
                                : shell == Shell::zsh ? STEK_ZSH
                                                      : STEK_FISH;
    const auto r = run_process({checker, "-n", script.string()});
    CHECK_MESSAGE(r.code == 0, describe(r));
    // The same script every time: installs and packages can ship it.
    CHECK(read_file(script) == read_file(write_script(shell)));
  }
}
