// SPDX-License-Identifier: Apache-2.0
// The real stekctl binary given bad keystores and bad command lines: exit 1
// (or 2 for usage errors), a message that names the problem and where it is,
// and the keystore left exactly as it was.

#include "fixture.hpp"

#include "support/files.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

using nlohmann::json;
using stek::test::contains;
using stek::test::describe;
using stek::test::file_mode;
using stek::test::ProcessOptions;
using stek::test::ProcessResult;
using stek::test::read_file;
using stek::test::stekctl;
using stek::test::k_t0;
using stek::test::k_ks;
using stek::test::generate;

namespace fs = std::filesystem;

namespace {

// Replace the keystore with `doc`, mode 0600.
void write_json(const json& doc) {
  stek::test::write_file(k_ks, doc.dump(2) + "\n", 0600);
}

std::string id_of(const json& keystore, std::size_t index) {
  return keystore.at("keys").at(index).at("id").get<std::string>();
}

// What a command run on a bad keystore must do.
struct Expected {
  // Parts the error message must contain, besides the keystore path.
  std::vector<std::string> parts;
  // Secrets that must not appear in any output.
  std::vector<std::string> secrets;
};

// Check that every command that reads or rewrites `path` refuses it with
// exit 1, an error naming the problem and the file, and leaves it (or its
// absence) exactly as it was.
void expect_rejected(const std::string& path, const Expected& expected) {
  const bool existed = fs::exists(path);
  const bool regular = fs::is_regular_file(path);
  const auto bytes = regular ? read_file(path) : std::string();
  const auto mode = existed ? file_mode(path) : mode_t{0};
  const auto inode = stek::test::inode_of(path);
  const std::vector<std::vector<std::string>> commands = {
    {"--at", k_t0, "list", path},
    {"--at", k_t0, "--json", "list", path},
    {"--at", k_t0, "rotate", path},
    {"--at", k_t0, "rotate", "--force", path},
    {"--at", k_t0, "rotate", "--now", "--deploy-hook", "touch hook-ran", path},
    {"--at", k_t0, "revoke", path, std::string(32, 'a'), "--reason", "test"},
  };
  for (const auto& args : commands) {
    const auto r = stekctl(args);
    INFO("stekctl " << args[2] << " " << args[3] << ": " << describe(r));
    CHECK(r.code == 1);
    CHECK(r.out.empty());
    CHECK(r.err.starts_with("stekctl: error: "));
    // One line, ending with the file it is about.
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.err.ends_with(" (" + path + ")\n"));
    for (const auto& part : expected.parts) {
      CHECK_MESSAGE(contains(r.err, part), "missing \"" << part << "\"");
    }
    for (const auto& secret : expected.secrets) {
      CHECK_FALSE(contains(r.err, secret));
    }
    CHECK(fs::exists(path) == existed);
    if (regular) {
      CHECK(read_file(path) == bytes);
      CHECK(file_mode(path) == mode);
      CHECK(stek::test::inode_of(path) == inode);
    }
    CHECK_FALSE(fs::exists("hook-ran"));
    if (fs::is_directory(fs::path(path).parent_path().empty()
                           ? fs::path(".")
                           : fs::path(path).parent_path())) {
      CHECK(stek::test::temporaries_of(path).empty());
    }
  }
}

// Return base64 of `size` bytes that are not all zero.
std::string base64_of_length(std::size_t size) {
  static const char* alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::vector<unsigned char> bytes(size);
  for (std::size_t i = 0; i < size; ++i) {
    bytes[i] = static_cast<unsigned char>(i * 7 + 1);
  }
  std::string out;
  for (std::size_t i = 0; i < size; i += 3) {
    const unsigned n = (static_cast<unsigned>(bytes[i]) << 16) |
                       (i + 1 < size ? static_cast<unsigned>(bytes[i + 1]) << 8 : 0u) |
                       (i + 2 < size ? static_cast<unsigned>(bytes[i + 2]) : 0u);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += i + 1 < size ? alphabet[(n >> 6) & 63] : '=';
    out += i + 2 < size ? alphabet[n & 63] : '=';
  }
  return out;
}

