// SPDX-License-Identifier: Apache-2.0
// Keystores that are too big, too deep or too wide: every stekctl command
// that reads one, and the provider that servers link, refuse them with a
// message naming the file and the limit, before reading them whole, and
// leave the file as it was.

#include "bounded.hpp"

#include "integration/fixture.hpp"

#include <stek/formats/file_provider.hpp>
#include <stek/stek.h>

#include <doctest/doctest.h>

#include <string>

using stek::test::contains;
using stek::test::k_ks;
using stek::test::k_t0;
using stek::test::ScratchDir;
using namespace stek::test::limits;

namespace fs = std::filesystem;

namespace {

constexpr const char* k_size_limit = "67108864"; // 64 MiB

// Every command that reads a keystore, as `stekctl` arguments.
std::vector<std::vector<std::string>> readers(const std::string& keystore,
                                              const std::string& key_id) {
  std::vector<std::vector<std::string>> commands = {
    {"list", keystore},
    {"rotate", keystore},
    {"rotate", "--force", keystore},
    {"export", keystore, "--format", "nginx", "--out", "exported"},
    {"revoke", keystore, key_id, "--reason", "test"},
    {"import", keystore, "--format", "go", "go.keys"},
    {"inspect", "--keystore", keystore, "ticket.hex"},
  };
  // check(1) where this stekctl has it.
  if (stek::test::stekctl({"check", "--help"}).code == 0) {
    commands.push_back({"check", keystore});
  }
  return commands;
}

// The inputs the commands need besides the keystore.
void write_other_inputs() {
  stek::test::write_file("go.keys",
                         "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n");
  stek::test::write_file("ticket.hex", std::string(200, 'a') + "\n");
}

// Check that every reader refuses `keystore` with exit 1 and a message
// holding `parts`, within bounded memory, and leaves it untouched.
void expect_refused_by_all(const std::string& keystore,
                           const std::string& key_id,
                           const std::vector<std::string>& parts) {
  const auto size = fs::file_size(keystore);
  const auto inode = stek::test::inode_of(keystore);
  for (auto args : readers(keystore, key_id)) {
    args.insert(args.begin(), {"--at", k_t0});
    CAPTURE(args[2]);
    const auto r = bounded(args);
    CHECK_MESSAGE(r.process.code == 1, describe(r));
    CHECK_MESSAGE(contains(r.process.err, "stekctl: error: "), describe(r));
    CHECK_MESSAGE(contains(r.process.err, "(" + keystore + ")"), describe(r));
    for (const auto& part : parts) {
      CHECK_MESSAGE(contains(r.process.err, part), describe(r));
    }
    CHECK_MESSAGE(r.max_rss_kib < k_max_rss_kib, describe(r));
    CHECK(fs::file_size(keystore) == size);
    CHECK(stek::test::inode_of(keystore) == inode);
    CHECK(stek::test::temporaries_of(keystore).empty());
  }
  CHECK_FALSE(fs::exists("exported"));
}

std::string first_key_id(const nlohmann::json& keystore) {
  return keystore.at("keys").at(0).at("id").get<std::string>();
}

// Open `path` with the C++ and the C provider API; return their errors.
std::vector<std::string> provider_errors(const std::string& path) {
  std::vector<std::string> errors;
  stek::FileProviderOptions options;
  options.watch = stek::WatchMode::manual;
  auto provider = stek::formats::open_file_provider(path, options);
  errors.push_back(provider ? std::string("opened") : provider.error().message);

  stek_file_options c_options;
  stek_file_options_init(&c_options);
  c_options.watch = STEK_WATCH_MANUAL;
  stek_provider* c_provider = nullptr;
  stek_error error{};
  if (stek_file_provider_open(path.c_str(), &c_options, &c_provider, &error) ==
      STEK_OK) {
    stek_provider_free(c_provider);
    errors.emplace_back("opened");
  } else {
    errors.emplace_back(error.message);
  }
  return errors;
}

} // namespace

TEST_CASE("limits: a 1 GB keystore is refused by every command, unread") {
  ScratchDir dir;
  const auto doc = stek::test::generate();
  write_other_inputs();
  // The real keystore, then zeros to 1 GiB: a sparse file.
  fs::resize_file(k_ks, k_gib);
  expect_refused_by_all(k_ks, first_key_id(doc),
                        {"larger than the limit of", k_size_limit});
  fs::remove(k_ks);
}

TEST_CASE("limits: a keystore of JSON nested millions deep is refused before it is parsed") {
  ScratchDir dir;
  const auto doc = stek::test::generate();
  write_other_inputs();
  // 16 MiB of "[": parsed, each level would cost a hundred bytes or more.
  stek::test::write_file(k_ks, std::string(16 * k_mib, '['));
  expect_refused_by_all(k_ks, first_key_id(doc),
                        {"JSON nested deeper than 16 levels at line 1, column 17"});
}

TEST_CASE("limits: a keystore object with a million fields is refused before it is parsed") {
  ScratchDir dir;
  const auto doc = stek::test::generate();
  write_other_inputs();
  std::string text = "{\"stek_keystore\": 1";
  for (int i = 0; i < 1000000; ++i) {
    text += ",\"f" + std::to_string(i) + "\":0";
  }
  text += "}";
  stek::test::write_file(k_ks, text);
  expect_refused_by_all(k_ks, first_key_id(doc),
                        {"JSON object with more than 64 fields at line 1"});
}

TEST_CASE("limits: the provider refuses a 1 GB or too deep keystore, naming it and the limit") {
  ScratchDir dir;
  stek::test::generate();
  fs::resize_file(k_ks, k_gib);
  for (const auto& error : provider_errors(k_ks)) {
    CHECK(contains(error, "larger than the limit of 67108864 bytes"));
    CHECK(contains(error, k_ks));
  }

  stek::test::write_file("deep.json", std::string(1 * k_mib, '{'));
  for (const auto& error : provider_errors("deep.json")) {
    CHECK(contains(error, "JSON nested deeper than 16 levels"));
    CHECK(contains(error, "deep.json"));
  }
  fs::remove(k_ks);
}

TEST_CASE("limits: a provider keeps serving its keys when the keystore grows to 1 GB") {
  ScratchDir dir;
  stek::test::generate();
  stek::FileProviderOptions options;
  options.watch = stek::WatchMode::manual;
  options.clock = [] { return *stek::parse_time(k_t0); };
  auto provider = stek::formats::open_file_provider(k_ks, options);
  REQUIRE(provider.ok());
  const auto before = (*provider)->encryption_key(std::nullopt);
  REQUIRE(before.has_value());

  // Replaced as stekctl replaces it, but by a file far too big.
  sparse_file("next.json", "{", k_gib);
  fs::rename("next.json", k_ks);
  const auto reloaded = (*provider)->reload();
  REQUIRE_FALSE(reloaded.ok());
  CHECK(contains(reloaded.error().message, "larger than the limit of 67108864 bytes"));
  CHECK(contains(reloaded.error().message, k_ks));
  const auto after = (*provider)->encryption_key(std::nullopt);
  REQUIRE(after.has_value());
  CHECK(after->id == before->id);
  fs::remove(k_ks);
}
