// SPDX-License-Identifier: Apache-2.0
// Bad input through the real binary: each is refused with exit 1 and a
// message naming what is wrong, and nothing is written: a keystore stays
// byte for byte what it was (or is not created), an output stays as it was
// (or is not created).
#include "interop/harness.hpp"

#include <doctest/doctest.h>

namespace stek::interop {
namespace {

using stek::test::contains;

// Check that `r` is a clean operational error that names `what`.
void check_refused(const ProcessResult& r, const std::string& what) {
  CHECK_MESSAGE(r.code == 1, describe(r));
  CHECK_MESSAGE(r.signal == 0, describe(r));
  CHECK_MESSAGE(contains(r.err, "stekctl: error: "), describe(r));
  CHECK_MESSAGE(contains(r.err, what), "expected \"" << what << "\" in\n" << describe(r));
  CHECK_MESSAGE(r.out.empty(), describe(r));
}

// A keystore with keys, and what the whole directory looked like then.
struct Before {
  fs::path keystore;
  std::map<std::string, FileState> files;
};

Before existing_keystore(const Workspace& ws) {
  Before b;
  b.keystore = ws.path("ks.json");
  generate_keystore(b.keystore, utc_in(-1h));
  b.files = snapshot(ws.dir);
  return b;
}

TEST_CASE("bad input: import of a wrong-sized nginx key file") {
  Workspace ws;
  const auto good = ws.path("good.key");
  const auto bad = ws.path("bad.key");
  write_file(good, random_bytes(80), 0600);
  write_file(bad, random_bytes(79), 0600);

  SUBCASE("into a new keystore: none is created") {
    const auto ks = ws.path("new.json");
    const auto before = snapshot(ws.dir);
    check_refused(stekctl({"import", ks.string(), "--format", "nginx", good.string(),
                           bad.string()}),
                  "bad.key");
    CHECK_FALSE(fs::exists(ks));
    CHECK(snapshot(ws.dir) == before);
  }
  SUBCASE("into an existing keystore: it is unchanged, the good file is not half-imported") {
    const auto before = existing_keystore(ws);
    check_refused(stekctl({"import", before.keystore.string(), "--format", "nginx",
                           good.string(), bad.string()}),
                  "bad.key");
    CHECK(snapshot(ws.dir) == before.files);
  }
  SUBCASE("an 80-byte file is the wrong size for nginx48") {
    const auto before = existing_keystore(ws);
    check_refused(stekctl({"import", before.keystore.string(), "--format", "nginx48",
                           good.string()}),
                  "good.key");
    CHECK(snapshot(ws.dir) == before.files);
  }
}

TEST_CASE("bad input: import of a HAProxy file with a bad base64 line") {
  Workspace ws;
  const auto file = ws.path("haproxy.keys");
  write_file(file,
             base64_encode(random_bytes(80)) + "\n" + "this is not base64!\n" +
               base64_encode(random_bytes(80)) + "\n",
             0600);
  const auto before = existing_keystore(ws);
  const auto r = stekctl({"import", before.keystore.string(), "--format", "haproxy",
                          file.string()});
  check_refused(r, "haproxy.keys");
  CHECK_MESSAGE(contains(r.err, "line 2"), describe(r));
  CHECK(snapshot(ws.dir) == before.files);
}

TEST_CASE("bad input: import of a HAProxy file with a wrong-sized key line") {
  Workspace ws;
  const auto file = ws.path("haproxy.keys");
  write_haproxy_lines(file, {random_bytes(80), random_bytes(80), random_bytes(64)});
  const auto ks = ws.path("new.json");
  const auto before = snapshot(ws.dir);
  const auto r = stekctl({"import", ks.string(), "--format", "haproxy", file.string()});
  check_refused(r, "haproxy.keys");
  CHECK_MESSAGE(contains(r.err, "line 3"), describe(r));
  CHECK(snapshot(ws.dir) == before);
}

TEST_CASE("bad input: import of a HAProxy file with fewer than three lines") {
  Workspace ws;
  const auto file = ws.path("haproxy.keys");
  write_haproxy_lines(file, {random_bytes(80), random_bytes(80)});
  SUBCASE("into a new keystore") {
    const auto ks = ws.path("new.json");
    const auto before = snapshot(ws.dir);
    const auto r = stekctl({"import", ks.string(), "--format", "haproxy", file.string()});
    check_refused(r, "haproxy.keys");
    CHECK_MESSAGE(contains(r.err, "3"), describe(r));
    CHECK(snapshot(ws.dir) == before);
  }
  SUBCASE("into an existing keystore") {
    const auto before = existing_keystore(ws);
    const auto r = stekctl({"import", before.keystore.string(), "--format", "haproxy48",
                            file.string()});
    check_refused(r, "haproxy.keys");
    CHECK(snapshot(ws.dir) == before.files);
  }
}

TEST_CASE("bad input: importing a key twice is refused, naming its id") {
  Workspace ws;
  const auto file = ws.path("once.key");
  const auto key = random_bytes(80);
  write_file(file, key, 0600);
  const auto id = key_id_of(key);
  SUBCASE("twice on one command line") {
    const auto ks = ws.path("new.json");
    const auto before = snapshot(ws.dir);
    check_refused(stekctl({"import", ks.string(), "--format", "nginx", file.string(),
                           file.string()}),
                  id);
    CHECK_FALSE(fs::exists(ks));
    CHECK(snapshot(ws.dir) == before);
  }
  SUBCASE("a key already in the keystore") {
    const auto ks = ws.path("ks.json");
    require_ok(stekctl({"import", ks.string(), "--format", "nginx", file.string()}));
    const auto before = snapshot(ws.dir);
    check_refused(stekctl({"import", ks.string(), "--format", "nginx", file.string()}), id);
    CHECK(snapshot(ws.dir) == before);
  }
}

TEST_CASE("bad input: an unknown format name") {
  Workspace ws;
  const auto before = existing_keystore(ws);
  const auto key = ws.path("some.key");
  write_file(key, random_bytes(80), 0600);
  const auto files = snapshot(ws.dir);
  const auto out = ws.path("out");
  for (const auto& args :
       {std::vector<std::string>{"export", before.keystore.string(), "--format", "nginx80",
                                 "--out", out.string()},
        std::vector<std::string>{"import", before.keystore.string(), "--format", "nginx80",
                                 key.string()}}) {
    CAPTURE(args[0]);
    // Exit 1 like every other bad input of issue 3 (stekctl treats the
    // name as data checked against its registry, not as a usage error).
    const auto r = stekctl(args);
    check_refused(r, "unknown format \"nginx80\"");
    // It lists the formats there are.
    CHECK_MESSAGE(contains(r.err, "nginx48"), describe(r));
    CHECK_FALSE(fs::exists(out));
    CHECK(snapshot(ws.dir) == files);
  }
}

TEST_CASE("bad input: export of an all-expired keystore writes nothing") {
  Workspace ws;
  const auto before = existing_keystore(ws);
  // Earlier exports that a failed export must leave alone.
  const auto nginx_out = ws.path("nginx-keys");
  const auto haproxy_out = ws.path("haproxy.keys");
  export_keys(before.keystore, "nginx", nginx_out);
  export_keys(before.keystore, "haproxy", haproxy_out);
  const auto files = snapshot(ws.dir);
  // Ten years on, every key is past decrypt_until.
  const auto far = utc_in(std::chrono::hours(24 * 3650));
  for (const auto& key : list_keys(before.keystore, far)) {
    REQUIRE(key.state == "expired");
  }
  struct Case {
    std::string format;
    fs::path out;
  };
  for (const auto& c : {Case{"nginx", nginx_out}, Case{"nginx48", ws.path("new-dir")},
                        Case{"haproxy", haproxy_out}, Case{"haproxy48", ws.path("new.keys")}}) {
    CAPTURE(c.format);
    const auto r = stekctl_at(far, {"export", before.keystore.string(), "--format", c.format,
                                    "--out", c.out.string()});
    check_refused(r, "no key encrypts");
    CHECK_MESSAGE(contains(r.err, "(" + before.keystore.string() + ")"), describe(r));
    CHECK(snapshot(ws.dir) == files);
  }
}

TEST_CASE("bad input: export of a keystore without keys writes nothing") {
  Workspace ws;
  const auto ks = ws.path("empty.json");
  write_file(ks, read_file(stek::test::data_dir() / "native" / "no-keys.json"), 0600);
  const auto files = snapshot(ws.dir);
  for (const std::string format : {"nginx", "haproxy"}) {
    CAPTURE(format);
    const auto r = stekctl({"export", ks.string(), "--format", format, "--out",
                            ws.path("out").string()});
    check_refused(r, "no key encrypts");
    CHECK_MESSAGE(contains(r.err, "(" + ks.string() + ")"), describe(r));
    CHECK(snapshot(ws.dir) == files);
  }
}

} // namespace
} // namespace stek::interop
