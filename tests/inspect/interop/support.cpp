// SPDX-License-Identifier: Apache-2.0
#include "inspect/interop/support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stek/crypto.hpp>
#include <stek/encoding.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>
#include <regex>
#include <sstream>
#include <stdexcept>

#ifndef STEK_INSPECT_TCPDUMP
#define STEK_INSPECT_TCPDUMP ""
#endif
#ifndef STEK_INSPECT_DUMPCAP
#define STEK_INSPECT_DUMPCAP ""
#endif
#ifndef STEK_INSPECT_TSHARK
#define STEK_INSPECT_TSHARK ""
#endif
#ifndef STEK_INSPECT_EDITCAP
#define STEK_INSPECT_EDITCAP ""
#endif
#ifndef STEK_INSPECT_OPENSSL
#define STEK_INSPECT_OPENSSL ""
#endif

namespace stek::inspect_interop {

std::string tcpdump_program() { return require_program(STEK_INSPECT_TCPDUMP, "tcpdump"); }
std::string dumpcap_program() { return require_program(STEK_INSPECT_DUMPCAP, "dumpcap"); }
std::string tshark_program() { return require_program(STEK_INSPECT_TSHARK, "tshark"); }
std::string editcap_program() { return require_program(STEK_INSPECT_EDITCAP, "editcap"); }
std::string openssl_program() { return require_program(STEK_INSPECT_OPENSSL, "openssl"); }

namespace {

struct ToolResult {
  std::optional<int> status;
  std::string out, err;
  bool ok() const { return status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0; }
  std::string details(const std::vector<std::string>& argv) const {
    std::string cmd;
    for (const auto& a : argv) {
      cmd += a + " ";
    }
    return cmd + "\n--- stdout ---\n" + out.substr(0, 4000) + "\n--- stderr ---\n" +
           err.substr(0, 4000);
  }
};

// Run a tool to completion (stdout to `out_file` if given).
ToolResult run_tool(const std::vector<std::string>& argv, const fs::path& out_file = {},
                    Clock::duration timeout = 120s, const std::string& stdin_data = {}) {
  ChildOptions options;
  options.stdout_file = out_file;
  options.stdin_data = stdin_data;
  if (!out_file.empty()) {
    fs::remove(out_file);
  }
  Child child = Child::spawn(argv, options);
  ToolResult r;
  r.status = child.wait_for(timeout);
  r.out = child.out();
  r.err = child.err();
  return r;
}

std::string join_filter(const std::vector<std::uint16_t>& ports) {
  std::string filter;
  for (const auto port : ports) {
    filter += (filter.empty() ? "" : " or ") + std::string("tcp port ") + std::to_string(port);
  }
  return filter;
}

} // namespace

// ---------------------------------------------------------------------------
// PacketCapture

PacketCapture::PacketCapture(fs::path file, std::vector<std::uint16_t> ports,
                             CaptureOptions options)
  : m_file(fs::absolute(file)), m_log(fs::absolute(file).string() + ".log") {
  REQUIRE(!ports.empty());
  fs::remove(m_file);
  fs::remove(m_log);
  const auto filter = join_filter(ports);
  std::vector<std::string> argv;
  std::string ready_line;
  if (options.tool == CaptureTool::tcpdump) {
    // --immediate-mode: without it a short capture stopped by SIGINT loses
    // the packets libpcap still held (TPACKET_V3 blocks). -B 16384 (KiB):
    // with immediate mode on "any" the default buffer dropped packets
    // ("N packets dropped by kernel") even for a few handshakes. -Z root:
    // keep the rights to write into the test's directory.
    argv = {tcpdump_program(), "-i", options.interface, "-n", "--immediate-mode", "-U", "-B", "16384",
            "-Z", "root", "-w", m_file.string()};
    if (!options.link_type.empty()) {
      argv.insert(argv.end(), {"-y", options.link_type});
    }
    argv.push_back(filter);
    ready_line = "listening on";
  } else {
    argv = {dumpcap_program(), "-i", options.interface, "-f", filter, "-w", m_file.string()};
    ready_line = "Capturing on";
  }
  ChildOptions child_options;
  child_options.stdout_file = m_log;
  child_options.stderr_file = m_log;
  m_child = Child::spawn(argv, child_options);
  const auto deadline = Clock::now() + k_start_timeout;
  for (;;) {
    const auto log = read_file(m_log);
    if (log.find(ready_line) != std::string::npos) {
      break;
    }
    REQUIRE_MESSAGE(m_child.running(), "the capture did not start: " << log);
    REQUIRE_MESSAGE(Clock::now() < deadline, "the capture did not start in time: " << log);
    std::this_thread::sleep_for(10ms);
  }
  // The line comes as the device opens; give the filter a moment.
  std::this_thread::sleep_for(200ms);
}

PacketCapture::~PacketCapture() {
  if (!m_stopped && m_child.running()) {
    m_child.signal(SIGINT);
    m_child.wait_for(k_stop_timeout);
  }
}

void PacketCapture::stop() {
  REQUIRE_FALSE(m_stopped);
  m_stopped = true;
  // The last packets (FIN, ACK) are on their way a moment after the client
  // ended.
  std::this_thread::sleep_for(300ms);
  m_child.signal(SIGINT);
  const auto status = m_child.wait_for(k_stop_timeout);
  REQUIRE_MESSAGE(status.has_value(), "the capture did not stop: " << read_file(m_log));
  CHECK_MESSAGE((WIFEXITED(*status) && WEXITSTATUS(*status) == 0),
                "the capture ended with " << m_child.describe_status() << ": "
                                          << read_file(m_log));
  const auto log = read_file(m_log);
  REQUIRE_MESSAGE(fs::exists(m_file), "no capture file: " << log);
  // A capture that lost packets would make tickets go missing for reasons
  // that are not stekctl's.
  static const std::regex tcpdump_drops(R"(([0-9]+) packets dropped by kernel)");
  static const std::regex dumpcap_drops(R"(received/dropped on interface '[^']*': [0-9]+/([0-9]+))");
  std::smatch m;
  if (std::regex_search(log, m, tcpdump_drops) || std::regex_search(log, m, dumpcap_drops)) {
    REQUIRE_MESSAGE(m[1] == "0", "the capture dropped packets: " << log);
  }
}

void convert_capture(const fs::path& in, const fs::path& out, const std::string& format) {
  const std::vector<std::string> argv{editcap_program(), "-F", format, in.string(),
                                      out.string()};
  const auto r = run_tool(argv);
  REQUIRE_MESSAGE(r.ok(), r.details(argv));
}

// ---------------------------------------------------------------------------
// The tshark oracle
//
// Recipe (tshark 4.0):
//   tshark -r CAP -n -o tls.desegment_ssl_records:TRUE
//          -o tcp.desegment_tcp_streams:TRUE -d tcp.port==P,tls ...
//          [-o tls.keylog_file:K]
//          -Y 'tls.handshake.type == 1 || tls.handshake.type == 4'
//          -T json -x --no-duplicate-keys -J 'frame ip ipv6 tcp tls'
// then in each frame's "tls" subtree, every object with a scalar
// "tls.handshake.type":
//   4 (NewSessionTicket): "tls.handshake.session_ticket_raw" (under the
//     "TLS Session Ticket" subtree); lifetime in
//     "tls.handshake.session_ticket_lifetime_hint";
//   1 (ClientHello): each object with "tls.handshake.extension.type":
//     35 with "tls.handshake.extension.len" > 0: the ticket is
//        "tls.handshake.extension.data_raw" (no dedicated field);
//     41: every "tls.handshake.extensions.psk.identity.identity_raw";
//     SNI: "tls.handshake.extensions_server_name".
// *_raw values are [hex, offset, length, bitmask, type], or an array of
// those when the field repeats (--no-duplicate-keys).

std::string OracleTicket::describe() const {
  std::ostringstream s;
  s << kind << " frame " << frame << " " << src << " -> " << dst << " index " << index
    << " sni " << (sni.empty() ? "-" : sni) << " " << hex.substr(0, 32) << "... ("
    << hex.size() / 2 << " bytes)";
  return s.str();
}

namespace {

// The hex strings of a *_raw value.
std::vector<std::string> raw_hex(const Json& raw) {
  std::vector<std::string> out;
  if (raw.is_array() && !raw.empty() && raw[0].is_array()) {
    for (const auto& item : raw) {
      out.push_back(item.at(0).get<std::string>());
    }
  } else if (raw.is_array() && !raw.empty() && raw[0].is_string()) {
    out.push_back(raw[0].get<std::string>());
  }
  return out;
}

bool is_raw_key(const std::string& key) {
  return key.size() > 4 && key.compare(key.size() - 4, 4, "_raw") == 0;
}

// Every value of `key` anywhere under `node` (not looking into *_raw).
void find_values(const Json& node, const std::string& key, std::vector<const Json*>& out) {
  if (node.is_object()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (it.key() == key) {
        out.push_back(&it.value());
      } else if (!is_raw_key(it.key())) {
        find_values(it.value(), key, out);
      }
    }
  } else if (node.is_array()) {
    for (const auto& item : node) {
      find_values(item, key, out);
    }
  }
}

// Every object under `node` that has a scalar `key` (the objects of one
// handshake message, one extension).
void find_objects(const Json& node, const std::string& key, std::vector<const Json*>& out) {
  if (node.is_object()) {
    const auto it = node.find(key);
    if (it != node.end() && it->is_string()) {
      out.push_back(&node);
    }
    for (auto child = node.begin(); child != node.end(); ++child) {
      if (!is_raw_key(child.key())) {
        find_objects(child.value(), key, out);
      }
    }
  } else if (node.is_array()) {
    for (const auto& item : node) {
      find_objects(item, key, out);
    }
  }
}

std::string string_field(const Json& object, const std::string& key) {
  const auto it = object.find(key);
  if (it == object.end()) {
    return {};
  }
  if (it->is_string()) {
    return it->get<std::string>();
  }
  if (it->is_array() && !it->empty() && (*it)[0].is_string()) {
    return (*it)[0].get<std::string>();
  }
  return {};
}

// "1795911854.013772000" -> "2026-11-29T00:24:14.013772Z".
std::string time_of_epoch(const std::string& epoch) {
  const auto dot = epoch.find('.');
  const auto seconds = std::stoll(epoch.substr(0, dot));
  std::string fraction = dot == std::string::npos ? std::string() : epoch.substr(dot + 1);
  fraction.resize(6, '0');
  auto text = stek::test::format_utc(std::chrono::sys_seconds{std::chrono::seconds{seconds}});
  text.pop_back(); // "Z"
  return text + "." + fraction + "Z";
}

std::string endpoint(const Json& layers, bool source) {
  std::string address;
  if (layers.contains("ip")) {
    address = string_field(layers["ip"], source ? "ip.src" : "ip.dst");
  } else if (layers.contains("ipv6")) {
    address = string_field(layers["ipv6"], source ? "ipv6.src" : "ipv6.dst");
  }
  const auto port = string_field(layers.at("tcp"), source ? "tcp.srcport" : "tcp.dstport");
  return address + ":" + port;
}

} // namespace

