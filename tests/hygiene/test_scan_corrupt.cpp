// SPDX-License-Identifier: Apache-2.0
// Secret scan of every command given a keystore it must refuse: corrupted
// JSON cut off or broken next to a secret, secrets of the wrong length,
// encoding or type, secrets where other fields belong, duplicate ids and
// secrets, wrong permissions, not a file, too big, a lock that cannot be
// taken. The file is full of known secrets; no error may quote it.
#include "hygiene/scan_fixture.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>

using namespace stek::hygiene;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr const char* k_now = k_after_due;

// A valid keystore with generated keys in several states and keys imported
// with 32- and 16-byte AES and HMAC keys, all learned.
json make_base(ScanSession& s, KnownSecrets& known) {
  s.ok({"--at", k_t0, "generate", "base.json"});
  s.ok({"--at", k_after_due, "rotate", "base.json"});
  Bytes k80 = random_bytes(80);
  Bytes k48 = random_bytes(48);
  write_bytes("k80.key", k80);
  write_bytes("k48.key", k48);
  known.learn_blob("the 80-byte key file", k80);
  known.learn_blob("the 48-byte key file", k48);
  s.ok({"--at", k_t0, "import", "base.json", "--format", "nginx", "k80.key"});
  s.ok({"--at", k_t0, "import", "base.json", "--format", "nginx48", "k48.key"});
  known.learn_keystore("base.json");
  // Generated keys only: every export of it works.
  s.ok({"--at", k_t0, "generate", "plain.json"});
  s.ok({"--at", k_after_due, "rotate", "plain.json"});
  known.learn_keystore("plain.json");
  // Something good to import and a ticket to inspect, for the commands
  // that read the keystore among other files.
  const Bytes fresh = random_bytes(80);
  known.learn_blob("the key file to import", fresh);
  known.learn("the HMAC key of the key file to import",
              std::span<const std::uint8_t>(fresh).subspan(16, 32));
  known.learn("the AES key of the key file to import",
              std::span<const std::uint8_t>(fresh).subspan(48, 32));
  write_bytes("fresh.key", fresh);
  write_text("ticket.hex", hex_of(random_bytes(160), false) + "\n");
  auto doc = read_json("base.json");
  REQUIRE(doc.at("keys").size() == 5);
  return doc;
}

// The commands that read a keystore, each run on `path`, expected to do
// `expect`. `exists`: whether there is a file at `path` (if not, import and
// generate create one, and run last).
void run_readers(ScanSession& s, const std::string& path, Expect expect,
                 const std::vector<std::string>& global = {},
                 bool exists = true) {
  const auto with = [&](std::vector<std::string> command) {
    std::vector<std::string> args = global;
    args.insert(args.end(), {"--at", k_now});
    args.insert(args.end(), command.begin(), command.end());
    return args;
  };
  const std::vector<std::vector<std::string>> commands = {
    {"list", path},
    {"--json", "list", path},
    {"rotate", path},
    {"rotate", "--force", path, "--deploy-hook", k_printing_hook},
    {"--json", "rotate", "--now", "--revoke-current", "r", path},
    {"rotate", "--dry-run", path},
    {"export", path, "--format", "go", "--out", "out-go"},
    {"export", path, "--format", "nginx", "--out", "out-nginx"},
    {"--json", "export", path, "--format", "haproxy", "--out", "out-haproxy"},
    {"inspect", "--keystore", path, "ticket.hex"},
    {"--json", "inspect", "--summary", "--keystore", path, "ticket.hex"},
  };
  for (const auto& command : commands) {
    s.run(expect, with(command));
  }
  // No key has this id, so revoke fails even on a good keystore.
  s.fails(with({"revoke", path, std::string(32, 'a'), "--reason", "test"}));
  const auto k8s = with({"export", path, "--format", "k8s-secret", "--out", "-"});
  if (expect == Expect::success) {
    s.secret_to_stdout(k8s, {key_ids(path).front()});
  } else {
    s.run(expect, k8s);
  }
  s.run(Expect::any, with({"check", path}));
  s.run(Expect::any, with({"check", "--prometheus", path}));
  const auto import = with({"import", path, "--format", "nginx", "fresh.key"});
  const auto generate = with({"generate", path});
  if (exists) {
    s.run(expect, import);
    s.fails(generate);
  } else {
    s.run(Expect::any, import);
    s.run(Expect::any, generate);
  }
}

