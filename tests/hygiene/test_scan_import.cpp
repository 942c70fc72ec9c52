// SPDX-License-Identifier: Apache-2.0
// Secret scan of import: key files of every format made from bytes the test
// chose, imported into new and existing keystores, and malformed files of
// every format built from those same secret bytes (a 79-byte nginx file, a
// HAProxy line with bad base64 in the middle of the key, an s2n file cut
// short inside a material, ...). An error about a bad key file must not
// quote the file.
#include "hygiene/scan_fixture.hpp"

#include <doctest/doctest.h>

#include <filesystem>

using namespace stek::hygiene;
namespace fs = std::filesystem;

namespace {

constexpr const char* k_now = k_t0;

Bytes concat(const Bytes& a, const Bytes& b) {
  Bytes out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

Bytes cut(const Bytes& bytes, std::size_t size) {
  return Bytes(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(size));
}

// Makes key files from fresh random bytes and learns their secrets.
class KeyMaker {
public:
  explicit KeyMaker(KnownSecrets& known) : m_known(known) {}

  // A key of `size` bytes: a 16-byte id (chosen, or random) and secrets
  // of (size - 16) / 2 bytes each.
  Bytes key(std::size_t size, const Bytes& id = {}) {
    Bytes out = id.empty() ? random_bytes(16) : id;
    const std::size_t part = (size - 16) / 2;
    const Bytes a = random_bytes(part);
    const Bytes b = random_bytes(part);
    const std::string n = std::to_string(++m_count);
    m_known.learn("chosen key " + n + " secret 1 (" + std::to_string(part) + " bytes)", a);
    m_known.learn("chosen key " + n + " secret 2 (" + std::to_string(part) + " bytes)", b);
    out = concat(concat(out, a), b);
    m_known.learn_blob("chosen key " + n + " file", out);
    return out;
  }

  // 32 bytes of material, as Go and s2n-tls take it.
  Bytes material() {
    Bytes out = random_bytes(32);
    m_known.learn("chosen material " + std::to_string(++m_count), out);
    return out;
  }

private:
  KnownSecrets& m_known;
  int m_count = 0;
};

std::string b64(const Bytes& bytes) { return base64_of(bytes, false, true); }

std::string lines_of(const std::vector<Bytes>& keys) {
  std::string out;
  for (const auto& key : keys) {
    out += b64(key) + "\n";
  }
  return out;
}

std::string s2n_file(const std::vector<Bytes>& materials, std::int64_t intro) {
  std::string out = "{\n  \"s2n_ticket_keys\": 1,\n  \"keys\": [\n";
  for (std::size_t i = 0; i < materials.size(); ++i) {
    out += std::string(i == 0 ? "" : ",\n") + "    {\"name\": \"" +
           hex_of(random_bytes(16), false) + "\", \"material\": \"" +
           b64(materials[i]) + "\", \"intro_time\": " +
           std::to_string(intro + static_cast<std::int64_t>(i)) + "}";
  }
  return out + "\n  ]\n}\n";
}

// Import `files` as `format` into a new keystore, three ways, and learn the
// keystore.
void import_new(ScanSession& s,
                KnownSecrets& known,
                const std::string& format,
                const std::vector<std::string>& files) {
  int variant = 0;
  for (const std::vector<std::string>& flags :
       {std::vector<std::string>{}, {"--json"}, {"--quiet"}}) {
    const std::string ks = "ks-" + format + "-" + std::to_string(++variant) + ".json";
    auto args = flags;
    args.insert(args.end(), {"--at", k_now, "import", ks, "--format", format});
    args.insert(args.end(), files.begin(), files.end());
    s.ok(args);
    known.learn_keystore(ks);
  }
  const std::string ks = "ks-" + format + "-1.json";
  s.ok({"--at", k_now, "list", ks});
  s.ok({"--json", "--at", k_now, "list", ks});
  // Again into the same keystore: every key is already there.
  auto again = std::vector<std::string>{"--at", k_now, "import", ks, "--format", format};
  again.insert(again.end(), files.begin(), files.end());
  s.fails(again);
}

void import_every_format(ScanSession& s, KnownSecrets& known, KeyMaker& make) {
  write_bytes("nginx-1.key", make.key(80));
  write_bytes("nginx-2.key", make.key(80));
  import_new(s, known, "nginx", {"nginx-1.key", "nginx-2.key"});
  write_bytes("nginx48-1.key", make.key(48));
  write_bytes("nginx48-2.key", make.key(48));
  import_new(s, known, "nginx48", {"nginx48-1.key", "nginx48-2.key"});
  write_text("haproxy.keys", lines_of({make.key(80), make.key(80), make.key(80)}));
  import_new(s, known, "haproxy", {"haproxy.keys"});
  // Four lines: HAProxy keeps the last three, with a warning.
  write_text("haproxy48.keys",
             lines_of({make.key(48), make.key(48), make.key(48), make.key(48)}));
  import_new(s, known, "haproxy48", {"haproxy48.keys"});
  write_bytes("apache.key", make.key(48));
  import_new(s, known, "apache", {"apache.key"});
  write_bytes("openssl.key", make.key(80));
  import_new(s, known, "openssl", {"openssl.key"});
  write_bytes("envoy-1.key", make.key(80));
  write_bytes("envoy-2.key", make.key(80));
  import_new(s, known, "envoy", {"envoy-1.key", "envoy-2.key"});
  write_text("go.keys", b64(make.material()) + "\r\n" + b64(make.material()) + "\n");
  import_new(s, known, "go", {"go.keys"});
  write_text("s2n.json", s2n_file({make.material(), make.material()}, 1795000000));
  import_new(s, known, "s2n", {"s2n.json"});

  // Into a keystore stekctl generated, then used like any other.
  s.ok({"--at", k_now, "generate", "ks.json"});
  known.learn_keystore("ks.json");
  write_bytes("more.key", make.key(80));
  s.ok({"--at", k_now, "import", "ks.json", "--format", "nginx", "more.key"});
  known.learn_keystore("ks.json");
  s.ok({"--at", k_now, "list", "ks.json"});
  s.ok({"--at", k_after_due, "rotate", "ks.json"});
  known.learn_keystore("ks.json");

  // What stekctl itself exported, imported back into new keystores.
  const std::vector<std::pair<std::string, std::vector<std::string>>> sources = {
    {"ks-go-1.json", {"go", "s2n"}},
    {"ks-nginx-1.json", {"haproxy", "openssl"}},
    {"ks-nginx48-1.json", {"haproxy48", "apache"}}};
  for (const auto& [source, formats] : sources) {
    for (const auto& format : formats) {
      s.ok({"--at", k_now, "export", source, "--format", format, "--out",
            "exported-" + format});
      s.ok({"--at", k_now, "import", "ks-back-" + format + ".json", "--format",
            format, "exported-" + format});
    }
  }
  s.ok({"--at", k_now, "export", "ks-nginx-1.json", "--format", "nginx", "--out",
        "exported-nginx"});
  std::vector<std::string> back = {"--at", k_now, "import", "ks-back-nginx.json",
                                   "--format", "nginx"};
  for (const auto& entry : fs::directory_iterator("exported-nginx")) {
    if (entry.path().extension() == ".key") {
      back.push_back(entry.path().string());
    }
  }
  s.ok(back);

  // Two ids that share their first hex digits: a revoke by that prefix is
  // ambiguous.
  const Bytes prefix = {0xab, 0xcd, 0xef, 0x01};
  Bytes id1 = concat(prefix, random_bytes(12));
  Bytes id2 = concat(prefix, random_bytes(12));
  write_bytes("same-prefix-1.key", make.key(80, id1));
  write_bytes("same-prefix-2.key", make.key(80, id2));
  s.ok({"--at", k_now, "import", "ks-prefix.json", "--format", "nginx",
        "same-prefix-1.key", "same-prefix-2.key"});
  known.learn_keystore("ks-prefix.json");
  s.fails({"--at", k_now, "revoke", "ks-prefix.json", "abcdef01", "--reason", "which one"});
  s.ok({"--at", k_now, "revoke", "ks-prefix.json", hex_of(id1, false), "--reason", "this one"});
}

// Malformed files of every format, made from secret bytes.
void import_malformed(ScanSession& s, KeyMaker& make) {
  const auto bad = [&](const std::string& format, std::vector<std::string> files,
                       Expect expect = Expect::failure) {
    std::vector<std::string> args = {"--at", k_now, "import", "ks-bad.json",
                                     "--format", format};
    args.insert(args.end(), files.begin(), files.end());
    s.run(expect, args);
    // The same into a keystore that exists.
    args[3] = "ks.json";
    s.run(expect, args);
  };
  const Bytes k80 = make.key(80);
  const Bytes k48 = make.key(48);

  write_bytes("79.key", cut(k80, 79));
  write_bytes("81.key", concat(k80, {0x0a}));
  write_bytes("47.key", cut(k48, 47));
  write_bytes("49.key", concat(k48, {0x0a}));
  write_bytes("80.key", k80);
  write_bytes("48.key", k48);
  write_bytes("empty.key", {});
  // The key written as hex text, with one digit that is not hex.
  std::string hex = hex_of(k80, false);
  hex[70] = 'g';
  write_text("hex.key", hex + "\n");
  write_text("hex-good.key", hex_of(k80, false) + "\n");
  for (const char* format : {"nginx", "openssl", "envoy"}) {
    bad(format, {"79.key"});
    bad(format, {"81.key"});
    bad(format, {"48.key"});
    bad(format, {"empty.key"});
    bad(format, {"hex.key"});
    bad(format, {"hex-good.key"});
  }
  for (const char* format : {"nginx48", "apache"}) {
    bad(format, {"47.key"});
    bad(format, {"49.key"});
    bad(format, {"80.key"});
    bad(format, {"hex.key"});
  }
  // One good file and one bad: nothing is imported.
  write_bytes("good.key", make.key(80));
  bad("nginx", {"good.key", "79.key"});
  bad("envoy", {"good.key", "hex.key"});
  bad("apache", {"48.key", "48.key"}, Expect::usage);
  bad("openssl", {"80.key", "80.key"}, Expect::usage);
  bad("nginx", {"good.key", "good.key"});

  // HAProxy: bad base64 in the middle of a key, too few lines, wrong
  // sizes, one id with two different keys, URL-safe and unpadded base64.
  const Bytes a = make.key(80), b = make.key(80), c = make.key(80);
  std::string middle = b64(b);
  middle[60] = '!';
  write_text("haproxy-bad64.keys", b64(a) + "\n" + middle + "\n" + b64(c) + "\n");
  write_text("haproxy-2.keys", b64(a) + "\n" + b64(b) + "\n");
  write_text("haproxy-79.keys", b64(a) + "\n" + b64(cut(b, 79)) + "\n" + b64(c) + "\n");
  write_text("haproxy-48.keys", lines_of({k48, k48, k48}));
  Bytes twin = make.key(80, cut(a, 16));
  write_text("haproxy-twin.keys", lines_of({a, b, twin}));
  write_text("haproxy-url.keys", base64_of(a, true, true) + "\n" +
                                   base64_of(b, true, false) + "\n" + b64(c) + "\n");
  write_text("haproxy-space.keys", b64(a) + " \n" + b64(b) + "\t" + b64(c) + "\n" + b64(c));
  for (const char* file : {"haproxy-bad64.keys", "haproxy-2.keys", "haproxy-79.keys",
                           "haproxy-48.keys", "haproxy-twin.keys", "haproxy-url.keys",
                           "haproxy-space.keys", "80.key", "empty.key", "hex.key"}) {
    bad("haproxy", {file});
  }
  for (const char* file : {"haproxy-bad64.keys", "haproxy-2.keys", "80.key"}) {
    bad("haproxy48", {file});
  }
  bad("haproxy", {"haproxy-2.keys", "haproxy-2.keys"}, Expect::usage);

  // Go: bad base64 inside a key, 31 and 33 bytes, no keys, a binary file.
  const Bytes m1 = make.material(), m2 = make.material();
  std::string bad_line = b64(m2);
  bad_line[20] = '*';
  write_text("go-bad64.keys", b64(m1) + "\n" + bad_line + "\n");
  write_text("go-31.keys", b64(m1) + "\n" + b64(cut(m2, 31)) + "\n");
  write_text("go-33.keys", b64(concat(m1, {0x42})) + "\n");
  write_text("go-hex.keys", hex_of(m1, false) + "\n");
  write_text("go-blank.keys", b64(m1) + "\n\n" + b64(m2) + "\n");
  for (const char* file : {"go-bad64.keys", "go-31.keys", "go-33.keys", "go-hex.keys",
                           "go-blank.keys", "empty.key", "80.key"}) {
    bad("go", {file});
  }
  bad("go", {"go-31.keys", "go-33.keys"}, Expect::usage);

  // s2n-tls: cut short inside a material, bad and short materials, bad
  // names, missing fields, every key in the future, another version.
  const std::string s2n = s2n_file({m1, m2}, 1795000000);
  write_text("s2n-cut.json", s2n.substr(0, s2n.rfind(b64(m2)) + 20));
  write_text("s2n-future.json", s2n_file({m1, m2}, 2000000000));
  std::string s2n_bad = s2n;
  s2n_bad[s2n_bad.rfind(b64(m2)) + 10] = '%';
  write_text("s2n-bad64.json", s2n_bad);
  write_text("s2n-31.json", s2n_file({m1, cut(m2, 31)}, 1795000000));
  write_text("s2n-v2.json", "{\"s2n_ticket_keys\": 2, \"keys\": [{\"name\": \"00\", "
                            "\"material\": \"" + b64(m1) + "\", \"intro_time\": 1}]}");
  write_text("s2n-name.json", "{\"s2n_ticket_keys\": 1, \"keys\": [{\"name\": \"" +
                                hex_of(m1, false) + "\", \"material\": \"" + b64(m2) +
                                "\", \"intro_time\": 1}]}");
  write_text("s2n-nointro.json", "{\"s2n_ticket_keys\": 1, \"keys\": [{\"name\": \"0a\", "
                                 "\"material\": \"" + b64(m2) + "\"}]}");
  write_text("s2n-type.json", "{\"s2n_ticket_keys\": 1, \"keys\": [{\"name\": \"0a\", "
                              "\"material\": [\"" + b64(m2) + "\"], \"intro_time\": 1}]}");
  write_text("s2n-keys.json", "{\"s2n_ticket_keys\": 1, \"keys\": \"" + b64(m1) + "\"}");
  write_text("s2n-dup.json", "{\"s2n_ticket_keys\": 1, \"keys\": [{\"name\": \"0a\", "
                             "\"material\": \"" + b64(m1) + "\", \"material\": \"" +
                             b64(m2) + "\", \"intro_time\": 1}]}");
  for (const char* file : {"s2n-cut.json", "s2n-future.json", "s2n-bad64.json",
                           "s2n-31.json", "s2n-v2.json", "s2n-name.json",
                           "s2n-nointro.json", "s2n-type.json", "s2n-keys.json",
                           "80.key", "empty.key", "go-bad64.keys"}) {
    bad("s2n", {file});
  }
  // A repeated field: whichever material wins, nothing is quoted.
  s.run(Expect::any, {"--at", k_now, "import", "ks-s2n-dup.json", "--format", "s2n",
                      "s2n-dup.json"});

  // Files that are not there, not files, or far too big.
  fs::create_directory("a-dir");
  Bytes big;
  while (big.size() <= (1u << 20)) {
    big = concat(big, k80);
  }
  write_bytes("big.key", big);
  for (const char* format : {"nginx", "haproxy", "go", "s2n"}) {
    bad(format, {"missing.key"});
    bad(format, {"a-dir"});
    bad(format, {"big.key"});
  }
  // Formats that do not exist or cannot be imported.
  bad("bogus", {"80.key"});
  bad("k8s-secret", {"80.key"}, Expect::usage);
  s.usage({"--at", k_now, "import", "ks-bad.json", "--format", "nginx"});
  s.usage({"--at", k_now, "import", "ks-bad.json", "80.key"});
}

// Good files into keystores that cannot take them.
void import_into_bad_keystores(ScanSession& s, KnownSecrets& known, KeyMaker& make) {
  write_bytes("fresh.key", make.key(80));
  // A key whose secrets another key of the keystore already has.
  const Bytes original = make.key(80);
  write_bytes("original.key", original);
  Bytes copy = random_bytes(16);
  copy.insert(copy.end(), original.begin() + 16, original.end());
  known.learn_blob("a copy of another key's secrets under a new id", copy);
  write_bytes("copy.key", copy);
  s.ok({"--at", k_now, "import", "ks-dup.json", "--format", "nginx", "original.key"});
  known.learn_keystore("ks-dup.json");
  s.fails({"--at", k_now, "import", "ks-dup.json", "--format", "nginx", "copy.key"});
  s.fails({"--at", k_now, "import", "ks-copy.json", "--format", "nginx", "original.key",
           "copy.key"});

  s.ok({"--at", k_now, "generate", "ks-open.json"});
  known.learn_keystore("ks-open.json");
  fs::permissions("ks-open.json", fs::perms::owner_read | fs::perms::owner_write |
                                    fs::perms::group_read | fs::perms::others_read);
  s.fails({"--at", k_now, "import", "ks-open.json", "--format", "nginx", "fresh.key"});
  s.ok({"--allow-insecure-permissions", "--at", k_now, "import", "ks-open.json",
        "--format", "nginx", "fresh.key"});
  known.learn_keystore("ks-open.json");

  const std::string text = stek::test::read_file("ks-open.json");
  write_text("ks-cut.json", text.substr(0, text.size() / 2));
  s.fails({"--at", k_now, "import", "ks-cut.json", "--format", "nginx", "fresh.key"});
  s.fails({"--at", k_now, "import", "no-such-dir/ks.json", "--format", "nginx",
           "fresh.key"});
  fs::create_directory("ks-dir.json");
  s.fails({"--at", k_now, "import", "ks-dir.json", "--format", "nginx", "fresh.key"});
}

} // namespace

TEST_CASE("secret scan: import never echoes a key file, good or bad") {
  const stek::test::ScratchDir dir("scan-import");
  KnownSecrets known;
  ScanSession s(known);
  KeyMaker make(known);
  import_every_format(s, known, make);
  import_malformed(s, make);
  import_into_bad_keystores(s, known, make);
  s.scan_all("import");
}
