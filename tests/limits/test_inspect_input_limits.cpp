// SPDX-License-Identifier: Apache-2.0
// stekctl inspect given inputs that are not captures and claim huge sizes:
// a key log over 64 MiB, a ticket over the 65535 bytes TLS allows, and
// ticket or saved-session input over 16 MiB, from a file, a redirected
// standard input or a pipe. Each is refused, naming the input and the
// limit, after reading at most the limit.

#include "bounded.hpp"

#include <doctest/doctest.h>

#include <string>

using stek::test::contains;
using stek::test::ScratchDir;
using namespace stek::test::limits;

namespace fs = std::filesystem;

namespace {

void expect_refused(const BoundedResult& r, const std::string& message) {
  CHECK_MESSAGE(r.process.code == 1, describe(r));
  CHECK_MESSAGE(contains(r.process.err, "stekctl: error: " + message),
                describe(r));
  CHECK_MESSAGE(r.max_rss_kib < k_max_rss_kib, describe(r));
}

const std::string k_small_limit =
  "not a capture, and over the 16 MiB limit of a ticket or saved-session input";

} // namespace

TEST_CASE("limits: a key log over 64 MiB is refused before it is read") {
  ScratchDir dir;
  stek::test::write_file("ticket.hex", std::string(200, 'a') + "\n");
  const std::string line =
    "CLIENT_RANDOM " + std::string(64, '1') + " " + std::string(96, '2') + "\n";
  for (const auto size : {k_gib, 64 * k_mib + 1}) {
    sparse_file("keys.log", line, size);
    expect_refused(bounded({"inspect", "--keylog", "keys.log", "ticket.hex"}),
                   "cannot read the key log: file is larger than the limit "
                   "of 67108864 bytes (keys.log)");
  }
  fs::remove("keys.log");
}

TEST_CASE("limits: input over 16 MiB that is not a capture is refused after 16 MiB") {
  ScratchDir dir;
  SUBCASE("a file of 1 GB") {
    sparse_file("zeros.bin", "", k_gib);
    expect_refused(bounded({"inspect", "zeros.bin"}),
                   k_small_limit + " (zeros.bin)");
    fs::remove("zeros.bin");
  }
  SUBCASE("hex on standard input, from a file") {
    stek::test::write_file("ticket.hex", std::string(17 * k_mib, 'a'));
    expect_refused(bounded_with_stdin("ticket.hex", {"inspect", "-"}),
                   k_small_limit + " (-)");
  }
  SUBCASE("zeros on standard input, from a pipe that never ends") {
    expect_refused(run_shell("yes 00 | \"$0\" \"$@\"", {"inspect", "-"}),
                   k_small_limit + " (-)");
  }
  SUBCASE("a saved session of 17 MiB") {
    std::string pem = "-----BEGIN SSL SESSION PARAMETERS-----\n";
    pem += std::string(17 * k_mib, 'A');
    stek::test::write_file("session.pem", pem);
    expect_refused(bounded({"inspect", "session.pem"}),
                   k_small_limit + " (session.pem)");
  }
}

TEST_CASE("limits: a ticket over the 65535 bytes TLS allows is refused") {
  ScratchDir dir;
  SUBCASE("raw bytes") {
    stek::test::write_file("ticket.bin", std::string(100000, '\xee'));
    expect_refused(bounded({"inspect", "ticket.bin"}),
                   "ticket of 100000 bytes is over the 65535 bytes a TLS "
                   "ticket can have (ticket.bin)");
  }
  SUBCASE("hex on standard input") {
    stek::test::write_file("ticket.hex", std::string(2 * 65536, 'b') + "\n");
    expect_refused(bounded_with_stdin("ticket.hex", {"inspect", "-"}),
                   "ticket of 65536 bytes is over the 65535 bytes a TLS "
                   "ticket can have (-)");
  }
  SUBCASE("the largest ticket TLS allows is still read") {
    stek::test::write_file("ticket.hex", std::string(2 * 65535, 'b') + "\n");
    const auto r = bounded_with_stdin("ticket.hex", {"--json", "inspect", "-"});
    CHECK_MESSAGE(r.process.code == 0, describe(r));
    CHECK(contains(r.process.out, "\"length\":65535"));
  }
}