std::string b64(const Bytes& bytes) { return base64_of(bytes, false, true); }

Bytes decoded_field(const json& key, const char* field) {
  // Decoded here rather than with libstek, and checked by encoding it
  // again: the corruptions must start from exactly the stored secret.
  const std::string text = key.at(field).get<std::string>();
  static const std::string alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  Bytes out;
  std::uint32_t bits = 0;
  int count = 0;
  for (const char c : text) {
    const auto at = alphabet.find(c);
    if (at == std::string::npos) {
      break;
    }
    bits = (bits << 6) | static_cast<std::uint32_t>(at);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<std::uint8_t>((bits >> count) & 0xff));
    }
  }
  REQUIRE(b64(out) == text);
  return out;
}

struct Corruption {
  std::string name;
  std::string text;
};

std::vector<Corruption> corruptions(const json& base) {
  std::vector<Corruption> out;
  const std::string text = base.dump(2) + "\n";
  const json& k1 = base.at("keys").at(0);
  const json& k2 = base.at("keys").at(1);
  const std::string m1 = k1.at("material").get<std::string>();
  const std::string m2 = k2.at("material").get<std::string>();
  const Bytes s1 = decoded_field(k1, "material");
  const std::size_t at = text.find(m1);
  REQUIRE(at != std::string::npos);
  const auto edit = [&](const std::string& name, auto change) {
    json doc = base;
    change(doc);
    out.push_back({name, doc.dump(2) + "\n"});
  };
  const auto replace_m1 = [&](const std::string& name, const std::string& with) {
    std::string t = text;
    t.replace(at, m1.size(), with);
    out.push_back({name, t});
  };

  // Cut off, broken JSON.
  out.push_back({"cut in half", text.substr(0, text.size() / 2)});
  out.push_back({"cut inside a material", text.substr(0, at + 20)});
  out.push_back({"cut after a material", text.substr(0, at + m1.size() + 1)});
  out.push_back({"empty", ""});
  out.push_back({"blank", "  \n\t\n"});
  out.push_back({"raw secret bytes", std::string(s1.begin(), s1.end()) + text});
  {
    std::string t = text;
    t.erase(t.find(',', at));
    t += text.substr(text.find(',', at) + 1);
    out.push_back({"missing comma after a material", t});
  }
  {
    std::string t = text;
    t.insert(at + m1.size() + 1, ",");
    out.push_back({"trailing comma after a material", t});
  }
  replace_m1("newline inside a material", m1.substr(0, 20) + "\n" + m1.substr(20));
  replace_m1("invalid UTF-8 inside a material", m1.substr(0, 20) + "\xff" + m1.substr(20));
  replace_m1("control character inside a material", m1.substr(0, 20) + "\x01" + m1.substr(20));
  replace_m1("unterminated material", m1.substr(0, 30) + "\n  }\n");
  replace_m1("escaped newline inside a material", m1.substr(0, 20) + "\\n" + m1.substr(20));
  replace_m1("a comment after a material", m1 + "\" /* " + m1 + " */ \"");

  // Secrets that are not base64 of the right size.
  replace_m1("bad base64 character in a material", m1.substr(0, 20) + "!" + m1.substr(21));
  replace_m1("base64url material", base64_of(s1, true, false));
  replace_m1("unpadded material", base64_of(s1, false, false));
  replace_m1("hex material", hex_of(s1, false));
  replace_m1("material with a space", m1.substr(0, 20) + " " + m1.substr(20));
  {
    std::string t = m1;
    const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const auto last = t.size() - 2; // before the one '=' of 32 bytes
    t[last] = alphabet[(alphabet.find(t[last]) | 1) % 64];
    replace_m1("non-canonical material", t);
  }
  replace_m1("31-byte material", b64(Bytes(s1.begin(), s1.end() - 1)));
  replace_m1("33-byte material", b64([&] { Bytes b = s1; b.push_back(0x42); return b; }()));
  replace_m1("64-byte material", b64([&] { Bytes b = s1; b.insert(b.end(), s1.begin(), s1.end()); return b; }()));
  replace_m1("all-zero material", b64(Bytes(32, 0)));
  edit("24-byte imported AES key", [&](json& d) {
    const Bytes aes = decoded_field(d["keys"][3], "aes");
    d["keys"][3]["aes"] = b64(Bytes(aes.begin(), aes.begin() + 24));
  });
  edit("16-byte AES with 32-byte HMAC", [&](json& d) {
    d["keys"][3]["aes"] = d["keys"][4]["aes"];
  });
  edit("material and aes", [&](json& d) { d["keys"][0]["aes"] = d["keys"][3]["aes"]; });
  edit("neither material nor aes", [&](json& d) { d["keys"][0].erase("material"); });
  edit("hmac without aes", [&](json& d) { d["keys"][3].erase("aes"); });
  edit("material a number", [&](json& d) { d["keys"][0]["material"] = 12345; });
  edit("material an object", [&](json& d) { d["keys"][0]["material"] = json{{m1, m2}}; });
  edit("material an array", [&](json& d) { d["keys"][0]["material"] = json::array({m1, m2}); });
  edit("aes null", [&](json& d) { d["keys"][3]["aes"] = nullptr; });

  // Keys that clash.
  edit("duplicate id", [&](json& d) { d["keys"][1]["id"] = d["keys"][0]["id"]; });
  edit("duplicate material", [&](json& d) { d["keys"][1]["material"] = m1; });
  edit("duplicate imported keys", [&](json& d) {
    d["keys"][4]["aes"] = d["keys"][3]["aes"];
    d["keys"][4]["hmac"] = d["keys"][3]["hmac"];
  });
  {
    std::string t = text;
    t.insert(at + m1.size() + 1, ",\n      \"material\": \"" + m2 + "\"");
    out.push_back({"material given twice", t});
  }

  // Secrets where other things belong.
  edit("a material as a field name", [&](json& d) { d["keys"][0][m1] = "x"; });
  edit("a material as a top-level field name", [&](json& d) { d[m1] = 1; });
  edit("a material as a policy field name", [&](json& d) { d["policy"][m2] = "1h"; });
  {
    std::string t = text;
    const std::string field = "\n      \"" + m2 + "\": 1,";
    t.insert(text.find('{', text.find("\"keys\"")) + 1, field + field);
    out.push_back({"a material as a field name, twice", t});
  }
  edit("a material in an unknown field", [&](json& d) { d["keys"][0]["note"] = m1; });
  edit("a material at the top level", [&](json& d) { d["backup"] = m1; });
  edit("a material as a time", [&](json& d) { d["keys"][0]["not_before"] = m1; });
  edit("a material as a duration", [&](json& d) { d["policy"]["rotate_every"] = m1; });
  edit("a material as the version", [&](json& d) { d["stek_keystore"] = m1; });
  edit("a material as the id", [&](json& d) { d["keys"][0]["id"] = m1; });
  edit("a material in hex as the id", [&](json& d) { d["keys"][0]["id"] = hex_of(s1, false); });
  edit("a material as the keys", [&](json& d) { d["keys"] = m1; });
  edit("a material as a key", [&](json& d) { d["keys"][2] = m1; });
  edit("a material as the policy", [&](json& d) { d["policy"] = m1; });
  edit("a material as sni_binding", [&](json& d) { d["policy"]["sni_binding"] = m1; });
  edit("a material as the revocation", [&](json& d) { d["keys"][0]["revoked"] = m1; });
  edit("a material as a revocation time", [&](json& d) {
    d["keys"][0]["revoked"] = json{{"at", m1}, {"reason", "x"}};
  });
  edit("a material as a number field", [&](json& d) { d["keys"][0]["origin"] = json{{"x", m1}}; });
  out.push_back({"a list of materials", json::array({m1, m2}).dump() + "\n"});

  // Everything else the reader checks.
  edit("version 2", [&](json& d) { d["stek_keystore"] = 2; });
  edit("version as a string", [&](json& d) { d["stek_keystore"] = "1"; });
  edit("no version", [&](json& d) { d.erase("stek_keystore"); });
  edit("no policy", [&](json& d) { d.erase("policy"); });
  edit("bad duration", [&](json& d) { d["policy"]["decrypt_for"] = "forever"; });
  edit("impossible policy", [&](json& d) { d["policy"]["encrypt_for"] = "1s"; });
  edit("imported key without origin", [&](json& d) { d["keys"][3].erase("origin"); });
  edit("origin a number", [&](json& d) { d["keys"][0]["origin"] = 7; });
  edit("times out of order", [&](json& d) {
    d["keys"][0]["not_before"] = "2030-01-01T00:00:00Z";
  });
  edit("time with an offset", [&](json& d) {
    d["keys"][0]["created"] = "2026-11-28T15:00:00+01:00";
  });
  edit("empty revocation reason", [&](json& d) {
    d["keys"][0]["revoked"] = json{{"at", "2026-11-28T15:00:00Z"}, {"reason", ""}};
  });
  edit("unknown revocation field", [&](json& d) {
    d["keys"][0]["revoked"] = json{{"at", "2026-11-28T15:00:00Z"}, {"reason", "r"}, {"by", m1}};
  });
  return out;
}

} // namespace

