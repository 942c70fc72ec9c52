// SPDX-License-Identifier: Apache-2.0
// Secret scan of export: every format, bound and unbound, human, --json and
// --quiet, with a deploy hook, Kubernetes Secrets of every format, and its
// errors. Exports to files must leave stdout and stderr clean; `--out -`
// must put the keys on stdout (and nothing on stderr): the positive control
// that the scan finds what a real export prints. Every secret in every file
// written must be one the test already knew, which shows that the known
// secrets are the ones the product uses.
#include "hygiene/scan_fixture.hpp"

#include <stek/encoding.hpp>

#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <sstream>

using namespace stek::hygiene;
namespace fs = std::filesystem;

namespace {

// At k_after_due, after the rotations below, ks.json holds a decrypt-only,
// an active, a pending and a revoked key.
constexpr const char* k_now = k_after_due;

const std::vector<std::string> k_formats = {
  "nginx", "nginx48", "haproxy", "haproxy48", "apache",
  "openssl", "envoy", "go", "s2n", "k8s-secret"};
const std::vector<std::string> k_text_formats = {"haproxy", "haproxy48", "go",
                                                 "s2n", "k8s-secret"};

struct Layout {
  std::size_t size;              // bytes per key
  std::vector<std::size_t> parts; // offsets of its 16- or 32-byte secrets
  std::size_t part_size;
};

// Where the secrets sit in each format's binary keys (stekctl-export(1)).
Layout layout_of(const std::string& format) {
  if (format == "nginx48" || format == "haproxy48" || format == "apache") {
    return {48, {16, 32}, 16};
  }
  if (format == "go" || format == "s2n") {
    return {32, {0}, 32};
  }
  return {80, {16, 48}, 32};
}

Bytes decoded(const std::string& text) {
  auto bytes = stek::base64_decode(text);
  REQUIRE_MESSAGE(bytes.ok(), "an export holds text that is not base64");
  const auto view = bytes->reveal();
  return Bytes(view.begin(), view.end());
}

// The binary keys a file of `format` holds.
std::vector<Bytes> keys_in_file(const std::string& format, const fs::path& path) {
  const std::string text = stek::test::read_file(path);
  std::vector<Bytes> out;
  if (format == "haproxy" || format == "haproxy48" || format == "go") {
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      out.push_back(decoded(line));
    }
  } else if (format == "s2n") {
    const auto doc = stek::test::parse_json(text);
    for (const auto& key : doc.at("keys")) {
      out.push_back(decoded(key.at("material").get<std::string>()));
    }
  } else if (path.extension() == ".yaml") {
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      const auto at = line.find("inline_bytes: ");
      if (at != std::string::npos) {
        out.push_back(decoded(line.substr(at + 14)));
      }
    }
  } else if (path.extension() != ".conf") {
    out.push_back(bytes_of(text));
  }
  return out;
}

// Check that every secret in what `format` wrote at `out` is known, and
// learn each key blob whole.
void check_export_known(KnownSecrets& known,
                        const std::string& format,
                        const fs::path& out) {
  if (format == "k8s-secret") {
    return; // YAML of base64; its stdout exports are positive controls
  }
  std::vector<fs::path> files;
  if (fs::is_directory(out)) {
    for (const auto& entry : fs::directory_iterator(out)) {
      files.push_back(entry.path());
    }
  } else {
    files.push_back(out);
  }
  const Layout layout = layout_of(format);
  std::size_t keys = 0;
  for (const auto& file : files) {
    for (const auto& key : keys_in_file(format, file)) {
      ++keys;
      CAPTURE(file.string());
      REQUIRE(key.size() == layout.size);
      for (const std::size_t at : layout.parts) {
        const std::span<const std::uint8_t> part(key.data() + at, layout.part_size);
        CHECK_MESSAGE(known.scanner().knows(part),
                      "the " << format << " export holds a secret at byte "
                             << at << " that the test does not know");
      }
      known.learn_blob("the " + format + " key blob in " + file.filename().string(),
                       key);
    }
  }
  CHECK_MESSAGE(keys > 0, "no keys found in the " << format << " export");
}

// A keystore with a key in every state at k_now: decrypt-only, active,
// pending, revoked.
void make_keystore(ScanSession& s, KnownSecrets& known) {
  s.ok({"--at", k_t0, "generate", "ks.json"});
  s.ok({"--at", k_after_due, "rotate", "ks.json"});
  s.ok({"--at", k_after_due, "rotate", "--force", "ks.json"});
  const auto ids = key_ids("ks.json");
  REQUIRE(ids.size() == 4);
  s.ok({"--at", k_after_due, "revoke", "ks.json", ids.back(), "--reason",
        "lost laptop"});
  known.learn_keystore("ks.json");
  s.ok({"--at", k_t0, "generate", "--no-sni-binding", "ks-unbound.json"});
  known.learn_keystore("ks-unbound.json");
}

