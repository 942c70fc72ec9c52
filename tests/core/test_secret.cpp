// SPDX-License-Identifier: Apache-2.0
#include <stek/crypto.hpp>
#include <stek/encoding.hpp>
#include <stek/secret.hpp>

#include "vm_flags.hpp"

#include <doctest/doctest.h>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

static_assert(!std::is_copy_constructible_v<stek::SecretBytes>);
static_assert(!std::is_copy_assignable_v<stek::SecretBytes>);
static_assert(std::is_nothrow_move_constructible_v<stek::SecretBytes>);
static_assert(!std::is_convertible_v<stek::SecretBytes, std::string>);

TEST_CASE("stek::SecretBytes moves, clones and appends") {
  auto a = stek::SecretBytes::copy_of(std::vector<std::uint8_t>{1, 2, 3});
  auto b = std::move(a);
  CHECK(a.empty());
  CHECK(b.size() == 3);
  auto c = b.clone();
  CHECK(stek::ct_equal(b.view(), c.view()));
  // Growing past the capacity many times keeps the contents.
  for (int i = 0; i < 1000; ++i) {
    c.append(static_cast<std::uint8_t>(i));
  }
  CHECK(c.size() == 1003);
  CHECK(c.reveal()[0] == 1);
  CHECK(c.reveal()[1002] == static_cast<std::uint8_t>(999));
  c.clear();
  CHECK(c.empty());
}

TEST_CASE("stek::ct_equal") {
  const auto a = stek::SecretBytes::copy_of(std::vector<std::uint8_t>{1, 2, 3});
  const auto b = stek::SecretBytes::copy_of(std::vector<std::uint8_t>{1, 2, 4});
  const auto c = stek::SecretBytes::copy_of(std::vector<std::uint8_t>{1, 2});
  CHECK(stek::ct_equal(a.view(), a.view()));
  CHECK_FALSE(stek::ct_equal(a.view(), b.view()));
  CHECK_FALSE(stek::ct_equal(a.view(), c.view()));
  CHECK(stek::ct_equal(stek::SecretView(), stek::SecretView()));
}

TEST_CASE("stek::cleanse wipes a string's whole capacity") {
  std::string text(100, 'x');
  text.resize(10);
  const char* data = text.data();
  stek::cleanse(text);
  CHECK(text.empty());
  // The buffer is kept (clear() does not free) and is now zero.
  CHECK(text.data() == data);
  for (std::size_t i = 0; i < 100; ++i) {
    CHECK(data[i] == '\0');
  }
}

TEST_CASE("stek::random_secret") {
  auto a = stek::random_secret(32);
  auto b = stek::random_secret(32);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->size() == 32);
  CHECK_FALSE(stek::ct_equal(a->view(), b->view()));
}

TEST_CASE("stek::hkdf_sha256 RFC 5869 test cases 1 and 3") {
  std::vector<std::uint8_t> ikm(22, 0x0b);
  const auto salt = *stek::hex_decode("000102030405060708090a0b0c");
  const auto info = *stek::hex_decode("f0f1f2f3f4f5f6f7f8f9");
  const auto key = stek::SecretBytes::copy_of(ikm);
  auto okm = stek::hkdf_sha256(key.view(), salt, info, 42);
  REQUIRE(okm.ok());
  CHECK(stek::hex_encode(okm->reveal()) ==
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208"
        "d5b887185865");
  // Test case 3: empty salt and info.
  auto okm3 = stek::hkdf_sha256(key.view(), {}, {}, 42);
  REQUIRE(okm3.ok());
  CHECK(stek::hex_encode(okm3->reveal()) ==
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395"
        "faa4b61a96c8");
  CHECK_FALSE(stek::hkdf_sha256(stek::SecretView(), {}, {}, 32).ok());
}

