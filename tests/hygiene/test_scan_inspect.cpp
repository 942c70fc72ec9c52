// SPDX-License-Identifier: Apache-2.0
// Secret scan of inspect: tickets that real OpenSSL handshakes minted under a
// keystore's keys (through the provider, SNI-bound, and through the bytes of
// an openssl export), as text, binary, saved sessions and pcap/pcapng
// captures with a key log, decrypted with --keystore, as reports, JSON and
// summaries, plus the fuzz corpus, and every error. Known besides the
// keystore: each session's master secret and every key log secret, which
// inspect reads but must never print either. Also inspect given a file
// that holds secrets instead of tickets (a key file, a keystore), as a user
// may by mistake.
#include "hygiene/scan_fixture.hpp"
#include "hygiene/tls_transcript.hpp"

#include <stek/formats/file_provider.hpp>
#include <stek/openssl_tickets.hpp>

#include <openssl/pem.h>

#include <doctest/doctest.h>

#include <filesystem>
#include <sstream>

using namespace stek::hygiene;
namespace fs = std::filesystem;

namespace {

constexpr const char* k_mint = "2026-11-28T14:30:00Z";
constexpr const char* k_now = "2026-11-28T15:00:00Z";
const fs::path k_corpus = STEK_FUZZ_CORPUS_DIR;

// Accept every name, as nginx does: OpenSSL keeps the name in the session
// (and so in the ticket) only when a servername callback exists.
int accept_name(SSL*, int*, void*) { return SSL_TLSEXT_ERR_OK; }

void keep_server_name(SSL_CTX* ctx) {
  SSL_CTX_callback_ctrl(ctx, SSL_CTRL_SET_TLSEXT_SERVERNAME_CB,
                        reinterpret_cast<void (*)()>(accept_name));
}

// A server whose tickets come from ks.json through the provider.
SslCtxPtr provider_server(int version) {
  stek::FileProviderOptions options;
  options.watch = stek::WatchMode::manual;
  options.clock = [] { return *stek::parse_time(k_mint); };
  auto provider = stek::formats::open_file_provider("ks.json", std::move(options));
  REQUIRE(provider.ok());
  auto server = stek::test::server_context(version);
  keep_server_name(server.get());
  std::shared_ptr<stek::Provider> shared = std::move(provider).value();
  REQUIRE(stek::openssl::use_ticket_provider(server.get(), shared).ok());
  return server;
}

// A server given the 80 bytes of `stekctl export --format openssl`.
SslCtxPtr exported_keys_server(int version, const std::string& keys) {
  REQUIRE(keys.size() == 80);
  auto server = stek::test::server_context(version);
  keep_server_name(server.get());
  REQUIRE(SSL_CTX_ctrl(server.get(), SSL_CTRL_SET_TLSEXT_TICKET_KEYS, 80,
                       const_cast<char*>(keys.data())) == 1);
  return server;
}

Bytes ticket_of(const SSL_SESSION* session) {
  const unsigned char* data = nullptr;
  std::size_t size = 0;
  SSL_SESSION_get0_ticket(session, &data, &size);
  REQUIRE(size > 0);
  return {data, data + size};
}

std::string pem_of(SSL_SESSION* session) {
  BIO* bio = BIO_new(BIO_s_mem());
  REQUIRE(PEM_write_bio_SSL_SESSION(bio, session) == 1);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  return out;
}

Bytes hex_decoded(const std::string& hex) {
  Bytes out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// Learn the secrets of key log lines: the third field of each.
void learn_keylog(KnownSecrets& known, const std::vector<std::string>& lines) {
  for (const auto& line : lines) {
    std::istringstream fields(line);
    std::string label, random, secret;
    fields >> label >> random >> secret;
    known.learn("key log " + label + " of client random " + random.substr(0, 8),
                hex_decoded(secret));
  }
}

struct Inputs {
  std::vector<std::string> tickets;  // single tickets: text and binary
  std::vector<std::string> sessions; // PEM
  std::vector<std::string> captures; // pcap, pcapng
};

// Real connections under ks.json's keys, written out every way inspect reads.
Inputs mint(ScanSession& s, KnownSecrets& known) {
  s.ok({"--at", k_mint, "export", "ks.json", "--format", "openssl", "--out",
        "ticket.key"});
  const std::string exported = stek::test::read_file("ticket.key");
  std::vector<std::string> keylog;
  std::vector<Transcript> connections;
  std::string pem;
  Inputs in;
  for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    const std::string v = version == TLS1_2_VERSION ? "12" : "13";
    for (const bool bound : {true, false}) {
      auto server = bound ? provider_server(version)
                          : exported_keys_server(version, exported);
      auto client = stek::test::client_context(version);
      log_keys(client.get(), keylog);
      auto first = record_connection(server.get(), client.get(), "a.example");
      REQUIRE(first.session);
      auto again = record_connection(server.get(), client.get(), "a.example",
                                     first.session.get());
      CHECK(again.reused);
      for (const auto* t : {&first, &again}) {
        unsigned char master[256];
        const std::size_t size =
          SSL_SESSION_get_master_key(t->session.get(), master, sizeof master);
        known.learn("the master secret of a TLS " + v + " session",
                    Bytes(master, master + size));
      }
      const auto ticket = ticket_of(first.session.get());
      const std::string name = "ticket" + v + (bound ? "-bound" : "-exported");
      write_text(name + ".hex", hex_of(ticket, false) + "\n");
      write_text(name + ".b64", base64_of(ticket, false, true) + "\n");
      write_bytes(name + ".bin", ticket);
      in.tickets.insert(in.tickets.end(), {name + ".hex", name + ".b64", name + ".bin"});
      pem += pem_of(first.session.get()) + pem_of(again.session.get());
      connections.push_back(std::move(first));
      connections.push_back(std::move(again));
    }
  }
  learn_keylog(known, keylog);
  std::string keylog_text = "# SSL/TLS secrets log file\n";
  for (const auto& line : keylog) {
    keylog_text += line + "\n";
  }
  write_text("keylog.txt", keylog_text);
  write_text("sessions.pem", pem);
  in.sessions = {"sessions.pem"};
  write_bytes("all.pcap", capture_of(connections, false));
  write_bytes("all.pcapng", capture_of(connections, true));
  in.captures = {"all.pcap", "all.pcapng"};
  return in;
}

void inspect_minted(ScanSession& s, const Inputs& in) {
  std::vector<std::string> all = in.tickets;
  all.insert(all.end(), in.sessions.begin(), in.sessions.end());
  all.insert(all.end(), in.captures.begin(), in.captures.end());
  for (const auto& input : all) {
    CAPTURE(input);
    s.ok({"--at", k_now, "inspect", input});
    s.ok({"--json", "--at", k_now, "inspect", input});
    s.ok({"--at", k_now, "inspect", "--keystore", "ks.json", input});
    s.ok({"--at", k_now, "inspect", "--keystore", "ks.json", "--sni", "a.example", input});
    // The tickets really are opened: the scan covers decrypted sessions.
    const auto opened = s.ok({"--json", "--at", k_now, "inspect", "--keystore",
                              "ks.json", "--sni", "a.example", input});
    CHECK(opened.out.find("\"match\":\"found\"") != std::string::npos);
    CHECK(opened.out.find("\"session\":{") != std::string::npos);
    s.ok({"--at", k_now, "inspect", "--summary", "--keystore", "ks.json", input});
    s.ok({"--json", "--at", k_now, "inspect", "--summary", "--keystore", "ks.json",
          input});
    s.ok({"--quiet", "--at", k_now, "inspect", "--keystore", "ks.json", input});
    // The wrong name, the wrong keystore, the key revoked, much later.
    s.ok({"--at", k_now, "inspect", "--keystore", "ks.json", "--sni", "b.example", input});
    s.ok({"--json", "--at", k_now, "inspect", "--keystore", "other.json", input});
    s.ok({"--json", "--at", k_now, "inspect", "--keystore", "revoked.json", input});
    s.ok({"--at", k_much_later, "inspect", "--summary", "--keystore", "ks.json", input});
  }
  for (const auto& capture : in.captures) {
    for (const std::vector<std::string>& extra :
         {std::vector<std::string>{}, {"--json"}, {"--json", "--summary"}, {"--summary"}}) {
      // Global options after the command name, as users write them too.
      std::vector<std::string> args = {"inspect", "--keystore", "ks.json", "--keylog",
                                       "keylog.txt", capture, "--at", k_now};
      args.insert(args.end(), extra.begin(), extra.end());
      const auto r = s.ok(args);
      if (extra == std::vector<std::string>{"--json"}) {
        // TLS 1.3 NewSessionTickets seen only through the key log.
        CHECK(r.out.find("\"decrypted_with_keylog\":true") != std::string::npos);
      }
    }
    s.ok({"--at", k_now, "inspect", "--keylog", "keylog.txt", capture});
  }
  // Every input in one run, and from a pipe.
  std::vector<std::string> together = {"--json", "--at", k_now, "inspect", "--summary",
                                       "--keystore", "ks.json", "--keylog", "keylog.txt"};
  together.insert(together.end(), all.begin(), all.end());
  s.ok(together);
  for (const char* input : {"all.pcap", "sessions.pem", "ticket12-bound.hex", "ticket13-exported.bin"}) {
    s.shell(Expect::success, std::string("cat ") + input + " | stekctl inspect --keystore ks.json -",
            std::string("cat ") + input + " | \"$STEKCTL\" --at " + k_now +
              " inspect --keystore ks.json --sni a.example -");
    s.shell(Expect::success, std::string("cat ") + input + " | stekctl --json inspect -",
            std::string("cat ") + input + " | \"$STEKCTL\" --json --at " + k_now +
              " inspect --keystore ks.json --keylog keylog.txt -");
  }
}

// The fuzz seeds: tickets sealed under a fixed keystore (fuzz/targets/
// ticket_open.cpp), and captures, sessions and texts of every kind.
void inspect_corpus(ScanSession& s, KnownSecrets& known) {
  const auto pattern = [](std::uint8_t first) {
    Bytes out(32);
    for (std::size_t i = 0; i < out.size(); ++i) {
      out[i] = static_cast<std::uint8_t>(first + i);
    }
    return out;
  };
  const std::string id_a = hex_of(pattern(0xa0), false).substr(0, 32);
  const std::string id_b = hex_of(pattern(0xb0), false).substr(0, 32);
  const std::string times =
    "\"created\": \"2026-11-28T14:00:00Z\", \"not_before\": \"2026-11-28T14:00:00Z\", "
    "\"encrypt_until\": \"2026-11-29T02:00:00Z\", \"decrypt_until\": \"2026-11-30T02:00:00Z\"";
  write_text("fuzz-ks.json",
             "{\"stek_keystore\": 1, \"policy\": {\"rotate_every\": \"12h\", "
             "\"publish_ahead\": \"1h\", \"encrypt_for\": \"12h\", \"decrypt_for\": "
             "\"24h\", \"sni_binding\": true}, \"keys\": [\n"
             "{\"id\": \"" + id_a + "\", " + times + ", \"aes\": \"" +
               base64_of(pattern(0x40), false, true) + "\", \"hmac\": \"" +
               base64_of(pattern(0x60), false, true) + "\", \"origin\": \"nginx\"},\n"
             "{\"id\": \"" + id_b + "\", " + times + ", \"material\": \"" +
               base64_of(pattern(0x01), false, true) + "\"}]}\n");
  known.learn_keystore("fuzz-ks.json");
  for (const auto& entry : fs::directory_iterator(k_corpus / "ticket_open")) {
    const std::string seed = stek::test::read_file(entry.path());
    REQUIRE(!seed.empty());
    const std::string ticket = "seed-" + entry.path().filename().string();
    write_text(ticket, seed.substr(1));
    std::vector<std::string> args = {"--json", "--at", k_now, "inspect", "--keystore",
                                     "fuzz-ks.json", ticket};
    switch (static_cast<unsigned char>(seed[0]) % 4) {
    case 1: args.insert(args.end(), {"--sni", "a.example"}); break;
    case 2: args.insert(args.end(), {"--sni", "A.Example."}); break;
    case 3: args.insert(args.end(), {"--sni", "not a host"}); break;
    default: break;
    }
    s.run(Expect::any, args);
    args.erase(args.begin());
    s.run(Expect::any, args);
  }
  // Everything else the fuzzers start from, against a keystore of random
  // keys (the seeds' own patterns could be mistaken for those keys).
  for (const char* dir : {"capture_reader", "pem_session", "ticket_input", "go_state",
                          "s2n_state", "openssl_session", "tls_handshake",
                          "tls13_records"}) {
    std::vector<std::string> summary = {"--json", "--at", k_now, "inspect", "--summary",
                                        "--keystore", "ks.json"};
    for (const auto& entry : fs::directory_iterator(k_corpus / dir)) {
      s.run(Expect::any, {"--json", "--at", k_now, "inspect", "--keystore", "ks.json",
                          entry.path().string()});
      s.run(Expect::any, {"--at", k_now, "inspect", "--keystore", "ks.json",
                          entry.path().string()});
      summary.push_back(entry.path().string());
    }
    s.run(Expect::any, summary);
  }
  for (const auto& keylog : fs::directory_iterator(k_corpus / "keylog")) {
    s.run(Expect::any, {"--json", "--at", k_now, "inspect", "--keystore", "ks.json",
                        "--keylog", keylog.path().string(),
                        (k_corpus / "capture_reader" / "openssl-tls12-tls13.pcap").string()});
  }
}

void inspect_errors(ScanSession& s, KnownSecrets& known) {
  write_text("empty.bin", "");
  fs::create_directory("a-dir");
  Bytes big;
  const Bytes secret_run = random_bytes(64);
  known.learn("64 random bytes repeated in a 17 MiB input", secret_run);
  while (big.size() <= (17u << 20)) {
    big.insert(big.end(), secret_run.begin(), secret_run.end());
  }
  write_bytes("big.bin", big);
  for (const char* input : {"missing.bin", "empty.bin", "a-dir", "big.bin"}) {
    s.fails({"--at", k_now, "inspect", input});
    s.fails({"--json", "--at", k_now, "inspect", "--keystore", "ks.json", input});
    s.fails({"--at", k_now, "inspect", "--summary", "--keystore", "ks.json",
             "ticket12-bound.hex", input});
  }
  // Text that is neither good hex nor good base64, next to secrets.
  const Bytes secret = random_bytes(32);
  known.learn("random bytes written into bad ticket texts", secret);
  std::string hex = hex_of(secret, false);
  write_text("odd.hex", hex + "a\n");
  hex[10] = 'g';
  write_text("bad.hex", hex + "\n");
  std::string b64 = base64_of(secret, false, true);
  b64[5] = '*';
  write_text("bad.b64", b64 + "\n");
  // A saved session cut short, and one with a bad character: the session
  // inside holds its master secret.
  const std::string pem = stek::test::read_file("sessions.pem");
  write_text("cut.pem", pem.substr(0, pem.size() / 3));
  std::string bad_pem = pem;
  bad_pem[bad_pem.find('\n', 40) + 10] = '!';
  write_text("bad.pem", bad_pem);
  write_text("no-end.pem", pem.substr(0, pem.find("-----END")));
  for (const char* input : {"odd.hex", "bad.hex", "bad.b64", "cut.pem", "bad.pem",
                            "no-end.pem"}) {
    s.run(Expect::any, {"--at", k_now, "inspect", "--keystore", "ks.json", input});
    s.run(Expect::any, {"--json", "--at", k_now, "inspect", "--keystore", "ks.json", input});
  }
  // Key logs that are missing or malformed next to their secrets.
  const std::string keylog = stek::test::read_file("keylog.txt");
  const auto second_line = keylog.find('\n') + 1;
  std::string bad_hex = keylog;
  bad_hex[bad_hex.find('\n', second_line) - 5] = 'z';
  write_text("keylog-bad-hex.txt", bad_hex);
  std::string short_line = keylog;
  short_line.erase(short_line.rfind(' ', short_line.find('\n', second_line)),
                   short_line.find('\n', second_line) -
                     short_line.rfind(' ', short_line.find('\n', second_line)));
  write_text("keylog-fields.txt", short_line);
  std::string odd = keylog;
  odd.insert(odd.find('\n', second_line), "0");
  write_text("keylog-odd.txt", odd);
  write_text("keylog-binary.txt", std::string(secret.begin(), secret.end()) + keylog);
  for (const char* log : {"missing.txt", "keylog-bad-hex.txt", "keylog-fields.txt",
                          "keylog-odd.txt", "keylog-binary.txt", "a-dir"}) {
    s.fails({"--at", k_now, "inspect", "--keylog", log, "all.pcap"});
    s.fails({"--json", "--at", k_now, "inspect", "--keystore", "ks.json", "--keylog",
             log, "all.pcapng"});
  }
  // Usage errors.
  for (const char* sni : {"not a host", "", "*.example.com"}) {
    s.usage({"--at", k_now, "inspect", "--keystore", "ks.json", "--sni", sni,
             "ticket12-bound.hex"});
  }
  s.usage({"--at", k_now, "inspect"});
  s.usage({"--at", k_now, "inspect", "--keystore"});
  s.usage({"--at", k_now, "inspect", "--bogus", "all.pcap"});
}

// Files full of secrets given where a ticket is expected.
void inspect_secret_files(ScanSession& s) {
  for (const char* format : {"nginx", "nginx48", "haproxy", "apache", "openssl", "go",
                             "s2n", "k8s-secret"}) {
    s.ok({"--quiet", "--at", k_now, "export", "ks.json", "--format", format, "--out",
          std::string("secret-") + format});
  }
  s.ok({"--quiet", "--at", k_now, "export", "ks.json", "--format", "go", "--out",
        "secret-go-one", "--sni", "a.example"});
  std::vector<std::string> inputs = {"ks.json", "keylog.txt", "ticket.key",
                                     "secret-haproxy", "secret-apache", "secret-openssl",
                                     "secret-go", "secret-s2n", "secret-k8s-secret"};
  for (const char* dir : {"secret-nginx", "secret-nginx48"}) {
    for (const auto& entry : fs::directory_iterator(dir)) {
      inputs.push_back(entry.path().string());
    }
  }
  for (const auto& input : inputs) {
    s.run(Expect::any, {"--at", k_now, "inspect", input});
    s.run(Expect::any, {"--json", "--at", k_now, "inspect", input});
    s.run(Expect::any, {"--json", "--at", k_now, "inspect", "--keystore", "ks.json", input});
    s.run(Expect::any, {"--at", k_now, "inspect", "--summary", "--keystore", "ks.json",
                        input});
  }
}

} // namespace

TEST_CASE("secret scan: inspect prints neither keys nor session secrets") {
  const stek::test::ScratchDir dir("scan-inspect");
  KnownSecrets known;
  ScanSession s(known);
  s.ok({"--at", k_t0, "generate", "ks.json"});
  known.learn_keystore("ks.json");
  s.ok({"--at", k_t0, "generate", "other.json"});
  known.learn_keystore("other.json");
  const Inputs in = mint(s, known);
  fs::copy_file("ks.json", "revoked.json");
  for (const auto& id : key_ids("revoked.json")) {
    s.ok({"--at", k_mint, "revoke", "revoked.json", id, "--reason", "test"});
  }
  inspect_minted(s, in);
  inspect_corpus(s, known);
  inspect_errors(s, known);
  s.scan_all("inspect");
}

TEST_CASE("secret scan: inspect does not print a secret file given as a ticket") {
  const stek::test::ScratchDir dir("scan-inspect-secret-files");
  KnownSecrets known;
  ScanSession s(known);
  s.ok({"--at", k_t0, "generate", "ks.json"});
  known.learn_keystore("ks.json");
  mint(s, known);
  inspect_secret_files(s);
  s.scan_all("inspect of secret files");
}
