// SPDX-License-Identifier: Apache-2.0
// stekctl import given key files over the 1 MiB limit, in every format it
// imports, and more files than the 16 MiB limit on all of them together:
// each is refused before it is read whole, naming the file and the limit,
// and no keystore is created.

#include "bounded.hpp"

#include <doctest/doctest.h>

#include <string>

using stek::test::contains;
using stek::test::ScratchDir;
using namespace stek::test::limits;

namespace fs = std::filesystem;

namespace {

// Every format import reads (k8s-secret is written only).
const std::vector<std::string> k_import_formats = {
  "nginx", "nginx48", "haproxy", "haproxy48", "apache",
  "openssl", "envoy", "go", "s2n"};

void expect_refused(const BoundedResult& r, const std::string& file,
                    const std::string& limit) {
  CHECK_MESSAGE(r.process.code == 1, describe(r));
  CHECK_MESSAGE(contains(r.process.err, "stekctl: error: "), describe(r));
  CHECK_MESSAGE(contains(r.process.err, "larger than the limit of " + limit +
                                          " bytes (" + file + ")"),
                describe(r));
  CHECK_MESSAGE(r.max_rss_kib < k_max_rss_kib, describe(r));
  CHECK_FALSE(fs::exists("ks.json"));
}

} // namespace

TEST_CASE("limits: an import file over 1 MiB is refused, in every format") {
  ScratchDir dir;
  for (const auto& format : k_import_formats) {
    CAPTURE(format);
    // Far over the limit, and one byte over it.
    for (const auto size : {k_gib, k_mib + 1}) {
      sparse_file("big.key", "", size);
      const auto r = bounded({"import", "ks.json", "--format", format, "big.key"});
      expect_refused(r, "big.key", "1048576");
    }
  }
  fs::remove("big.key");
}

TEST_CASE("limits: import files together over 16 MiB are refused") {
  ScratchDir dir;
  // Seventeen files of 1 MiB each, every one within its own limit.
  std::vector<std::string> args{"import", "ks.json", "--format", "haproxy"};
  for (int i = 0; i < 17; ++i) {
    const auto name = "part" + std::to_string(i) + ".key";
    sparse_file(name, "", k_mib);
    args.push_back(name);
  }
  const auto r = bounded(args);
  CHECK_MESSAGE(r.process.code == 1, describe(r));
  CHECK_MESSAGE(contains(r.process.err,
                         "key files together are larger than the limit of "
                         "16777216 bytes (part16.key)"),
                describe(r));
  CHECK_MESSAGE(r.max_rss_kib < k_max_rss_kib, describe(r));
  CHECK_FALSE(fs::exists("ks.json"));
}

TEST_CASE("limits: an s2n key file of JSON nested a million deep stays bounded") {
  ScratchDir dir;
  // Just under the file limit; s2n's JSON is parsed whole.
  stek::test::write_file("deep.json", std::string(k_mib - 1, '['));
  const auto r = bounded({"import", "ks.json", "--format", "s2n", "deep.json"});
  CHECK_MESSAGE(r.process.code == 1, describe(r));
  CHECK_MESSAGE(contains(r.process.err, "deep.json"), describe(r));
  CHECK_MESSAGE(r.max_rss_kib < k_max_rss_kib, describe(r));
  CHECK_FALSE(fs::exists("ks.json"));
}