std::vector<OracleTicket> tshark_tickets(const fs::path& capture, const OracleOptions& options) {
  std::vector<std::string> argv{tshark_program(), "-r", capture.string(), "-n",
                                "-o", "tls.desegment_ssl_records:TRUE",
                                "-o", "tcp.desegment_tcp_streams:TRUE"};
  for (const auto port : options.tls_ports) {
    argv.insert(argv.end(), {"-d", "tcp.port==" + std::to_string(port) + ",tls"});
  }
  if (!options.keylog.empty()) {
    argv.insert(argv.end(), {"-o", "tls.keylog_file:" + fs::absolute(options.keylog).string()});
  }
  argv.insert(argv.end(), {"-Y", "tls.handshake.type == 1 || tls.handshake.type == 4", "-T",
                           "json", "-x", "--no-duplicate-keys", "-J", "frame ip ipv6 tcp tls"});
  const fs::path json_file =
    capture.string() + (options.keylog.empty() ? "" : ".keylog") + ".tshark.json";
  const auto r = run_tool(argv, json_file);
  REQUIRE_MESSAGE(r.ok(), r.details(argv));
  const auto doc = stek::test::parse_json(read_file(json_file));
  REQUIRE_MESSAGE(doc.is_array(), "tshark wrote no JSON array: " << r.details(argv));

  std::vector<OracleTicket> out;
  std::map<std::uint64_t, std::string> sni_of_stream;
  std::map<std::uint64_t, std::uint32_t> tickets_of_stream;
  for (const auto& packet : doc) {
    const auto& layers = packet.at("_source").at("layers");
    if (!layers.contains("tls") || !layers.contains("tcp")) {
      continue;
    }
    OracleTicket base;
    base.frame = std::stoull(string_field(layers.at("frame"), "frame.number"));
    base.time = time_of_epoch(string_field(layers.at("frame"), "frame.time_epoch"));
    base.src = endpoint(layers, true);
    base.dst = endpoint(layers, false);
    base.stream = std::stoull(string_field(layers.at("tcp"), "tcp.stream"));

    std::vector<const Json*> handshakes;
    find_objects(layers.at("tls"), "tls.handshake.type", handshakes);
    for (const Json* handshake : handshakes) {
      const auto type = handshake->at("tls.handshake.type").get<std::string>();
      if (type == "1") {
        std::vector<const Json*> names;
        find_values(*handshake, "tls.handshake.extensions_server_name", names);
        const std::string sni =
          names.empty() || !names[0]->is_string() ? std::string() : names[0]->get<std::string>();
        sni_of_stream[base.stream] = sni;
        std::vector<const Json*> extensions;
        find_objects(*handshake, "tls.handshake.extension.type", extensions);
        for (const Json* extension : extensions) {
          const auto ext_type = extension->at("tls.handshake.extension.type").get<std::string>();
          if (ext_type == "35" && string_field(*extension, "tls.handshake.extension.len") != "0") {
            const auto it = extension->find("tls.handshake.extension.data_raw");
            REQUIRE_MESSAGE(it != extension->end(),
                            "tshark shows no data for extension 35 in frame " << base.frame);
            for (const auto& hex : raw_hex(*it)) {
              OracleTicket t = base;
              t.kind = "client_hello_session_ticket";
              t.hex = hex;
              t.sni = sni;
              out.push_back(t);
            }
          } else if (ext_type == "41") {
            std::vector<const Json*> identities;
            find_values(*extension, "tls.handshake.extensions.psk.identity.identity_raw",
                        identities);
            std::uint32_t index = 0;
            for (const Json* raw : identities) {
              for (const auto& hex : raw_hex(*raw)) {
                OracleTicket t = base;
                t.kind = "client_hello_psk_identity";
                t.hex = hex;
                t.sni = sni;
                t.index = index++;
                out.push_back(t);
              }
            }
          }
        }
      } else if (type == "4") {
        std::vector<const Json*> tickets;
        find_values(*handshake, "tls.handshake.session_ticket_raw", tickets);
        std::vector<const Json*> hints;
        find_values(*handshake, "tls.handshake.session_ticket_lifetime_hint", hints);
        for (const Json* raw : tickets) {
          for (const auto& hex : raw_hex(*raw)) {
            OracleTicket t = base;
            t.kind = "new_session_ticket";
            t.hex = hex;
            t.sni = sni_of_stream.count(base.stream) ? sni_of_stream[base.stream] : "";
            t.index = tickets_of_stream[base.stream]++;
            if (!hints.empty() && hints[0]->is_string()) {
              t.lifetime_hint =
                static_cast<std::uint32_t>(std::stoul(hints[0]->get<std::string>()));
            }
            out.push_back(t);
          }
        }
      }
    }
  }
  return out;
}