// The owner of the files a test makes for another user: nobody.
constexpr uid_t k_nobody = 65534;

// A directory under the system temporary directory (which every user can
// search, unlike a build tree may be), removed with everything in it.
class SharedTempDir {
public:
  SharedTempDir() {
    std::string pattern =
      (fs::temp_directory_path() / "stekctl-test-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    m_path = pattern;
    fs::permissions(m_path, fs::perms(0755));
  }
  SharedTempDir(const SharedTempDir&) = delete;
  SharedTempDir& operator=(const SharedTempDir&) = delete;
  ~SharedTempDir() {
    std::error_code ec;
    for (const auto& entry : fs::recursive_directory_iterator(m_path, ec)) {
      if (entry.is_directory(ec)) {
        fs::permissions(entry.path(), fs::perms(0755), ec);
      }
    }
    fs::remove_all(m_path, ec);
  }
  const fs::path& path() const { return m_path; }

private:
  fs::path m_path;
};

} // namespace

TEST_CASE("stekctl bad keystore: missing file") {
  const stek::test::ScratchDir scratch;
  expect_rejected("missing.json",
                  {{"stekctl: error: no keystore here; create one with "
                    "'stekctl generate missing.json'"},
                   {}});
  // Nothing was created next to it either.
  CHECK_FALSE(fs::exists("missing.json.lock"));
}

TEST_CASE("stekctl bad keystore: a directory") {
  const stek::test::ScratchDir scratch;
  fs::create_directory("dir.json");
  expect_rejected("dir.json", {{"is a directory, not a file"}, {}});
  CHECK(fs::is_empty("dir.json"));
}

TEST_CASE("stekctl bad keystore: empty file") {
  const stek::test::ScratchDir scratch;
  stek::test::write_file(k_ks, "", 0600);
  expect_rejected(k_ks, {{"empty file: not a keystore"}, {}});
}

TEST_CASE("stekctl bad keystore: truncated JSON") {
  const stek::test::ScratchDir scratch;
  const auto ks = generate();
  const auto bytes = read_file(k_ks);
  // Cut inside the second key's material.
  const auto second = ks.at("keys").at(1).at("material").get<std::string>();
  const auto cut = bytes.find(second) + 10;
  stek::test::write_file(k_ks, bytes.substr(0, cut), 0600);
  expect_rejected(k_ks, {{"truncated JSON"},
                         {second.substr(0, 10),
                          ks.at("keys").at(0).at("material").get<std::string>()}});
}

TEST_CASE("stekctl bad keystore: unknown version") {
  const stek::test::ScratchDir scratch;
  auto ks = generate();
  ks["stek_keystore"] = 2;
  write_json(ks);
  expect_rejected(k_ks, {{"unsupported keystore version 2", "\"stek_keystore\""},
                         stek::test::secrets_of(ks)});
}

TEST_CASE("stekctl bad keystore: bad base64 in material") {
  const stek::test::ScratchDir scratch;
  auto ks = generate();
  const auto id = id_of(ks, 1);
  ks["keys"][1]["material"] = "not*base64!AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  write_json(ks);
  expect_rejected(k_ks, {{"key #2 (id " + id + "): \"material\" is not valid base64"},
                         stek::test::secrets_of(ks)});
}

TEST_CASE("stekctl bad keystore: wrong secret length") {
  const stek::test::ScratchDir scratch;
  auto ks = generate();
  const auto id = id_of(ks, 0);
  ks["keys"][0]["material"] = base64_of_length(31);
  write_json(ks);
  expect_rejected(k_ks,
                  {{"key #1 (id " + id + "): \"material\" must be 32 bytes, has 31"},
                   stek::test::secrets_of(ks)});
}