TEST_CASE("secret scan: no command quotes a corrupt keystore") {
  const stek::test::ScratchDir dir("scan-corrupt");
  KnownSecrets known;
  ScanSession s(known);
  const json base = make_base(s, known);
  const auto all = corruptions(base);
  for (std::size_t i = 0; i < all.size(); ++i) {
    CAPTURE(all[i].name);
    const std::string path = "bad-" + std::to_string(i) + ".json";
    write_text(path, all[i].text);
    run_readers(s, path, Expect::failure);
  }
  MESSAGE(all.size() << " corrupt keystores, each given to every reading command");
  s.scan_all("corrupt keystores");
}

TEST_CASE("secret scan: no command quotes a keystore it may not use") {
  const stek::test::ScratchDir dir("scan-refused");
  KnownSecrets known;
  ScanSession s(known);
  make_base(s, known);
  const std::string text = stek::test::read_file("plain.json");

  // Loose permissions: refused, then used when allowed.
  for (const mode_t mode : {0644u, 0640u, 0604u, 0660u, 0606u, 0620u}) {
    const std::string path = "mode-" + std::to_string(mode) + ".json";
    write_text(path, text, mode);
    run_readers(s, path, Expect::failure);
    write_text(path, text, mode);
    run_readers(s, path, Expect::success, {"--allow-insecure-permissions"});
    known.learn_keystore(path);
  }
  // Not a keystore file at all.
  run_readers(s, "missing.json", Expect::failure, {}, false);
  fs::create_directory("a-dir.json");
  run_readers(s, "a-dir.json", Expect::failure);
  fs::create_symlink("never-created.json", "dangling.json");
  run_readers(s, "dangling.json", Expect::failure, {}, false);
  fs::create_symlink("/dev/null", "null.json");
  run_readers(s, "null.json", Expect::failure);
  // Over 64 MiB, secrets first.
  write_text("huge.json", text, 0600);
  fs::resize_file("huge.json", (64u << 20) + 1);
  run_readers(s, "huge.json", Expect::failure);
  // A keystore the user cannot read.
  if (::geteuid() == 0) {
    write_text("root.json", text, 0600);
    stek::test::ProcessOptions nobody;
    nobody.uid = 65534;
    nobody.gid = 65534;
    for (const char* command : {"list", "rotate"}) {
      s.fails({"--at", k_now, command, "root.json"}, nobody);
    }
    s.fails({"--at", k_now, "export", "root.json", "--format", "go", "--out", "-"},
            nobody);
    s.fails({"--at", k_now, "inspect", "--keystore", "root.json", "ticket.hex"}, nobody);
  }
  // A lock file that cannot be opened.
  write_text("lockdir.json", text, 0600);
  fs::create_directory("lockdir.json.lock");
  for (const std::vector<std::string>& command :
       {std::vector<std::string>{"rotate", "--force", "lockdir.json"},
        {"revoke", "lockdir.json", key_ids("lockdir.json").front(), "--reason", "r"},
        {"import", "lockdir.json", "--format", "nginx", "fresh.key"},
        {"generate", "--force", "lockdir.json"}}) {
    std::vector<std::string> args = {"--at", k_now};
    args.insert(args.end(), command.begin(), command.end());
    s.fails(args);
  }
  s.scan_all("refused keystores");
}