void export_every_format(ScanSession& s, KnownSecrets& known) {
  for (const auto& format : k_formats) {
    for (const std::string sni : {"", "a.example", "WWW.Example.COM."}) {
      CAPTURE(format);
      CAPTURE(sni);
      std::vector<std::string> extra;
      if (!sni.empty()) {
        extra = {"--sni", sni};
      }
      if (format == "k8s-secret" && !sni.empty()) {
        // A Secret carrying the keystore leaves binding to its readers.
        s.usage({"--at", k_now, "export", "ks.json", "--format", format,
                 "--out", "out-k8s", "--sni", sni});
        continue;
      }
      const std::string out = "out-" + format + (sni.empty() ? "" : "-" + sni);
      auto args = [&](std::vector<std::string> head, const std::string& to) {
        head.insert(head.end(), {"export", "ks.json", "--format", format, "--out", to});
        head.insert(head.end(), extra.begin(), extra.end());
        return head;
      };
      s.ok(args({"--at", k_now}, out));
      check_export_known(known, format, out);
      s.ok(args({"--at", k_now}, out));                     // unchanged
      s.ok(args({"--quiet", "--at", k_now}, out));
      s.ok(args({"--json", "--at", k_now}, out + "-json"));
      s.ok(args({"--json", "--quiet", "--at", k_now}, out + "-json"));
      auto hook = args({"--at", k_now}, out + "-hook");
      hook.insert(hook.end(), {"--deploy-hook", k_printing_hook});
      s.ok(hook);
      hook = args({"--json", "--at", k_now}, out + "-hook-json");
      hook.insert(hook.end(), {"--deploy-hook", k_printing_hook});
      s.ok(hook);
      // A later instant: the pending key encrypts, another set of keys.
      s.ok(args({"--at", "2026-11-29T15:00:00Z"}, out));
      check_export_known(known, format, out);
      s.ok(args({"--at", k_t0, "--quiet"}, out + "-t0"));
    }
    s.ok({"--at", k_t0, "export", "ks-unbound.json", "--format", format,
          "--out", "out-unbound-" + format});
    check_export_known(known, format, "out-unbound-" + format);
  }
  for (const char* format : {"nginx", "nginx48", "envoy"}) {
    s.ok({"--at", k_now, "export", "ks.json", "--format", format, "--out",
          std::string("out-config-") + format, "--config-dir", "/etc/stek/"});
  }
}

void export_to_stdout(ScanSession& s) {
  const std::string encrypting = encrypting_id(s, "ks.json", k_now);
  for (const auto& format : k_text_formats) {
    for (const std::string sni : {"", "b.example"}) {
      if (format == "k8s-secret" && !sni.empty()) {
        continue; // a usage error, above
      }
      std::vector<std::string> args = {"--at", k_now, "export", "ks.json",
                                       "--format", format, "--out", "-"};
      if (!sni.empty()) {
        args.insert(args.end(), {"--sni", sni});
      }
      s.secret_to_stdout(args, {encrypting});
      args.insert(args.begin(), "--quiet");
      s.secret_to_stdout(args, {encrypting});
    }
  }
  for (const std::string of : {"keystore", "nginx", "nginx48", "haproxy",
                               "haproxy48", "apache", "openssl", "envoy", "go",
                               "s2n"}) {
    const std::vector<std::string> args = {
      "--at", k_now, "export", "ks.json", "--format", "k8s-secret",
      "--secret-of", of, "--secret-name", "web-stek", "--namespace", "web",
      "--config-dir", "/etc/nginx/stek", "--out"};
    auto to_file = args;
    to_file.push_back("out-k8s-" + of);
    s.ok(to_file);
    auto bound = to_file;
    bound.insert(bound.end(), {"--sni", "a.example"});
    bound.back() = "out-k8s-sni-" + of;
    s.run(of == "keystore" ? Expect::any : Expect::success, bound);
    auto to_stdout = args;
    to_stdout.push_back("-");
    s.secret_to_stdout(to_stdout, {encrypting});
  }
}