TEST_CASE("stekctl bad keystore: duplicate id") {
  const stek::test::ScratchDir scratch;
  auto ks = generate();
  const auto id = id_of(ks, 0);
  ks["keys"][1]["id"] = id;
  write_json(ks);
  expect_rejected(k_ks, {{"key #2 (id " + id + "): \"id\" duplicates key #1"},
                         stek::test::secrets_of(ks)});
}

TEST_CASE("stekctl bad keystore: not_before after encrypt_until") {
  const stek::test::ScratchDir scratch;
  auto ks = generate();
  const auto id = id_of(ks, 1);
  // Key 2 encrypts until 2026-11-29T14:00:00Z.
  ks["keys"][1]["not_before"] = "2026-11-29T15:00:00Z";
  write_json(ks);
  expect_rejected(k_ks, {{"key #2 (id " + id +
                          "): \"not_before\" is after \"encrypt_until\""},
                         stek::test::secrets_of(ks)});
}

TEST_CASE("stekctl bad keystore: unparseable time") {
  const stek::test::ScratchDir scratch;
  auto ks = generate();
  const auto id = id_of(ks, 1);
  ks["keys"][1]["decrypt_until"] = "next tuesday";
  write_json(ks);
  expect_rejected(k_ks, {{"key #2 (id " + id + "): \"decrypt_until\" is not a time"},
                         stek::test::secrets_of(ks)});
}

TEST_CASE("stekctl bad keystore: readable by group or others") {
  const stek::test::ScratchDir scratch;
  const auto ks = generate();
  for (const mode_t mode : {mode_t{0640}, mode_t{0604}, mode_t{0620}}) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode));
    CAPTURE(text);
    fs::permissions(k_ks, fs::perms(mode));
    expect_rejected(k_ks, {{"keystore is accessible by group or others (mode " +
                              std::string(text) + ")",
                            "chmod 600 ks.json", "--allow-insecure-permissions"},
                           stek::test::secrets_of(ks)});
  }

  // --allow-insecure-permissions lets the owner use it.
  fs::permissions(k_ks, fs::perms(0640));
  const auto list =
    stekctl({"--allow-insecure-permissions", "--at", k_t0, "list", k_ks});
  CHECK_MESSAGE(list.code == 0, describe(list));
  CHECK(contains(list.out, id_of(ks, 0)));
  const auto rotate = stekctl(
    {"--allow-insecure-permissions", "--at", k_t0, "rotate", "--force", k_ks});
  CHECK_MESSAGE(rotate.code == 0, describe(rotate));
  CHECK(stek::test::load_json_file(k_ks).at("keys").size() == 3);
}

TEST_CASE("stekctl bad keystore: read-only directory") {
  // Root ignores directory permissions, so as root the writer runs as
  // nobody, who owns the keystore but cannot write its directory.
  const bool root = ::geteuid() == 0;
  const SharedTempDir shared;
  // A copy of the binary where nobody can run it, whatever the build tree's
  // permissions.
  const auto binary = shared.path() / "stekctl";
  fs::copy_file(stek::test::stekctl_path(), binary);
  fs::permissions(binary, fs::perms(0755));
  const auto dir = shared.path() / "keystores";
  fs::create_directory(dir);
  const std::string ks = (dir / "ks.json").string();
  const std::string lock = ks + ".lock";
  generate(ks);
  const auto secrets = stek::test::secrets_of(stek::test::load_json_file(ks));

  ProcessOptions as_owner;
  if (root) {
    as_owner.uid = k_nobody;
    as_owner.gid = k_nobody;
  }
  const auto as_nobody = [&](std::vector<std::string> args) {
    args.insert(args.begin(), binary.string());
    return stek::test::run_process(std::move(args), as_owner);
  };

  std::string expected_error;
  SUBCASE("the lock file exists") {
    expected_error = "create temporary file failed: Permission denied (" +
                     dir.string() + ")";
  }
  SUBCASE("no lock file yet") {
    fs::remove(lock);
    expected_error =
      "open lock file failed: Permission denied (" + lock + ")";
  }
  for (const auto& path : {dir.string(), ks, lock}) {
    if (root && fs::exists(path)) {
      REQUIRE(::chown(path.c_str(), k_nobody, k_nobody) == 0);
    }
  }
  fs::permissions(dir, fs::perms(0555));
  const auto bytes = read_file(ks);
  REQUIRE(file_mode(ks) == 0600);
  const auto inode = stek::test::inode_of(ks);

  // The owner can read it: the failure below is the directory's.
  const auto list = as_nobody({"--at", k_t0, "list", ks});
  REQUIRE_MESSAGE(list.code == 0, describe(list));

  for (const auto& args : std::vector<std::vector<std::string>>{
         {"--at", k_t0, "rotate", "--force", ks},
         {"--at", k_t0, "rotate", "--now", ks},
         {"--at", k_t0, "revoke", ks, stek::test::parse_json(bytes)
                                         .at("keys")
                                         .at(0)
                                         .at("id")
                                         .get<std::string>(),
          "--reason", "test"}}) {
    const auto r = as_nobody(args);
    INFO(args[2] << ": " << describe(r));
    CHECK(r.code == 1);
    CHECK(r.err == "stekctl: error: " + expected_error + "\n");
    CHECK(read_file(ks) == bytes);
    CHECK(file_mode(ks) == 0600);
    CHECK(stek::test::inode_of(ks) == inode);
    CHECK(stek::test::temporaries_of(ks).empty());
    for (const auto& secret : secrets) {
      CHECK_FALSE(contains(r.out + r.err, secret));
    }
  }
}