#if !defined(__SANITIZE_ADDRESS__)
TEST_CASE("secret memory is left out of core dumps unless asked") {
  // ctest runs this binary without STEK_SECRETS_IN_CORE_DUMPS.
  REQUIRE_FALSE(stek::secrets_in_core_dumps());
  auto small = stek::SecretBytes::copy_of(std::vector<std::uint8_t>(32, 0xab));
  stek::SecretBytes large(1 << 20);
  CHECK(stek::test::excluded_from_core_dumps(small.reveal().data()));
  CHECK(stek::test::excluded_from_core_dumps(large.reveal().data()));
  // Growing moves the bytes to new memory, excluded too.
  small.reserve(5000);
  CHECK(stek::test::excluded_from_core_dumps(small.reveal().data()));

  stek::set_secrets_in_core_dumps(true);
  CHECK(stek::secrets_in_core_dumps());
  CHECK_FALSE(stek::test::excluded_from_core_dumps(small.reveal().data()));
  CHECK_FALSE(stek::test::excluded_from_core_dumps(large.reveal().data()));
  stek::set_secrets_in_core_dumps(false);
  CHECK(stek::test::excluded_from_core_dumps(small.reveal().data()));
  CHECK(stek::test::excluded_from_core_dumps(large.reveal().data()));
}

namespace {

// Fork a child that holds `secret` in secret memory and a masked copy of it
// on the ordinary heap, and crashes with a core file in the current
// directory. Return the core file's bytes, or "" if the system writes
// cores elsewhere (a core_pattern pipe) or not at all.
std::string core_of_child_holding(const stek::SecretBytes& secret, bool include) {
  std::ifstream pattern_file("/proc/sys/kernel/core_pattern");
  std::string pattern;
  std::getline(pattern_file, pattern);
  if (pattern.empty() || pattern[0] == '|' || pattern.find('/') != std::string::npos) {
    return "";
  }
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
    ::setrlimit(RLIMIT_CORE, &unlimited);
    stek::set_secrets_in_core_dumps(include);
    // The control: if this is not in the core, the core proves nothing.
    std::vector<std::uint8_t> masked(secret.size());
    for (std::size_t i = 0; i < masked.size(); ++i) {
      masked[i] = secret.reveal()[i] ^ 0x5a;
    }
    ::signal(SIGABRT, SIG_DFL);
    std::abort();
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFSIGNALED(status) || !WCOREDUMP(status)) {
    return "";
  }
  for (const auto& name : {std::string("core"), "core." + std::to_string(pid)}) {
    std::ifstream core(name, std::ios::binary);
    if (core) {
      std::string bytes((std::istreambuf_iterator<char>(core)), {});
      std::filesystem::remove(name);
      return bytes;
    }
  }
  return "";
}

bool holds(const std::string& haystack, std::span<const std::uint8_t> needle) {
  return haystack.find(std::string_view(reinterpret_cast<const char*>(needle.data()),
                                        needle.size())) != std::string::npos;
}

} // namespace

TEST_CASE("a real core file holds no secret, unless asked") {
  auto secret = stek::random_secret(32);
  REQUIRE(secret.ok());
  std::vector<std::uint8_t> masked(32);
  for (bool include : {false, true}) {
    CAPTURE(include);
    const auto core = core_of_child_holding(*secret, include);
    if (core.empty()) {
      MESSAGE("no core file in the working directory (core_pattern); skipped");
      return;
    }
    for (std::size_t i = 0; i < masked.size(); ++i) {
      masked[i] = secret->reveal()[i] ^ 0x5a;
    }
    CHECK(holds(core, masked));
    CHECK(holds(core, secret->reveal()) == include);
    stek::cleanse(masked);
  }
}

TEST_CASE("a million small secrets share a few mappings") {
  // A page (and a mapping) per secret would hit vm.max_map_count (65530)
  // long before a large key log was read.
  const int before = stek::test::mapping_count();
  std::vector<stek::SecretBytes> secrets;
  secrets.reserve(1'000'000);
  for (int i = 0; i < 1'000'000; ++i) {
    secrets.push_back(stek::SecretBytes::copy_of(
      std::vector<std::uint8_t>(48, static_cast<std::uint8_t>(i))));
  }
  CHECK(stek::test::mapping_count() - before < 100);
  CHECK(secrets[999'999].reveal()[47] == static_cast<std::uint8_t>(999'999));
  // Freed chunks are reused, not mapped again.
  secrets.clear();
  const int after_free = stek::test::mapping_count();
  for (int i = 0; i < 1000; ++i) {
    secrets.push_back(stek::SecretBytes(48));
  }
  CHECK(stek::test::mapping_count() == after_free);
  // Reused memory comes back zeroed.
  CHECK(secrets.back().reveal()[0] == 0);
}
#endif
