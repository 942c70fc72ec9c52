// SPDX-License-Identifier: Apache-2.0
#include <stek/io.hpp>

#include "support/files.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

stek::SecretBytes secret_text(std::string_view text) {
  stek::SecretBytes out;
  out.append(text);
  return out;
}

std::size_t temporaries_in(const fs::path& dir) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().filename().string().find(".tmp-") != std::string::npos) {
      ++n;
    }
  }
  return n;
}

} // namespace

TEST_CASE("stek::atomic_write creates and replaces with mode 0600") {
  const auto old_umask = ::umask(0);
  REQUIRE(stek::atomic_write("ks.json", secret_text("one").view()).ok());
  ::umask(old_umask);
  CHECK(stek::test::read_file("ks.json") == "one");
  CHECK(stek::test::file_mode("ks.json") == 0600);

  ::chmod("ks.json", 0644);
  REQUIRE(stek::atomic_write("ks.json", secret_text("two").view()).ok());
  CHECK(stek::test::read_file("ks.json") == "two");
  CHECK(stek::test::file_mode("ks.json") == 0600);
  CHECK(temporaries_in(".") == 0);
}

TEST_CASE("stek::atomic_write replaces a symlink's target, keeping the link") {
  fs::create_directory("real");
  stek::test::write_file("real/ks.json", "old");
  fs::create_symlink("real/ks.json", "link.json");
  REQUIRE(stek::atomic_write("link.json", secret_text("new").view()).ok());
  CHECK(fs::is_symlink("link.json"));
  CHECK(stek::test::read_file("real/ks.json") == "new");
}

TEST_CASE("stek::atomic_write failure names the file and leaves no temporary") {
  auto r = stek::atomic_write("missing-dir/ks.json", secret_text("x").view());
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("create temporary file") != std::string::npos);
  CHECK(r.error().message.find("missing-dir") != std::string::npos);

  fs::create_directory("target-is-dir");
  auto r2 = stek::atomic_write("target-is-dir", secret_text("x").view());
  REQUIRE_FALSE(r2.ok());
  CHECK(r2.error().message.find("rename failed") != std::string::npos);
  CHECK(temporaries_in(".") == 0);
}

TEST_CASE("stek::remove_stale_temporaries removes only our leftovers") {
  stek::test::write_file(".ks.json.tmp-abcdef", "secret leftover");
  stek::test::write_file(".ks.json.tmp-toolongname", "someone else's");
  stek::test::write_file(".other.json.tmp-abcdef", "another keystore's");
  REQUIRE(stek::remove_stale_temporaries("ks.json").ok());
  CHECK_FALSE(fs::exists(".ks.json.tmp-abcdef"));
  CHECK(fs::exists(".ks.json.tmp-toolongname"));
  CHECK(fs::exists(".other.json.tmp-abcdef"));
}

TEST_CASE("stek::read_secret_file") {
  stek::test::write_file("small", "hello");
  auto r = stek::read_secret_file("small", 100);
  REQUIRE(r.ok());
  CHECK(r->size() == 5);
  CHECK(stek::read_secret_file("small", 4).error().message.find("limit") !=
        std::string::npos);
  CHECK(stek::read_secret_file("nope", 100).error().code == stek::Errc::not_found);
  fs::create_directory("dir");
  CHECK(stek::read_secret_file("dir", 100).error().message.find("directory") !=
        std::string::npos);
}

TEST_CASE("stek::check_private_permissions") {
  stek::test::write_file("ks.json", "{}", 0600);
  CHECK(stek::check_private_permissions("ks.json").ok());
  for (const mode_t mode : {0640u, 0604u, 0620u, 0602u, 0610u}) {
    ::chmod("ks.json", mode);
    auto r = stek::check_private_permissions("ks.json");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == stek::Errc::permission);
    CHECK(r.error().message.find("chmod 600 ks.json") != std::string::npos);
  }
  fs::create_directory("dir");
  CHECK(stek::check_private_permissions("dir").error().message.find(
          "directory") != std::string::npos);
}

TEST_CASE("stek::FileLock excludes a second holder until released") {
  stek::test::write_file("ks.json", "{}");
  auto first = stek::FileLock::acquire("ks.json", 1s);
  REQUIRE(first.ok());
  CHECK(stek::test::file_mode("ks.json.lock") == 0600);
  // flock locks belong to the open file description, so a second open in
  // the same process is excluded just like another process.
  auto second = stek::FileLock::acquire("ks.json", 50ms);
  REQUIRE_FALSE(second.ok());
  CHECK(second.error().code == stek::Errc::locked);
  CHECK(second.error().message.find("ks.json.lock") != std::string::npos);
  { auto released = std::move(first).value(); }
  CHECK(stek::FileLock::acquire("ks.json", 50ms).ok());
}