void export_errors(ScanSession& s, KnownSecrets& known) {
  s.fails({"--at", k_now, "export", "ks.json", "--format", "bogus", "--out", "x"});
  s.fails({"--at", k_now, "export", "missing.json", "--format", "nginx", "--out", "x"});
  s.fails({"--at", k_now, "export", "ks.json", "--format", "k8s-secret",
           "--secret-of", "bogus", "--out", "x"});
  // No key encrypts: all keys expired, or a keystore with none left.
  s.fails({"--at", k_much_later, "export", "ks.json", "--format", "go", "--out", "x"});
  s.fails({"--at", k_much_later, "export", "ks.json", "--format", "k8s-secret",
           "--out", "-"});
  // Nowhere to write: a file where a directory should be, a directory
  // where a file should be, a file system that takes no files.
  stek::test::write_file("a-file", "not a directory\n");
  fs::create_directory("a-dir");
  for (const auto& format : k_formats) {
    s.fails({"--at", k_now, "export", "ks.json", "--format", format, "--out",
             "a-file/out"});
    s.fails({"--at", k_now, "export", "ks.json", "--format", format, "--out",
             "/proc/stek-secret-scan"});
  }
  for (const char* format : {"haproxy", "apache", "openssl", "go", "s2n", "k8s-secret"}) {
    s.fails({"--at", k_now, "export", "ks.json", "--format", format, "--out", "a-dir"});
  }
  for (const char* format : {"nginx", "nginx48", "envoy"}) {
    s.fails({"--at", k_now, "export", "ks.json", "--format", format, "--out", "a-file"});
  }
  // A deploy hook that fails or is killed, after the export changed.
  s.fails({"--at", k_now, "export", "ks.json", "--format", "go", "--out",
           "out-hook-fail", "--deploy-hook", "env; exit 3"});
  s.fails({"--json", "--at", k_now, "export", "ks.json", "--format", "nginx",
           "--out", "out-hook-kill", "--deploy-hook", "env >&2; kill -9 $$"});
  // Usage errors.
  s.usage({"--at", k_now, "export", "ks.json", "--format", "nginx", "--out", "-"});
  s.usage({"--at", k_now, "export", "ks.json", "--format", "apache", "--out", "-"});
  s.usage({"--at", k_now, "export", "ks.json", "--format", "openssl", "--out", "-"});
  s.usage({"--json", "--at", k_now, "export", "ks.json", "--format", "go", "--out", "-"});
  s.usage({"--at", k_now, "export", "ks.json", "--format", "go", "--out", "-",
           "--deploy-hook", "true"});
  s.usage({"--at", k_now, "export", "ks.json", "--format", "haproxy", "--out", "x",
           "--secret-name", "n"});
  s.usage({"--at", k_now, "export", "ks.json", "--format", "haproxy", "--out", "x",
           "--config-dir", "/etc/stek"});
  s.usage({"--at", k_now, "export", "ks.json", "--format", "nginx", "--out", "x",
           "--config-dir", "relative/dir"});
  for (const char* bad : {"not a host!", "*.example.com", "a..b", "", "-a.example"}) {
    s.usage({"--at", k_now, "export", "ks.json", "--format", "go", "--out", "x",
             "--sni", bad});
  }
  s.usage({"--at", k_now, "export", "ks.json", "--format", "go"});
  s.usage({"--at", k_now, "export", "ks.json", "--out", "x"});
  s.usage({"--at", k_now, "export", "--format", "go", "--out", "x"});

  // A user that may not read the keystore, or write where it is asked to.
  if (::geteuid() == 0) {
    stek::test::ProcessOptions nobody;
    nobody.uid = 65534;
    nobody.gid = 65534;
    s.fails({"--at", k_now, "export", "ks.json", "--format", "go", "--out",
             "/tmp/stek-never-written"}, nobody);
    fs::copy_file("ks.json", "ks-nobody.json");
    REQUIRE(::chown("ks-nobody.json", 65534, 65534) == 0);
    fs::create_directory("root-only");
    fs::permissions("root-only", fs::perms::owner_all | fs::perms::group_read |
                                   fs::perms::group_exec | fs::perms::others_read |
                                   fs::perms::others_exec);
    for (const char* format : {"nginx", "go", "openssl"}) {
      s.fails({"--at", k_now, "export", "ks-nobody.json", "--format", format,
               "--out", "root-only/out"}, nobody);
    }
  }

  // A keystore whose encrypting key was imported from an 80-byte file:
  // formats of another size or that need material cannot take it.
  Bytes file = random_bytes(80);
  write_bytes("imported.key", file);
  known.learn_blob("imported nginx key file", file);
  s.ok({"--at", k_now, "import", "ks-imported.json", "--format", "nginx",
        "imported.key"});
  known.learn_keystore("ks-imported.json");
  for (const char* format : {"nginx48", "haproxy48", "apache", "go", "s2n"}) {
    s.fails({"--at", k_now, "export", "ks-imported.json", "--format", format,
             "--out", std::string("out-imported-") + format});
    s.fails({"--at", k_now, "export", "ks-imported.json", "--format", "k8s-secret",
             "--secret-of", format, "--out", "-"});
  }
  for (const char* format : {"nginx", "haproxy", "openssl", "envoy"}) {
    s.ok({"--at", k_now, "export", "ks-imported.json", "--format", format,
          "--out", std::string("out-imported-") + format, "--sni", "a.example"});
    check_export_known(known, format, std::string("out-imported-") + format);
  }
  s.secret_to_stdout({"--at", k_now, "export", "ks-imported.json", "--format",
                      "haproxy", "--out", "-"},
                     {key_ids("ks-imported.json").front()});
}

} // namespace

TEST_CASE("secret scan: export prints secrets only to --out -") {
  const stek::test::ScratchDir dir("scan-export");
  KnownSecrets known;
  ScanSession s(known);
  make_keystore(s, known);
  export_every_format(s, known);
  export_to_stdout(s);
  export_errors(s, known);
  s.scan_all("export");
}