TEST_CASE("stekctl usage errors exit 2 and change nothing") {
  const stek::test::ScratchDir scratch;
  generate();
  const auto bytes = read_file(k_ks);
  const auto inode = stek::test::inode_of(k_ks);
  ProcessOptions options;
  std::vector<std::string> args;
  std::string message;

  SUBCASE("unknown subcommand") {
    args = {"frobnicate", k_ks};
    message = "stekctl: error: unknown command \"frobnicate\"";
  }
  SUBCASE("no subcommand") {
    args = {};
    message = "A subcommand is required";
  }
  SUBCASE("missing KEYSTORE") {
    args = {"rotate"};
    message = "KEYSTORE is required";
  }
  SUBCASE("unknown option") {
    args = {"rotate", "--frobnicate", k_ks};
    message = "stekctl: error: The following argument was not expected: --frobnicate";
  }
  SUBCASE("bad --rotate-every") {
    args = {"generate", "--force", "--rotate-every", "12q", k_ks};
    message = "--rotate-every";
  }
  SUBCASE("--rotate-every that does not fit the policy") {
    args = {"generate", "--force", "--rotate-every", "2d", "--encrypt-for",
            "1d", k_ks};
    message = "stekctl: error: --encrypt-for";
  }
  SUBCASE("bad --at") {
    args = {"--at", "yesterday", "rotate", "--force", k_ks};
    message = "stekctl: error: invalid --at \"yesterday\": expected an RFC "
              "3339 time";
  }
  SUBCASE("bad STEKCTL_NOW") {
    options.env = {"STEKCTL_NOW=2026-13-45T99:00:00Z"};
    args = {"rotate", "--force", k_ks};
    message = "stekctl: error: invalid STEKCTL_NOW \"2026-13-45T99:00:00Z\"";
  }
  SUBCASE("revoke with a non-hex id") {
    args = {"revoke", k_ks, "xyz0123", "--reason", "test"};
    message = "stekctl: error: key id \"xyz0123\" is not 4 to 32 hex digits";
  }
  SUBCASE("revoke without --reason") {
    args = {"revoke", k_ks, "abcd"};
    message = "--reason is required";
  }

  const auto r = stekctl(args, options);
  INFO(describe(r));
  CHECK(r.code == 2);
  CHECK(r.out.empty());
  CHECK(contains(r.err, message));
  CHECK(read_file(k_ks) == bytes);
  CHECK(stek::test::inode_of(k_ks) == inode);
  CHECK(stek::test::temporaries_of(k_ks).empty());
}