std::size_t tiny_segments(const fs::path& capture) {
  const std::vector<std::string> argv{tshark_program(), "-r", capture.string(), "-n",
                                      "-Y", "tcp.len >= 1 && tcp.len <= 5",
                                      "-T", "fields", "-e", "frame.number"};
  const auto r = run_tool(argv);
  REQUIRE_MESSAGE(r.ok(), r.details(argv));
  std::size_t n = 0;
  for (const auto& line : lines_of(r.out)) {
    n += line.empty() ? 0u : 1u;
  }
  return n;
}

// ---------------------------------------------------------------------------
// ChunkingProxy

namespace {

void set_nodelay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  return addr;
}

// Write all of `data` to `fd` in pieces of 1-5 bytes, pausing between
// them so that each leaves as its own segment. False on error.
bool write_chunked(int fd, const char* data, std::size_t size, std::minstd_rand& rng) {
  std::size_t at = 0;
  while (at < size) {
    const std::size_t piece = std::min<std::size_t>(1 + rng() % 5, size - at);
    const ssize_t n = ::send(fd, data + at, piece, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    at += static_cast<std::size_t>(n);
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

} // namespace

ChunkingProxy::ChunkingProxy(std::uint16_t upstream) : m_upstream(upstream) {
  m_listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(m_listener >= 0);
  int one = 1;
  ::setsockopt(m_listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  auto addr = loopback(0);
  socklen_t len = sizeof addr;
  REQUIRE(::bind(m_listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(m_listener, 16) == 0);
  REQUIRE(::getsockname(m_listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  m_port = ntohs(addr.sin_port);
  m_acceptor = std::thread([this] { accept_loop(); });
}

ChunkingProxy::~ChunkingProxy() {
  m_stop = true;
  if (m_acceptor.joinable()) {
    m_acceptor.join();
  }
  for (auto& relay : m_relays) {
    if (relay.joinable()) {
      relay.join();
    }
  }
  ::close(m_listener);
}

void ChunkingProxy::accept_loop() {
  while (!m_stop) {
    pollfd p{m_listener, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) {
      continue;
    }
    const int client = ::accept4(m_listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) {
      continue;
    }
    ++m_connections;
    m_relays.emplace_back([this, client] { relay(client); });
  }
}

void ChunkingProxy::relay(int client) {
  const int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  auto addr = loopback(m_upstream);
  if (server < 0 ||
      ::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(client);
    if (server >= 0) {
      ::close(server);
    }
    return;
  }
  set_nodelay(client);
  set_nodelay(server);
  std::minstd_rand rng(static_cast<std::minstd_rand::result_type>(client * 7919 + 17));
  // fds[0]: client -> server; fds[1]: server -> client.
  const int from[2] = {client, server};
  const int to[2] = {server, client};
  bool open[2] = {true, true};
  char buffer[16384];
  while ((open[0] || open[1]) && !m_stop) {
    pollfd p[2] = {{open[0] ? from[0] : -1, POLLIN, 0}, {open[1] ? from[1] : -1, POLLIN, 0}};
    if (::poll(p, 2, 50) <= 0) {
      continue;
    }
    bool failed = false;
    for (int i = 0; i < 2 && !failed; ++i) {
      if (!open[i] || (p[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
        continue;
      }
      const ssize_t n = ::read(from[i], buffer, sizeof buffer);
      if (n > 0) {
        failed = !write_chunked(to[i], buffer, static_cast<std::size_t>(n), rng);
      } else if (n == 0) {
        open[i] = false;
        ::shutdown(to[i], SHUT_WR);
      } else if (errno != EINTR && errno != EAGAIN) {
        failed = true;
      }
    }
    if (failed) {
      break;
    }
  }
  ::close(client);
  ::close(server);
}

// ---------------------------------------------------------------------------
// The client

std::string ClientRun::details() const {
  return std::string(ok ? (reused ? "Reused " : "New ") : "failed ") + protocol + " " + cipher +
         "\n--- s_client stdout ---\n" + out + "--- stderr ---\n" + err;
}

ClientRun run_client(std::uint16_t port, Tls version, const ClientRunOptions& options) {
  std::vector<std::string> argv{openssl_program(), "s_client",
                                "-connect", "127.0.0.1:" + std::to_string(port),
                                "-servername", options.server_name, flag_of(version), "-ign_eof"};
  if (!options.sess_in.empty()) {
    REQUIRE_MESSAGE(fs::exists(options.sess_in), "no saved session " << options.sess_in);
    argv.insert(argv.end(), {"-sess_in", fs::absolute(options.sess_in).string()});
  }
  if (!options.sess_out.empty()) {
    fs::remove(options.sess_out);
    argv.insert(argv.end(), {"-sess_out", fs::absolute(options.sess_out).string()});
  }
  if (!options.keylog.empty()) {
    argv.insert(argv.end(), {"-keylogfile", fs::absolute(options.keylog).string()});
  }
  const auto r = run_tool(argv, {}, k_client_timeout,
                          "GET / HTTP/1.0\r\nHost: " + options.server_name + "\r\n\r\n");
  ClientRun run;
  run.out = r.out;
  run.err = r.err;
  REQUIRE_MESSAGE(r.status.has_value(), "s_client timed out\n" << run.out << run.err);
  static const std::regex line(R"(^(New|Reused), (TLSv1\.[0-9]), Cipher is (\S+).*)");
  static const std::regex cipher_line(R"(^\s*Cipher\s*: (\S+)\s*$)");
  for (const auto& text : lines_of(run.out)) {
    std::smatch m;
    if (!run.ok && std::regex_match(text, m, line)) {
      run.ok = true;
      run.reused = m[1] == "Reused";
      run.protocol = m[2];
      run.cipher = m[3];
    } else if (std::regex_match(text, m, cipher_line)) {
      // The session printout ("Cipher    : ...") must agree.
      CHECK_MESSAGE(m[1] == run.cipher, run.details());
    }
  }
  if (run.ok) {
    run.cipher_iana = iana_cipher_name(run.cipher);
  }
  if (!options.sess_out.empty() && fs::exists(options.sess_out)) {
    run.ticket = read_ticket(options.sess_out);
  }
  return run;
}

std::string iana_cipher_name(const std::string& openssl_name) {
  static const std::map<std::string, std::string> names = [] {
    std::map<std::string, std::string> out;
    const std::vector<std::string> argv{openssl_program(), "ciphers", "-stdname",
                                        "ALL:@SECLEVEL=0"};
    const auto r = run_tool(argv);
    REQUIRE_MESSAGE(r.ok(), r.details(argv));
    // "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 - ECDHE-ECDSA-AES256-GCM-SHA384 TLSv1.2 ..."
    for (const auto& text : lines_of(r.out)) {
      std::istringstream s(text);
      std::string standard, dash, name;
      if (s >> standard >> dash >> name && dash == "-") {
        out[name] = standard;
      }
    }
    return out;
  }();
  const auto it = names.find(openssl_name);
  if (it != names.end()) {
    return it->second;
  }
  REQUIRE_MESSAGE(openssl_name.rfind("TLS_", 0) == 0,
                  "openssl ciphers -stdname does not name " << openssl_name);
  return openssl_name;
}

// ---------------------------------------------------------------------------
// Key files

KeyFile make_key_file(const fs::path& path, std::size_t size) {
  const auto bytes = random_bytes(size);
  write_file(path, bytes, 0600);
  return {fs::absolute(path), to_hex(std::string_view(bytes).substr(0, 16))};
}

void import_keys(const fs::path& keystore, const std::string& format,
                 const std::vector<KeyFile>& files) {
  std::vector<std::string> args{"import", keystore.string(), "--format", format};
  for (const auto& f : files) {
    args.push_back(f.path.string());
  }
  require_ok(stekctl_at(utc_in(-1h), args));
}

// ---------------------------------------------------------------------------
// stekctl inspect

std::vector<Json> inspect_ndjson(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"--json", "inspect"};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto r = stekctl(argv);
  REQUIRE_MESSAGE(r.code == 0, describe(r));
  std::vector<Json> out;
  for (const auto& text : lines_of(r.out)) {
    if (text.empty()) {
      continue;
    }
    auto doc = stek::test::parse_json(text);
    REQUIRE_MESSAGE(doc.is_object(), "not a JSON object line: " << text << "\n" << describe(r));
    out.push_back(std::move(doc));
  }
  return out;
}

Json inspect_summary(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"--json", "inspect", "--summary"};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto r = stekctl(argv);
  REQUIRE_MESSAGE(r.code == 0, describe(r));
  auto doc = stek::test::parse_json(r.out);
  REQUIRE_MESSAGE(doc.is_object(), "not one JSON document:\n" << describe(r));
  return doc;
}

std::vector<Json> of_input(const std::vector<Json>& all, const std::string& input) {
  std::vector<Json> out;
  for (const auto& t : all) {
    if (t.value("input", "") == input) {
      out.push_back(t);
    }
  }
  return out;
}

namespace {

std::string str(const Json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string brief(const Json& t) {
  return str(t, "message") + " frame " + (t.contains("frame") ? t["frame"].dump() : "-") + " " +
         str(t, "ticket_sha256").substr(0, 32) + "...";
}


} // namespace

std::string digest_of_hex(const std::string& hex) {
  const auto bytes = stek::hex_decode(hex);
  return bytes.ok() ? stek::hex_encode(stek::sha256(*bytes)) : "not hex: " + hex;
}

void check_against_oracle(const std::vector<Json>& tickets,
                          const std::vector<OracleTicket>& oracle, bool keylog) {
  std::vector<std::string> ours, theirs;
  for (const auto& t : tickets) {
    ours.push_back(str(t, "message") + " " + str(t, "ticket_sha256"));
  }
  for (const auto& o : oracle) {
    theirs.push_back(o.kind + " " + digest_of_hex(o.hex));
  }
  std::sort(ours.begin(), ours.end());
  std::sort(theirs.begin(), theirs.end());
  std::vector<std::string> only_ours, only_theirs;
  std::set_difference(ours.begin(), ours.end(), theirs.begin(), theirs.end(),
                      std::back_inserter(only_ours));
  std::set_difference(theirs.begin(), theirs.end(), ours.begin(), ours.end(),
                      std::back_inserter(only_theirs));
  std::string diff;
  for (const auto& s : only_ours) {
    diff += "  only stekctl: " + s.substr(0, 100) + "\n";
  }
  for (const auto& s : only_theirs) {
    diff += "  only tshark:  " + s.substr(0, 100) + "\n";
  }
  std::string listing;
  for (const auto& o : oracle) {
    listing += "  tshark: " + o.describe() + "\n";
  }
  for (const auto& t : tickets) {
    listing += "  stekctl: " + brief(t) + "\n";
  }
  CHECK_MESSAGE(ours == theirs, "(message, ticket) differ from tshark's:\n" << diff << listing);

  std::vector<bool> used(oracle.size(), false);
  for (const auto& t : tickets) {
    CAPTURE(t.dump());
    const auto message = str(t, "message");
    const auto digest = str(t, "ticket_sha256");
    std::optional<std::size_t> match;
    for (std::size_t i = 0; i < oracle.size() && !match; ++i) {
      if (!used[i] && oracle[i].kind == message && digest_of_hex(oracle[i].hex) == digest &&
          t.contains("frame") && t["frame"].is_number_unsigned() &&
          t["frame"].get<std::uint64_t>() == oracle[i].frame) {
        match = i;
      }
    }
    CHECK_MESSAGE(match.has_value(),
                  "no tshark ticket with this message, bytes and frame:\n" << listing);
    if (!match) {
      continue;
    }
    used[*match] = true;
    const auto& hex = oracle[*match].hex;
    CHECK(t.value("length", std::uint64_t{0}) == hex.size() / 2);
    REQUIRE(hex.size() >= 32);
    CHECK(str(t, "key_id") == hex.substr(0, 32));
    const bool tls13_nst = message == "new_session_ticket" &&
                           t.value("decrypted_with_keylog", false);
    if (message == "client_hello_session_ticket") {
      CHECK(str(t, "tls_version") == "TLSv1.2");
    } else if (message == "client_hello_psk_identity") {
      CHECK(str(t, "tls_version") == "TLSv1.3");
    } else if (message == "new_session_ticket") {
      CHECK(str(t, "tls_version") == (tls13_nst ? "TLSv1.3" : "TLSv1.2"));
    }
    if (t.contains("decrypted_with_keylog")) {
      CHECK_MESSAGE(t["decrypted_with_keylog"] == true, "present only when true");
      CHECK(keylog);
      CHECK(message == "new_session_ticket");
    }
    const auto& o = oracle[*match];
    CHECK(str(t, "time") == o.time);
    CHECK(str(t, "src") == o.src);
    CHECK(str(t, "dst") == o.dst);
    CHECK(t.value("index", std::uint64_t{999}) == o.index);
    if (o.sni.empty()) {
      CHECK_FALSE(t.contains("sni"));
    } else {
      CHECK(str(t, "sni") == o.sni);
    }
    if (o.lifetime_hint) {
      CHECK(t.value("lifetime_hint", std::uint64_t{0}) == *o.lifetime_hint);
    } else {
      CHECK_FALSE(t.contains("lifetime_hint"));
    }
  }
}

void note_cipher(SessionExpectation& expected, const ClientRun& run) {
  REQUIRE_MESSAGE(run.ok, run.details());
  auto& known = expected.cipher_by_protocol[run.protocol];
  if (known.empty()) {
    known = run.cipher_iana;
  }
  REQUIRE_MESSAGE(known == run.cipher_iana, "runs of one protocol negotiated different ciphers: "
                                              << known << " and " << run.cipher_iana);
}

void check_decoded(const std::vector<Json>& tickets, const SessionExpectation& expected) {
  for (const auto& t : tickets) {
    CAPTURE(t.dump());
    CHECK_FALSE(t.contains("error"));
    CHECK(str(t, "format") == "openssl");
    CHECK(str(t, "format_confidence") == "verified");
    REQUIRE(t.contains("key"));
    const auto& key = t["key"];
    CHECK(str(key, "match") == "found");
    CHECK(str(key, "id") == str(t, "key_id"));
    CHECK(str(key, "origin") == expected.origin);
    REQUIRE(t.contains("session"));
    const auto& session = t["session"];
    CHECK(str(session, "encoding") == "openssl-der");
    const auto protocol = str(session, "protocol");
    CHECK(protocol == str(t, "tls_version"));
    const auto cipher = expected.cipher_by_protocol.find(protocol);
    REQUIRE_MESSAGE(cipher != expected.cipher_by_protocol.end(),
                    "no client run negotiated " << protocol);
    CHECK(str(session, "cipher_suite") == cipher->second);
    // Issued during the test (the capture saw it then or later).
    const auto seen = str(t, "time");
    const auto issued = str(session, "issued");
    REQUIRE_MESSAGE(issued.size() == 20, "no issue time");
    if (seen.size() > 20) {
      const auto seen_at = stek::test::parse_utc(seen.substr(0, 19) + "Z");
      const auto issued_at = stek::test::parse_utc(issued);
      CHECK(issued_at <= seen_at + std::chrono::seconds(1));
      CHECK(issued_at >= seen_at - std::chrono::minutes(10));
    }
    auto sni = expected.sni_by_ticket.end();
    for (auto it = expected.sni_by_ticket.begin(); it != expected.sni_by_ticket.end(); ++it) {
      if (digest_of_hex(it->first) == str(t, "ticket_sha256")) {
        sni = it;
      }
    }
    CHECK(str(session, "sni") ==
          (sni != expected.sni_by_ticket.end() ? sni->second : expected.sni));
  }
}

std::map<std::string, std::size_t> kind_counts(const std::vector<OracleTicket>& oracle) {
  std::map<std::string, std::size_t> out;
  for (const auto& o : oracle) {
    ++out[o.kind];
  }
  return out;
}

} // namespace stek::inspect_interop
