// SPDX-License-Identifier: Apache-2.0
#pragma once

// The harness of the real-server interop tests: start real TLS servers
// (nginx, HAProxy, or any program) on loopback, talk to them with
// `openssl s_client`, and look inside the session tickets they issue.
// Build a test binary with stek_interop_test_binary() (tests/interop/
// CMakeLists.txt) and include "interop/harness.hpp".
//
// A test, in the order it uses the pieces:
//
//   Workspace ws;                          // fresh directory + certificate
//   const auto ks = ws.path("ks.json");
//   generate_keystore(ks, utc_in(-1h));    // a key that encrypts now
//   const auto dir = ws.path("nginx-keys");
//   export_keys(ks, "nginx", dir);
//   NginxServer nginx(ws.path("nginx"), ws.cert,
//                     {.include = dir / "ssl_session_tickets.conf"});
//   nginx.start();                         // free port; waits until it serves ws.cert
//   const auto first = s_client(nginx.port(), Tls::v1_3, {.sess_out = ws.path("s.pem")});
//   const auto again = s_client(nginx.port(), Tls::v1_3, {.sess_in = ws.path("s.pem")});
//   CHECK(again.reused);
//   CHECK(key_id_of(first.ticket) == encrypting_id(ks));
//
// Pieces (each documented where it is defined):
// - Workspace: a ScratchDir (tests/integration/process.hpp, the cwd while
//   it lives) plus a self-signed P-256 certificate for "a.example"
//   (make_certificate, OpenSSL API) in tls/.
// - Child: fork/exec with stdin data, stdout/stderr to files or memory,
//   its own process group, PR_SET_PDEATHSIG (SIGTERM) so a killed test
//   leaves no server behind, waits with a deadline; destruction sends
//   SIGTERM, then SIGKILL to its process group after k_stop_timeout. It
//   never signals anything it did not start.
// - TlsServer: any TLS server program, described by a Spec: a name, its
//   own directory, the certificate it serves, and `command(port)`, which
//   writes its configuration for that port and returns argv; optionally
//   `ready(server)` for more than "the port answers". start() takes a free
//   port (free_port(), never the same twice in one process), starts it
//   (stdout and stderr appended to DIR/output.log), and waits until a TLS
//   handshake on the port presents *this* Spec's certificate. A port that
//   another process's server took first is detected (foreign certificate,
//   or ours ended while the port still accepts) and the start is retried
//   on a new port, up to 5 times. stop(), restart(), reload() (default:
//   restart), signal(); the destructor stops it. FAIL()s with the server's
//   output when it cannot start.
// - NginxServer: nginx 1.22 with one server block (NginxSite: an include
//   such as stekctl's ssl_session_tickets.conf, and/or key files, extra
//   directives, more server blocks on the same listener); pid, logs and
//   temp paths all in its directory (`-p`, `-e`). reload() rewrites the
//   config, sends SIGHUP and waits until new workers started and the old
//   ones exited; a configuration nginx refuses fails the test.
// - HaproxyServer: HAProxy 2.6 in the foreground (-db), `bind ... ssl crt
//   CERT+KEY tls-ticket-keys FILE`, `noreuseport`; reload() restarts it
//   (HAProxy reads the key file at start-up).
// - s_client(port, Tls::v1_2|v1_3, {.server_name, .sess_in, .sess_out}):
//   one `openssl s_client` connection with an HTTP/1.0 request on stdin and
//   -ign_eof (so TLS 1.3 tickets, which come after the handshake, arrive).
//   Handshake: ok, reused ("Reused,"), protocol, the ticket saved in
//   sess_out (empty if s_client wrote none: it writes none for a resumed
//   TLS 1.2 session, nor HAProxy's resumed TLS 1.3 ones), held_ticket_id
//   (the ticket the client held after the handshake, from s_client's
//   printout: catches a TLS 1.2 ticket renewed on resumption), details().
// - Tickets: read_ticket(pem), key_id_of(ticket); KeyParts and KeyLayout
//   (every OpenSSL-family key-file layout), split_key()/join_key();
//   open_ticket()/seal_ticket() (name | IV | AES-CBC | HMAC-SHA256, as
//   OpenSSL's default ticket code); session_id_context_of(),
//   with_session_id_context(), write_session_with_ticket(): decrypt a
//   server's ticket and re-mint one; nginx_http_session_id_context(cert),
//   haproxy_session_id_context(); generated_key_parts(keystore, id, size)
//   recomputes a generated key's AES/HMAC keys with the documented HKDF
//   labels, to check a key file's layout independently of stekctl.
// - stekctl: stekctl() (process.hpp), stekctl_at(at, args),
//   generate_keystore(), export_keys(), require_ok(), list_keys(),
//   find_key(), encrypting_id(), utc_in(offset), utc_plus(time, offset),
//   nginx_conf_keys(conf), haproxy_lines(file), write_haproxy_lines(),
//   snapshot(dir) for "nothing was written" checks.
//
// Servers check ticket age against the real clock, while --at moves only
// stekctl's view: generate with --at in the past to have a key that
// encrypts now, and move the keystore through time with --at while the
// sessions stay fresh.
//
// The paths of the programs come from CMake (STEK_INTEROP_NGINX,
// STEK_INTEROP_HAPROXY, STEK_INTEROP_OPENSSL); an empty one means it was not
// found at configure time, and the tests that need it fail saying so.

#include "integration/process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#ifndef STEK_INTEROP_NGINX
#define STEK_INTEROP_NGINX ""
#endif
#ifndef STEK_INTEROP_HAPROXY
#define STEK_INTEROP_HAPROXY ""
#endif
#ifndef STEK_INTEROP_OPENSSL
#define STEK_INTEROP_OPENSSL ""
#endif

namespace stek::interop {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using stek::test::describe;
using stek::test::ProcessResult;
using stek::test::read_file;
using stek::test::stekctl;
using stek::test::write_file;

// Byte strings are std::string throughout: files, tickets, DER.
using Bytes = std::string;
using Clock = std::chrono::steady_clock;

// How long a server may take to start or reload, and a client to finish, on
// a loaded machine. Generous: they only matter when something hangs.
inline constexpr auto k_start_timeout = 30s;
inline constexpr auto k_client_timeout = 30s;
inline constexpr auto k_stop_timeout = 10s;

// ---------------------------------------------------------------------------
// Small helpers

inline std::string to_hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out += digits[b >> 4];
    out += digits[b & 0x0f];
  }
  return out;
}

// The lines of `text`, without their "\n" (or "\r\n").
inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < text.size()) {
    auto end = text.find('\n', at);
    if (end == std::string::npos) {
      end = text.size();
    }
    auto line = text.substr(at, end - at);
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    out.push_back(std::move(line));
    at = end + 1;
  }
  return out;
}

inline Bytes random_bytes(std::size_t n) {
  Bytes out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()),
                 static_cast<int>(n)) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  return out;
}

inline std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(
    reinterpret_cast<unsigned char*>(out.data()),
    reinterpret_cast<const unsigned char*>(bytes.data()),
    static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// Decode standard base64 (with padding); nullopt if it is not that.
inline std::optional<Bytes> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) {
    return std::nullopt;
  }
  Bytes out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(
    reinterpret_cast<unsigned char*>(out.data()),
    reinterpret_cast<const unsigned char*>(text.data()),
    static_cast<int>(text.size()));
  if (n < 0) {
    return std::nullopt;
  }
  std::size_t len = static_cast<std::size_t>(n);
  for (std::size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) {
    --len;
  }
  out.resize(len);
  return out;
}

inline std::string openssl_errors() {
  std::string text;
  unsigned long code = 0;
  while ((code = ERR_get_error()) != 0) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    text += std::string(text.empty() ? "" : "; ") + buffer;
  }
  return text;
}

[[noreturn]] inline void fail_openssl(const std::string& what) {
  throw std::runtime_error(what + ": " + openssl_errors());
}

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
template <typename T, void (*Free)(T*)>
using Owned = std::unique_ptr<T, Deleter<T, Free>>;

using BioPtr = Owned<BIO, BIO_free_all>;
using PkeyPtr = Owned<EVP_PKEY, EVP_PKEY_free>;
using X509Ptr = Owned<X509, X509_free>;
using SessionPtr = Owned<SSL_SESSION, SSL_SESSION_free>;
using CipherCtxPtr = Owned<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>;
using SslCtxPtr = Owned<SSL_CTX, SSL_CTX_free>;
using SslPtr = Owned<SSL, SSL_free>;

// The time `offset` from now, in stekctl's format, whole seconds.
inline std::string utc_in(std::chrono::seconds offset) {
  const auto now =
    std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  return stek::test::format_utc(now + offset);
}

// Add `offset` to a stekctl time.
inline std::string utc_plus(const std::string& time, std::chrono::seconds offset) {
  return stek::test::format_utc(stek::test::parse_utc(time) + offset);
}

// REQUIRE that a stekctl (or other) run succeeded, showing what it printed.
inline void require_ok(const ProcessResult& r) {
  REQUIRE_MESSAGE(r.code == 0, describe(r));
}

// Every regular file under `dir` (relative path -> contents and mode), for
// checking that a failed command wrote nothing. Empty if `dir` is missing.
// Lock files (NAME.lock, which stekctl's flock leaves in place by design)
// are left out.
struct FileState {
  Bytes contents;
  mode_t mode = 0;
  bool operator==(const FileState&) const = default;
};
inline std::map<std::string, FileState> snapshot(const fs::path& dir) {
  std::map<std::string, FileState> out;
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    return out;
  }
  if (fs::is_regular_file(dir, ec)) {
    out[dir.filename().string()] = {read_file(dir), stek::test::file_mode(dir)};
    return out;
  }
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    const auto rel = fs::relative(entry.path(), dir).string();
    if (entry.path().extension() == ".lock") {
      continue;
    }
    if (entry.is_regular_file()) {
      out[rel] = {read_file(entry.path()), stek::test::file_mode(entry.path())};
    } else {
      out[rel + "/"] = {"", stek::test::file_mode(entry.path())};
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Certificates

struct Certificate {
  fs::path cert;     // PEM certificate
  fs::path key;      // PEM private key
  fs::path combined; // certificate then key, for HAProxy's `crt`
  Bytes der;         // the certificate, DER
};

// Make a self-signed P-256 certificate for `common_name` (also its DNS
// subjectAltName) in `dir`, valid from an hour ago for two days.
inline Certificate make_certificate(const fs::path& dir,
                                    const std::string& common_name = "a.example") {
  fs::create_directories(dir);
  PkeyPtr pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!pkey) {
    fail_openssl("EC key generation");
  }
  X509Ptr x509(X509_new());
  if (!x509 || X509_set_version(x509.get(), 2) != 1) {
    fail_openssl("X509_new");
  }
  const auto serial = random_bytes(8);
  Owned<BIGNUM, BN_free> bn(
    BN_bin2bn(reinterpret_cast<const unsigned char*>(serial.data()), 8, nullptr));
  BN_set_negative(bn.get(), 0);
  BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(x509.get()));
  X509_gmtime_adj(X509_getm_notBefore(x509.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x509.get()), 2L * 24 * 3600);
  X509_set_pubkey(x509.get(), pkey.get());
  X509_NAME* name = X509_get_subject_name(x509.get());
  X509_NAME_add_entry_by_txt(
    name, "CN", MBSTRING_ASC,
    reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0);
  X509_set_issuer_name(x509.get(), name);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, x509.get(), x509.get(), nullptr, nullptr, 0);
  const std::string san = "DNS:" + common_name;
  Owned<X509_EXTENSION, X509_EXTENSION_free> ext(
    X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name, san.c_str()));
  if (!ext || X509_add_ext(x509.get(), ext.get(), -1) != 1) {
    fail_openssl("subjectAltName");
  }
  if (X509_sign(x509.get(), pkey.get(), EVP_sha256()) == 0) {
    fail_openssl("X509_sign");
  }
  const auto pem = [](auto write) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || write(bio.get()) != 1) {
      fail_openssl("PEM write");
    }
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
  };
  const auto cert_pem =
    pem([&](BIO* b) { return PEM_write_bio_X509(b, x509.get()); });
  const auto key_pem = pem([&](BIO* b) {
    return PEM_write_bio_PrivateKey(b, pkey.get(), nullptr, nullptr, 0,
                                    nullptr, nullptr);
  });
  Certificate out;
  out.cert = fs::absolute(dir / "cert.pem");
  out.key = fs::absolute(dir / "key.pem");
  out.combined = fs::absolute(dir / "cert+key.pem");
  write_file(out.cert, cert_pem, 0644);
  write_file(out.key, key_pem, 0600);
  write_file(out.combined, cert_pem + key_pem, 0600);
  const int len = i2d_X509(x509.get(), nullptr);
  out.der.resize(static_cast<std::size_t>(len));
  auto* p = reinterpret_cast<unsigned char*>(out.der.data());
  i2d_X509(x509.get(), &p);
  return out;
}

// The session-id context nginx 1.22's http module gives an SSL_CTX with one
// certificate and no client CA list: SHA-1("HTTP" || SHA-1(certificate DER))
// (ngx_ssl_session_id_context, src/event/ngx_event_openssl.c; "HTTP" is
// ngx_http_ssl_sess_id_ctx).
inline Bytes nginx_http_session_id_context(const Certificate& cert) {
  unsigned char inner[EVP_MAX_MD_SIZE];
  unsigned int inner_len = 0;
  EVP_Digest(cert.der.data(), cert.der.size(), inner, &inner_len, EVP_sha1(),
             nullptr);
  const Bytes input =
    "HTTP" + Bytes(reinterpret_cast<const char*>(inner), inner_len);
  unsigned char outer[EVP_MAX_MD_SIZE];
  unsigned int outer_len = 0;
  EVP_Digest(input.data(), input.size(), outer, &outer_len, EVP_sha1(), nullptr);
  return Bytes(reinterpret_cast<const char*>(outer), outer_len);
}

// The session-id context HAProxy 2.6 sets on every SSL_CTX: SHCTX_APPNAME,
// "haproxy" (include/haproxy/shctx-t.h; ssl_set_shctx in src/ssl_sock.c).
inline Bytes haproxy_session_id_context() { return "haproxy"; }

// ---------------------------------------------------------------------------
// Child processes

struct ChildOptions {
  // Written to the child's stdin (which then reads EOF); /dev/null if empty.
  std::string stdin_data{};
  // Where stdout and stderr go; an anonymous memory file each if empty.
  fs::path stdout_file{};
  fs::path stderr_file{};
  // Working directory; unchanged if empty.
  fs::path cwd{};
  // Sent to the child if the test process dies first (prctl
  // PR_SET_PDEATHSIG), so a test killed by a timeout leaves no server
  // behind: nginx's master and HAProxy shut down cleanly on SIGTERM.
  int parent_death_signal = SIGTERM;
};

namespace detail {

inline int memory_file(const char* name) {
  const int fd = ::memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) {
    throw std::runtime_error(std::string("memfd_create: ") + std::strerror(errno));
  }
  return fd;
}

inline std::string read_fd(int fd) {
  std::string text;
  char buffer[4096];
  off_t offset = 0;
  for (;;) {
    const ssize_t n = ::pread(fd, buffer, sizeof buffer, offset);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    text.append(buffer, static_cast<std::size_t>(n));
    offset += n;
  }
  return text;
}

} // namespace detail

// A child process in its own process group. Destroying a running one sends
// SIGTERM, waits k_stop_timeout, then SIGKILLs its group.
class Child {
public:
  Child() = default;

  static Child spawn(std::vector<std::string> argv, const ChildOptions& options = {}) {
    if (argv.empty() || argv[0].empty()) {
      throw std::invalid_argument("Child::spawn: no program");
    }
    Child c;
    const auto open_out = [](const fs::path& file, const char* name) {
      if (file.empty()) {
        return detail::memory_file(name);
      }
      const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      if (fd < 0) {
        throw std::runtime_error("open " + file.string() + ": " + std::strerror(errno));
      }
      return fd;
    };
    c.m_out = open_out(options.stdout_file, "child-stdout");
    c.m_err = open_out(options.stderr_file, "child-stderr");
    c.m_out_file = options.stdout_file;
    c.m_err_file = options.stderr_file;
    int in_fd = -1;
    if (options.stdin_data.empty()) {
      in_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    } else {
      in_fd = detail::memory_file("child-stdin");
      const auto& data = options.stdin_data;
      if (::write(in_fd, data.data(), data.size()) !=
            static_cast<ssize_t>(data.size()) ||
          ::lseek(in_fd, 0, SEEK_SET) != 0) {
        ::close(in_fd);
        throw std::runtime_error("cannot prepare a child's stdin");
      }
    }
    std::vector<char*> c_argv;
    for (auto& arg : argv) {
      c_argv.push_back(arg.data());
    }
    c_argv.push_back(nullptr);
    const std::string cwd = options.cwd.string();
    const int death_signal = options.parent_death_signal;
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
      ::close(in_fd);
      throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    }
    if (pid == 0) {
      ::setpgid(0, 0);
      if (death_signal != 0 &&
          (::prctl(PR_SET_PDEATHSIG, death_signal) != 0 || ::getppid() != parent)) {
        ::_exit(126);
      }
      if (::dup2(in_fd, STDIN_FILENO) < 0 || ::dup2(c.m_out, STDOUT_FILENO) < 0 ||
          ::dup2(c.m_err, STDERR_FILENO) < 0) {
        ::_exit(126);
      }
      if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) {
        ::_exit(126);
      }
      // Signals blocked or ignored by the test runner must not leak into
      // servers that rely on SIGHUP or SIGTERM.
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      ::signal(SIGHUP, SIG_DFL);
      ::signal(SIGTERM, SIG_DFL);
      ::signal(SIGPIPE, SIG_DFL);
      ::execv(c_argv[0], c_argv.data());
      ::_exit(127);
    }
    // Also from the parent, so the group exists before anyone signals it.
    ::setpgid(pid, pid);
    ::close(in_fd);
    c.m_pid = pid;
    return c;
  }

  Child(Child&& other) noexcept { swap(other); }
  Child& operator=(Child&& other) noexcept {
    if (this != &other) {
      terminate();
      close_fds();
      swap(other);
    }
    return *this;
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    terminate();
    close_fds();
  }

  // Its pid while it runs, -1 once it ended (and was reaped).
  pid_t pid() const { return m_pid; }
  // Its exit status (as from waitpid) once it has ended.
  std::optional<int> status() const { return m_status; }

  // True while it runs (reaps it once it has ended).
  bool running() {
    if (m_pid <= 0) {
      return false;
    }
    int status = 0;
    if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
      ended(status);
      return false;
    }
    return true;
  }

  // Wait up to `timeout` for it to end; its status, or nullopt if it runs.
  std::optional<int> wait_for(Clock::duration timeout) {
    const auto deadline = Clock::now() + timeout;
    auto pause = 1ms;
    while (running()) {
      if (Clock::now() >= deadline) {
        return std::nullopt;
      }
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds(20));
    }
    return m_status;
  }

  void signal(int signal_number) const {
    if (m_pid > 0) {
      ::kill(m_pid, signal_number);
    }
  }

  // End it: SIGTERM, then after k_stop_timeout SIGKILL to its whole process
  // group (nginx workers outlive a killed master otherwise).
  void terminate() {
    if (!running()) {
      return;
    }
    ::kill(m_pid, SIGTERM);
    if (!wait_for(k_stop_timeout)) {
      ::kill(-m_pid, SIGKILL);
      int status = 0;
      while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
      }
      ended(status);
    }
  }

  std::string out() const { return read_stream(m_out, m_out_file); }
  std::string err() const { return read_stream(m_err, m_err_file); }

  // "exit N" or "signal N" or "running".
  std::string describe_status() const {
    if (!m_status) {
      return "running";
    }
    if (WIFEXITED(*m_status)) {
      return "exit " + std::to_string(WEXITSTATUS(*m_status));
    }
    return "signal " + std::to_string(WTERMSIG(*m_status));
  }

private:
  static std::string read_stream(int fd, const fs::path& file) {
    if (!file.empty()) {
      return read_file(file);
    }
    return fd >= 0 ? detail::read_fd(fd) : std::string();
  }
  // The leader was reaped. Members of its group that are left (workers of
  // a master that died) keep the group id from being reused, so killing the
  // group now reaches only what this Child started. Afterwards pid() is -1
  // and nothing is ever signalled again.
  void ended(int status) {
    m_status = status;
    ::kill(-m_pid, SIGKILL);
    m_pid = -1;
  }
  void swap(Child& other) noexcept {
    std::swap(m_pid, other.m_pid);
    std::swap(m_status, other.m_status);
    std::swap(m_out, other.m_out);
    std::swap(m_err, other.m_err);
    std::swap(m_out_file, other.m_out_file);
    std::swap(m_err_file, other.m_err_file);
  }
  void close_fds() {
    for (int* fd : {&m_out, &m_err}) {
      if (*fd >= 0) {
        ::close(*fd);
        *fd = -1;
      }
    }
  }

  pid_t m_pid = -1;
  std::optional<int> m_status;
  int m_out = -1;
  int m_err = -1;
  fs::path m_out_file;
  fs::path m_err_file;
};

// ---------------------------------------------------------------------------
// Ports and readiness

// A loopback port nothing listened on a moment ago. The same process never
// gets the same port twice, so servers of one test cannot collide; a server
// of another process can still take it first, which TlsServer detects.
inline std::uint16_t free_port() {
  static std::set<std::uint16_t> handed_out;
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    const bool ok =
      ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
    ::close(fd);
    if (!ok) {
      continue;
    }
    const std::uint16_t port = ntohs(addr.sin_port);
    if (handed_out.insert(port).second) {
      return port;
    }
  }
  throw std::runtime_error("no free loopback port");
}

// True if something accepts TCP connections on 127.0.0.1:port.
inline bool port_accepts(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return false;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// What a TLS handshake with 127.0.0.1:port showed: nullopt if no
// connection or handshake; else whether the server's certificate is `cert`.
inline std::optional<bool> probe_tls(std::uint16_t port,
                                     const Certificate& cert,
                                     const std::string& server_name) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return std::nullopt;
  }
  timeval tv{};
  tv.tv_sec = 5;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return std::nullopt;
  }
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  SslPtr ssl(ctx ? SSL_new(ctx.get()) : nullptr);
  std::optional<bool> result;
  if (ssl && SSL_set_fd(ssl.get(), fd) == 1 &&
      // SSL_set_tlsext_host_name, without the macro's C cast.
      SSL_ctrl(ssl.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(server_name.c_str())) == 1 &&
      SSL_connect(ssl.get()) == 1) {
    X509Ptr peer(SSL_get1_peer_certificate(ssl.get()));
    Bytes der;
    if (peer) {
      const int len = i2d_X509(peer.get(), nullptr);
      der.resize(static_cast<std::size_t>(std::max(len, 0)));
      auto* p = reinterpret_cast<unsigned char*>(der.data());
      i2d_X509(peer.get(), &p);
    }
    result = der == cert.der;
    SSL_shutdown(ssl.get());
  }
  ERR_clear_error();
  ssl.reset();
  ::close(fd);
  return result;
}

// ---------------------------------------------------------------------------
// Servers

// Any TLS server program on 127.0.0.1. See the top of this file.
class TlsServer {
public:
  struct Spec {
    std::string name{};  // for messages: "nginx", "haproxy", "go", ...
    fs::path dir{};      // its own directory: configuration and logs
    Certificate cert{};  // what it serves; the readiness probe compares it
    std::string server_name = "a.example";
    // Write whatever the server needs for `port` (under `dir`) and return
    // its argv; argv[0] is an absolute path.
    std::function<std::vector<std::string>(std::uint16_t port)> command{};
    // Called once the port serves our certificate; may wait for more (e.g.
    // a line in a log). Returns an error text, or "" when ready.
    std::function<std::string(TlsServer&)> ready{};
  };

  explicit TlsServer(Spec spec) : m_spec(std::move(spec)) {
    fs::create_directories(m_spec.dir);
  }
  TlsServer(const TlsServer&) = delete;
  TlsServer& operator=(const TlsServer&) = delete;
  virtual ~TlsServer() = default;

  // Start on a fresh port and wait until it serves our certificate.
  void start() {
    REQUIRE_MESSAGE(!m_child.running(), m_spec.name << " already runs");
    std::string why;
    for (int attempt = 1; attempt <= 5; ++attempt) {
      m_port = free_port();
      const auto argv = m_spec.command(m_port);
      ++m_starts;
      ChildOptions options;
      options.stdout_file = output_path();
      options.stderr_file = output_path();
      options.cwd = m_spec.dir;
      append_marker("start " + std::to_string(m_starts) + " on port " +
                    std::to_string(m_port));
      m_child = Child::spawn(argv, options);
      why = wait_ready();
      if (why.empty()) {
        return;
      }
      m_child.terminate();
      if (why != k_port_taken) {
        break;
      }
    }
    FAIL(m_spec.name << " did not start: " << why << "\n--- its output ("
                     << output_path().string() << ") ---\n"
                     << output());
  }

  // Stop it (SIGTERM, then SIGKILL) and wait until it is gone.
  void stop() { m_child.terminate(); }

  void restart() {
    stop();
    start();
  }

  // Bring new keys into effect. Default: restart. NginxServer overrides.
  virtual void reload() { restart(); }

  void signal(int signal_number) const { m_child.signal(signal_number); }
  bool running() { return m_child.running(); }
  std::uint16_t port() const { return m_port; }
  pid_t pid() const { return m_child.pid(); }
  const fs::path& dir() const { return m_spec.dir; }
  const std::string& name() const { return m_spec.name; }
  const Certificate& cert() const { return m_spec.cert; }
  const std::string& server_name() const { return m_spec.server_name; }
  // Its stdout and stderr, all starts appended.
  fs::path output_path() const { return m_spec.dir / "output.log"; }
  std::string output() const { return read_file(output_path()); }

protected:
  static constexpr const char* k_port_taken = "port taken by another server";

  // Wait until our server answers a TLS handshake with our certificate.
  std::string wait_ready() {
    const auto deadline = Clock::now() + k_start_timeout;
    auto pause = 5ms;
    bool foreign = false;
    while (Clock::now() < deadline) {
      if (!m_child.running()) {
        // Ended: because another process holds the port (it still
        // accepts), or for a reason of its own (see its logs).
        if (foreign || port_accepts(m_port)) {
          return k_port_taken;
        }
        return "it ended (" + m_child.describe_status() + ")";
      }
      if (const auto ours = probe_tls(m_port, m_spec.cert, m_spec.server_name)) {
        if (*ours) {
          return m_spec.ready ? m_spec.ready(*this) : std::string();
        }
        // Another process's server holds the port: ours will fail to bind.
        foreign = true;
      }
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
    return foreign ? k_port_taken : "timed out waiting for port " + std::to_string(m_port);
  }

  void append_marker(const std::string& text) const {
    const int fd =
      ::open(output_path().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
      const std::string line = "### " + text + "\n";
      [[maybe_unused]] const auto n = ::write(fd, line.data(), line.size());
      ::close(fd);
    }
  }

  Spec m_spec;
  Child m_child;
  std::uint16_t m_port = 0;
  int m_starts = 0;
};

inline std::string require_program(const char* path, const char* what) {
  REQUIRE_MESSAGE(std::string(path) != "",
                  what << " was not found when the build was configured");
  REQUIRE_MESSAGE(::access(path, X_OK) == 0, what << " is not executable: " << path);
  return path;
}

// nginx 1.22, one http server block on 127.0.0.1:<port> with TLS 1.2 and 1.3,
// answering every request with 200 "ok". Everything (config, pid, logs,
// temp dirs) lives under its directory; `-e` keeps even the early error log
// there.
struct NginxSite {
  // A file included in the server block: stekctl's ssl_session_tickets.conf.
  fs::path include{};
  // ssl_session_ticket_key files written as directives, in this order,
  // after the include (the first directive overall encrypts).
  std::vector<fs::path> ticket_keys{};
  // More directives for the server block.
  std::string extra{};
  // More server blocks on the same listener (same port and certificate),
  // after the first, which is the listener's default server.
  struct Host {
    std::string server_name{};
    fs::path include{};
  };
  std::vector<Host> more_hosts{};
};

class NginxServer : public TlsServer {
public:
  NginxServer(const fs::path& dir, const Certificate& cert, NginxSite site,
              std::string server_name = "a.example")
    : TlsServer(make_spec(this, dir, cert, std::move(server_name))),
      m_site(std::move(site)) {}

  NginxSite& site() { return m_site; }
  fs::path error_log() const { return dir() / "error.log"; }

  // nginx -s reload: SIGHUP; then wait until the master started new workers
  // and every old worker exited, so the next connection sees the new keys.
  // A configuration nginx refuses fails the test.
  void reload() override {
    REQUIRE_MESSAGE(running(), "nginx is not running");
    write_config(port());
    const auto before = read_file(error_log());
    // The workers running now: started and not yet exited.
    std::vector<std::string> old_workers;
    for (const auto& pid : workers_started(before)) {
      if (!contains(before, "worker process " + pid + " exited")) {
        old_workers.push_back(pid);
      }
    }
    signal(SIGHUP);
    const auto deadline = Clock::now() + k_start_timeout;
    auto pause = 5ms;
    for (;;) {
      const auto log = read_file(error_log());
      const auto added = log.size() > before.size() ? log.substr(before.size()) : std::string();
      if (contains(added, "[emerg]")) {
        FAIL("nginx refused the new configuration:\n" << added);
      }
      const auto started = workers_started(added);
      bool old_gone = true;
      for (const auto& pid : old_workers) {
        old_gone = old_gone && contains(added, "worker process " + pid + " exited");
      }
      if (!started.empty() && old_gone) {
        return;
      }
      REQUIRE_MESSAGE(running(), "nginx ended during reload:\n" << log << output());
      REQUIRE_MESSAGE(Clock::now() < deadline, "nginx reload timed out:\n" << added);
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
  }

private:
  static bool contains(std::string_view text, std::string_view part) {
    return text.find(part) != std::string_view::npos;
  }
  static std::vector<std::string> workers_started(const std::string& log) {
    static const std::regex started("start worker process ([0-9]+)");
    std::vector<std::string> out;
    for (std::sregex_iterator it(log.begin(), log.end(), started), end; it != end; ++it) {
      out.push_back((*it)[1].str());
    }
    return out;
  }

  // Static: it runs before the base class exists; the functions it returns
  // run only from start(), when `self` is whole.
  static Spec make_spec(NginxServer* self, const fs::path& dir, const Certificate& cert,
                        std::string server_name) {
    Spec spec;
    spec.name = "nginx";
    spec.dir = fs::absolute(dir);
    spec.cert = cert;
    spec.server_name = std::move(server_name);
    spec.command = [self](std::uint16_t port) {
      self->write_config(port);
      const auto d = self->dir().string();
      return std::vector<std::string>{
        require_program(STEK_INTEROP_NGINX, "nginx"),
        "-p", d + "/", "-e", d + "/error.log", "-c", d + "/nginx.conf",
        "-g", "daemon off; master_process on;"};
    };
    // Once the master logged its workers: then it reloads cleanly on SIGHUP.
    spec.ready = [self](TlsServer&) -> std::string {
      const auto deadline = Clock::now() + k_start_timeout;
      while (workers_started(read_file(self->error_log())).empty()) {
        if (Clock::now() > deadline) {
          return "no \"start worker process\" in error.log";
        }
        std::this_thread::sleep_for(5ms);
      }
      return {};
    };
    return spec;
  }

  void write_config(std::uint16_t port) const {
    const auto d = dir().string();
    std::string keys;
    if (!m_site.include.empty()) {
      keys += "    include " + fs::absolute(m_site.include).string() + ";\n";
    }
    for (const auto& key : m_site.ticket_keys) {
      keys += "    ssl_session_ticket_key " + fs::absolute(key).string() + ";\n";
    }
    std::string more;
    for (const auto& host : m_site.more_hosts) {
      more += "  server {\n"
              "    listen 127.0.0.1:" + std::to_string(port) + " ssl;\n"
              "    server_name " + host.server_name + ";\n"
              "    ssl_certificate " + cert().cert.string() + ";\n"
              "    ssl_certificate_key " + cert().key.string() + ";\n"
              "    ssl_protocols TLSv1.2 TLSv1.3;\n"
              "    ssl_session_timeout 1h;\n" +
              (host.include.empty() ? std::string()
                                    : "    include " + fs::absolute(host.include).string() + ";\n") +
              "    location / { return 200 \"" + host.server_name + "\\n\"; }\n"
              "  }\n";
    }
    const std::string conf =
      "# Written by the stekctl interop tests.\n"
      "worker_processes 1;\n"
      "error_log " + d + "/error.log notice;\n"
      "pid " + d + "/nginx.pid;\n"
      "events { worker_connections 64; }\n"
      "http {\n"
      "  access_log off;\n"
      "  client_body_temp_path " + d + "/client_body_temp;\n"
      "  proxy_temp_path " + d + "/proxy_temp;\n"
      "  fastcgi_temp_path " + d + "/fastcgi_temp;\n"
      "  uwsgi_temp_path " + d + "/uwsgi_temp;\n"
      "  scgi_temp_path " + d + "/scgi_temp;\n"
      "  server {\n"
      "    listen 127.0.0.1:" + std::to_string(port) + " ssl;\n"
      "    server_name " + server_name() + ";\n"
      "    ssl_certificate " + cert().cert.string() + ";\n"
      "    ssl_certificate_key " + cert().key.string() + ";\n"
      "    ssl_protocols TLSv1.2 TLSv1.3;\n"
      "    ssl_session_timeout 1h;\n" +
      keys + m_site.extra +
      "    location / { return 200 \"ok\\n\"; }\n"
      "  }\n" +
      more +
      "}\n";
    write_file(dir() / "nginx.conf", conf, 0644);
  }

  NginxSite m_site;
};

// HAProxy 2.6 in the foreground (-db), one frontend on 127.0.0.1:<port>
// with `ssl crt <cert+key> tls-ticket-keys <file>`, answering 200 "ok".
// `noreuseport` keeps it from sharing a port with another test's server.
// reload() restarts it (on a new port): HAProxy reads the key file only at
// start-up.
class HaproxyServer : public TlsServer {
public:
  HaproxyServer(const fs::path& dir, const Certificate& cert, fs::path ticket_keys,
                std::string server_name = "a.example")
    : TlsServer(make_spec(this, dir, cert, std::move(server_name))),
      m_ticket_keys(fs::absolute(ticket_keys)) {}

  fs::path& ticket_keys() { return m_ticket_keys; }

private:
  // Static for the reason given at NginxServer::make_spec.
  static Spec make_spec(HaproxyServer* self, const fs::path& dir, const Certificate& cert,
                        std::string server_name) {
    Spec spec;
    spec.name = "haproxy";
    spec.dir = fs::absolute(dir);
    spec.cert = cert;
    spec.server_name = std::move(server_name);
    spec.command = [self](std::uint16_t port) {
      const std::string conf =
        "# Written by the stekctl interop tests.\n"
        "global\n"
        "  noreuseport\n"
        "defaults\n"
        "  mode http\n"
        "  timeout connect 5s\n"
        "  timeout client 30s\n"
        "  timeout server 30s\n"
        "frontend fe\n"
        "  bind 127.0.0.1:" + std::to_string(port) + " ssl crt " +
        self->cert().combined.string() + " tls-ticket-keys " +
        self->m_ticket_keys.string() + "\n"
        "  http-request return status 200 content-type text/plain string ok\n";
      write_file(self->dir() / "haproxy.cfg", conf, 0644);
      return std::vector<std::string>{
        require_program(STEK_INTEROP_HAPROXY, "haproxy"), "-db", "-f",
        (self->dir() / "haproxy.cfg").string()};
    };
    return spec;
  }

  fs::path m_ticket_keys;
};

// ---------------------------------------------------------------------------
// Clients

enum class Tls { v1_2, v1_3 };
inline constexpr Tls k_versions[] = {Tls::v1_2, Tls::v1_3};

inline std::string name_of(Tls v) { return v == Tls::v1_2 ? "TLS 1.2" : "TLS 1.3"; }
inline const char* flag_of(Tls v) { return v == Tls::v1_2 ? "-tls1_2" : "-tls1_3"; }
inline std::string file_tag(Tls v) { return v == Tls::v1_2 ? "tls12" : "tls13"; }

struct ClientOptions {
  std::string server_name = "a.example";
  fs::path sess_in{};  // resume this saved session
  fs::path sess_out{}; // save the session (removed first, so a file that is
                     // there afterwards was written by this connection)
};

struct Handshake {
  bool ok = false;      // a handshake completed ("New," or "Reused," printed)
  bool reused = false;  // it resumed ("Reused,")
  std::string protocol; // "TLSv1.2" / "TLSv1.3" from that line
  Bytes ticket;         // the ticket saved in sess_out, or empty
  // The key id of the ticket the client held when the handshake completed,
  // from the session s_client prints. On TLS 1.2 this includes a ticket
  // the server renewed during a resumption, which -sess_out does not save
  // (OpenSSL's client calls the new-session callback only for new TLS 1.2
  // sessions). TLS 1.3 tickets arrive after the handshake: use `ticket`.
  std::string held_ticket_id;
  std::string out, err; // what s_client printed
  std::string summary() const {
    return std::string(ok ? (reused ? "Reused" : "New") : "failed") + " " + protocol;
  }
  std::string details() const {
    return summary() + "\n--- s_client stdout ---\n" + out + "--- stderr ---\n" + err;
  }
};

// The ticket of a session saved with `s_client -sess_out` (empty if none).
inline Bytes read_ticket(const fs::path& session_pem) {
  BioPtr bio(BIO_new_file(session_pem.c_str(), "r"));
  REQUIRE_MESSAGE(bio != nullptr, "cannot open " << session_pem);
  SessionPtr session(PEM_read_bio_SSL_SESSION(bio.get(), nullptr, nullptr, nullptr));
  REQUIRE_MESSAGE(session != nullptr, "not a saved session: " << session_pem << ": "
                                                                << openssl_errors());
  const unsigned char* ticket = nullptr;
  std::size_t len = 0;
  SSL_SESSION_get0_ticket(session.get(), &ticket, &len);
  return ticket ? Bytes(reinterpret_cast<const char*>(ticket), len) : Bytes();
}

// One `openssl s_client` connection to 127.0.0.1:port: an HTTP/1.0 request
// on stdin and -ign_eof, so it reads until the server closes and collects
// TLS 1.3 tickets that arrive after the handshake.
inline Handshake s_client(std::uint16_t port, Tls version, const ClientOptions& options = {}) {
  std::vector<std::string> argv{
    require_program(STEK_INTEROP_OPENSSL, "openssl"), "s_client",
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
  ChildOptions child_options;
  child_options.stdin_data =
    "GET / HTTP/1.0\r\nHost: " + options.server_name + "\r\n\r\n";
  Child child = Child::spawn(argv, child_options);
  const auto status = child.wait_for(k_client_timeout);
  Handshake h;
  h.out = child.out();
  h.err = child.err();
  REQUIRE_MESSAGE(status.has_value(), "s_client timed out on port " << port << "\n"
                                                                    << h.out << h.err);
  // s_client prints "New, TLSv1.3, Cipher is ..." or "Reused, ...".
  static const std::regex line("^(New|Reused), (TLSv1\\.[0-9]),.*");
  for (const auto& text : lines_of(h.out)) {
    std::smatch m;
    if (std::regex_match(text, m, line)) {
      h.ok = true;
      h.reused = m[1] == "Reused";
      h.protocol = m[2];
      break;
    }
  }
  if (!options.sess_out.empty() && fs::exists(options.sess_out)) {
    h.ticket = read_ticket(options.sess_out);
  }
  // "    TLS session ticket:" then "    0000 - b2 61 ... dc-13 60 ... 24   ..."
  const auto printed = lines_of(h.out);
  for (std::size_t i = 0; i + 1 < printed.size(); ++i) {
    if (printed[i].find("TLS session ticket:") != std::string::npos) {
      static const std::regex row(R"(\s*0000 - ((?:[0-9a-f]{2}[ -]){15}[0-9a-f]{2}).*)");
      std::smatch m;
      const auto& next = printed[i + 1];
      if (std::regex_match(next, m, row)) {
        std::string hex = m[1].str();
        std::erase_if(hex, [](char c) { return c == ' ' || c == '-'; });
        h.held_ticket_id = hex;
      }
    }
  }
  return h;
}

// ---------------------------------------------------------------------------
// Tickets and sessions

// The key name an OpenSSL-family ticket carries in its first 16 bytes, as
// 32 hex digits: the key id stekctl shows.
inline std::string key_id_of(const Bytes& ticket) {
  return ticket.size() < 16 ? std::string() : to_hex(std::string_view(ticket).substr(0, 16));
}

// An OpenSSL-family ticket key, split into its parts.
struct KeyParts {
  Bytes name; // 16
  Bytes hmac; // 16 or 32
  Bytes aes;  // 16 (AES-128-CBC) or 32 (AES-256-CBC)
  std::string id() const { return to_hex(name); }
  bool operator==(const KeyParts&) const = default;
};

// The byte layouts of the key files (reference/server-formats.md §0).
enum class KeyLayout {
  nginx80,   // name | HMAC 32 | AES 32
  nginx48,   // name | AES 16 | HMAC 16
  haproxy80, // name | AES 32 | HMAC 32
  haproxy48, // name | AES 16 | HMAC 16
  openssl80, // name | HMAC 32 | AES 32 (SSL_CTX_set_tlsext_ticket_keys, Envoy)
  openssl48, // name | HMAC 16 | AES 16 (OpenSSL 1.0, BoringSSL, Apache)
};

inline std::size_t size_of(KeyLayout layout) {
  switch (layout) {
  case KeyLayout::nginx80:
  case KeyLayout::haproxy80:
  case KeyLayout::openssl80:
    return 80;
  default:
    return 48;
  }
}

inline bool aes_first(KeyLayout layout) {
  return layout == KeyLayout::nginx48 || layout == KeyLayout::haproxy80 ||
         layout == KeyLayout::haproxy48;
}

inline KeyParts split_key(const Bytes& file, KeyLayout layout) {
  REQUIRE_MESSAGE(file.size() == size_of(layout),
                  "a key of " << file.size() << " bytes, expected " << size_of(layout));
  const std::size_t half = (file.size() - 16) / 2;
  KeyParts k;
  k.name = file.substr(0, 16);
  const Bytes first = file.substr(16, half);
  const Bytes second = file.substr(16 + half, half);
  k.aes = aes_first(layout) ? first : second;
  k.hmac = aes_first(layout) ? second : first;
  return k;
}

inline Bytes join_key(const KeyParts& k, KeyLayout layout) {
  return k.name + (aes_first(layout) ? k.aes + k.hmac : k.hmac + k.aes);
}

inline const EVP_CIPHER* cipher_for(const KeyParts& key) {
  return key.aes.size() == 32 ? EVP_aes_256_cbc() : EVP_aes_128_cbc();
}

inline Bytes hmac_sha256(const Bytes& key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  return Bytes(reinterpret_cast<const char*>(mac), len);
}

// Verify and decrypt an OpenSSL-format ticket (name | IV | AES-CBC | HMAC-
// SHA256 over the rest, tls_decrypt_ticket): the DER SSL_SESSION inside, or
// nullopt if the name or the HMAC does not match `key` or it does not
// decrypt.
inline std::optional<Bytes> open_ticket(const Bytes& ticket, const KeyParts& key) {
  if (ticket.size() < 16 + 16 + 16 + 32 || ticket.compare(0, 16, key.name) != 0) {
    return std::nullopt;
  }
  const std::string_view t(ticket);
  const auto mac = hmac_sha256(key.hmac, t.substr(0, t.size() - 32));
  if (CRYPTO_memcmp(mac.data(), t.data() + t.size() - 32, 32) != 0) {
    return std::nullopt;
  }
  const auto iv = t.substr(16, 16);
  const auto body = t.substr(32, t.size() - 64);
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  Bytes out(body.size() + 32, '\0');
  int n1 = 0;
  int n2 = 0;
  if (EVP_DecryptInit_ex(ctx.get(), cipher_for(key), nullptr,
                         reinterpret_cast<const unsigned char*>(key.aes.data()),
                         reinterpret_cast<const unsigned char*>(iv.data())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &n1,
                        reinterpret_cast<const unsigned char*>(body.data()),
                        static_cast<int>(body.size())) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + n1,
                          &n2) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  out.resize(static_cast<std::size_t>(n1 + n2));
  return out;
}

// Encrypt a DER SSL_SESSION into a ticket under `key` as OpenSSL's
// construct_stateless_ticket does (random IV).
inline Bytes seal_ticket(const Bytes& session_der, const KeyParts& key) {
  const Bytes iv = random_bytes(16);
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  Bytes body(session_der.size() + 32, '\0');
  int n1 = 0;
  int n2 = 0;
  if (EVP_EncryptInit_ex(ctx.get(), cipher_for(key), nullptr,
                         reinterpret_cast<const unsigned char*>(key.aes.data()),
                         reinterpret_cast<const unsigned char*>(iv.data())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(body.data()), &n1,
                        reinterpret_cast<const unsigned char*>(session_der.data()),
                        static_cast<int>(session_der.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(body.data()) + n1,
                          &n2) != 1) {
    fail_openssl("ticket encryption");
  }
  body.resize(static_cast<std::size_t>(n1 + n2));
  const Bytes signed_part = key.name + iv + body;
  return signed_part + hmac_sha256(key.hmac, signed_part);
}

inline SessionPtr session_from_der(const Bytes& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  SessionPtr s(d2i_SSL_SESSION(nullptr, &p, static_cast<long>(der.size())));
  REQUIRE_MESSAGE(s != nullptr, "not a DER SSL_SESSION: " << openssl_errors());
  return s;
}

inline Bytes session_to_der(SSL_SESSION* session) {
  const int len = i2d_SSL_SESSION(session, nullptr);
  REQUIRE(len > 0);
  Bytes der(static_cast<std::size_t>(len), '\0');
  auto* p = reinterpret_cast<unsigned char*>(der.data());
  i2d_SSL_SESSION(session, &p);
  return der;
}

// The session-id context recorded in a (decrypted) server session.
inline Bytes session_id_context_of(const Bytes& session_der) {
  const auto s = session_from_der(session_der);
  unsigned int len = 0;
  const unsigned char* ctx = SSL_SESSION_get0_id_context(s.get(), &len);
  return Bytes(reinterpret_cast<const char*>(ctx), len);
}

// The same server session with another session-id context.
inline Bytes with_session_id_context(const Bytes& session_der, const Bytes& context) {
  const auto s = session_from_der(session_der);
  REQUIRE(SSL_SESSION_set1_id_context(
            s.get(), reinterpret_cast<const unsigned char*>(context.data()),
            static_cast<unsigned int>(context.size())) == 1);
  return session_to_der(s.get());
}

namespace detail {

struct Tlv {
  unsigned char tag = 0;
  std::size_t header = 0; // bytes before the value
  std::size_t length = 0; // value bytes
};

inline Tlv read_tlv(std::string_view der, std::size_t at) {
  REQUIRE(at + 2 <= der.size());
  Tlv t;
  t.tag = static_cast<unsigned char>(der[at]);
  const auto first = static_cast<unsigned char>(der[at + 1]);
  if (first < 0x80) {
    t.header = 2;
    t.length = first;
  } else {
    const std::size_t n = first & 0x7fu;
    REQUIRE((n >= 1 && n <= 4 && at + 2 + n <= der.size()));
    for (std::size_t i = 0; i < n; ++i) {
      t.length = (t.length << 8) | static_cast<unsigned char>(der[at + 2 + i]);
    }
    t.header = 2 + n;
  }
  REQUIRE(at + t.header + t.length <= der.size());
  return t;
}

inline Bytes write_tlv(unsigned char tag, const Bytes& value) {
  Bytes out(1, static_cast<char>(tag));
  const std::size_t n = value.size();
  if (n < 0x80) {
    out += static_cast<char>(n);
  } else {
    Bytes len;
    for (std::size_t v = n; v > 0; v >>= 8) {
      len.insert(len.begin(), static_cast<char>(v & 0xffu));
    }
    out += static_cast<char>(0x80u | len.size());
    out += len;
  }
  return out + value;
}

} // namespace detail

// Write `session_pem` (a client session from -sess_out) to `out_pem` with
// its ticket replaced by `ticket`. OpenSSL has no setter for a client
// session's ticket, so this edits field [10] (tlsext_tick, ssl/ssl_asn1.c)
// of the DER, then checks that OpenSSL reads the result back.
inline void write_session_with_ticket(const fs::path& session_pem, const Bytes& ticket,
                                      const fs::path& out_pem) {
  BioPtr in(BIO_new_file(session_pem.c_str(), "r"));
  REQUIRE(in != nullptr);
  SessionPtr session(PEM_read_bio_SSL_SESSION(in.get(), nullptr, nullptr, nullptr));
  REQUIRE(session != nullptr);
  const Bytes der = session_to_der(session.get());
  const std::string_view d(der);
  const auto outer = detail::read_tlv(d, 0);
  REQUIRE(outer.tag == 0x30);
  Bytes fields;
  bool replaced = false;
  for (std::size_t at = outer.header; at < outer.header + outer.length;) {
    const auto field = detail::read_tlv(d, at);
    if (field.tag == 0xaa) { // [10] EXPLICIT OCTET STRING
      fields += detail::write_tlv(0xaa, detail::write_tlv(0x04, ticket));
      replaced = true;
    } else {
      fields += der.substr(at, field.header + field.length);
    }
    at += field.header + field.length;
  }
  REQUIRE_MESSAGE(replaced, "the saved session has no ticket: " << session_pem);
  const auto edited = session_from_der(detail::write_tlv(0x30, fields));
  const unsigned char* check = nullptr;
  std::size_t check_len = 0;
  SSL_SESSION_get0_ticket(edited.get(), &check, &check_len);
  REQUIRE(Bytes(reinterpret_cast<const char*>(check), check_len) == ticket);
  BioPtr out(BIO_new_file(out_pem.c_str(), "w"));
  REQUIRE(out != nullptr);
  REQUIRE(PEM_write_bio_SSL_SESSION(out.get(), edited.get()) == 1);
}

// ---------------------------------------------------------------------------
// stekctl's outputs

// `stekctl [--at AT] ARGS...` (no --at if `at` is empty).
inline ProcessResult stekctl_at(const std::string& at, std::vector<std::string> args) {
  if (!at.empty()) {
    args.insert(args.begin(), {"--at", at});
  }
  return stekctl(std::move(args));
}

// `stekctl --at AT generate KEYSTORE`: its first key is active from AT
// (pass a time in the past to have a key that encrypts now).
inline void generate_keystore(const fs::path& keystore, const std::string& at) {
  require_ok(stekctl_at(at, {"generate", keystore.string()}));
}

// `stekctl [--at AT] export KEYSTORE --format FORMAT --out OUT`, required
// to succeed.
inline void export_keys(const fs::path& keystore, const std::string& format,
                        const fs::path& out, const std::string& at = "") {
  require_ok(stekctl_at(at, {"export", keystore.string(), "--format", format, "--out",
                             out.string()}));
}

struct ListedKey {
  std::string id;
  std::string state;
  bool encrypting = false;
  std::string not_before, encrypt_until, decrypt_until;
};

// HKDF-SHA256 (RFC 5869) with an empty salt.
inline Bytes hkdf_sha256(const Bytes& key, const std::string& info, std::size_t size) {
  Owned<EVP_KDF, EVP_KDF_free> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  Owned<EVP_KDF_CTX, EVP_KDF_CTX_free> ctx(kdf ? EVP_KDF_CTX_new(kdf.get()) : nullptr);
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {
    OSSL_PARAM_construct_utf8_string("digest", digest, 0),
    OSSL_PARAM_construct_octet_string("key", const_cast<char*>(key.data()), key.size()),
    OSSL_PARAM_construct_octet_string("info", const_cast<char*>(info.data()), info.size()),
    OSSL_PARAM_construct_end()};
  Bytes out(size, '\0');
  if (!ctx || EVP_KDF_derive(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), size,
                             params) != 1) {
    fail_openssl("HKDF");
  }
  return out;
}

// The OpenSSL-family parts a generated key must have, recomputed from its
// 32-byte material in the keystore file: HKDF-SHA256, empty salt, info =
// the fixed labels of stekctl-keystore(5) ("stekctl/v1 openssl
// aes-256-cbc" and "stekctl/v1 openssl hmac-sha256 32" for 80-byte files,
// "... aes-128-cbc" and "... hmac-sha256 16" for 48-byte ones). Comparing
// a key file split the way its server reads it against these shows the
// file's layout is the server's, which a resumption alone cannot (a
// server reads any 80 bytes as some key).
inline KeyParts generated_key_parts(const fs::path& keystore, const std::string& id,
                                    std::size_t file_size) {
  const auto doc = stek::test::load_json_file(keystore);
  REQUIRE_MESSAGE(doc.is_object(), "cannot read " << keystore);
  for (const auto& key : doc.at("keys")) {
    if (key.at("id") != id) {
      continue;
    }
    REQUIRE_MESSAGE(key.contains("material"), "key " << id << " has no material");
    const auto material = base64_decode(key.at("material").get<std::string>());
    REQUIRE((material && material->size() == 32));
    const bool wide = file_size == 80;
    KeyParts parts;
    for (std::size_t i = 0; i < id.size(); i += 2) {
      parts.name += static_cast<char>(std::stoi(id.substr(i, 2), nullptr, 16));
    }
    parts.aes = hkdf_sha256(*material,
                            wide ? "stekctl/v1 openssl aes-256-cbc" : "stekctl/v1 openssl aes-128-cbc",
                            wide ? 32 : 16);
    parts.hmac = hkdf_sha256(*material,
                             wide ? "stekctl/v1 openssl hmac-sha256 32"
                                  : "stekctl/v1 openssl hmac-sha256 16",
                             wide ? 32 : 16);
    return parts;
  }
  FAIL("no key " << id << " in " << keystore);
  return {};
}

// `stekctl [--at AT] list --json KEYSTORE`.
inline std::vector<ListedKey> list_keys(const fs::path& keystore, const std::string& at = "") {
  std::vector<std::string> args;
  if (!at.empty()) {
    args.insert(args.end(), {"--at", at});
  }
  args.insert(args.end(), {"--json", "list", keystore.string()});
  const auto r = stekctl(args);
  REQUIRE_MESSAGE(r.code == 0, describe(r));
  const auto doc = stek::test::parse_json(r.out);
  REQUIRE_MESSAGE(doc.is_object(), "list --json printed no JSON object:\n" << r.out);
  std::vector<ListedKey> out;
  for (const auto& key : doc.at("keys")) {
    ListedKey k;
    k.id = key.at("id").get<std::string>();
    k.state = key.at("state").get<std::string>();
    k.encrypting = key.at("encrypting").get<bool>();
    k.not_before = key.value("not_before", "");
    k.encrypt_until = key.value("encrypt_until", "");
    k.decrypt_until = key.value("decrypt_until", "");
    out.push_back(std::move(k));
  }
  return out;
}

inline ListedKey find_key(const std::vector<ListedKey>& keys, const std::string& id) {
  for (const auto& k : keys) {
    if (k.id == id) {
      return k;
    }
  }
  FAIL("no key " << id << " in the keystore");
  return {};
}

// The id `list --json` marks encrypting (exactly one must be).
inline std::string encrypting_id(const fs::path& keystore, const std::string& at = "") {
  std::vector<std::string> ids;
  for (const auto& k : list_keys(keystore, at)) {
    if (k.encrypting) {
      ids.push_back(k.id);
    }
  }
  REQUIRE_MESSAGE(ids.size() == 1, ids.size() << " keys marked encrypting");
  return ids.front();
}

// The key files an nginx snippet (ssl_session_tickets.conf) loads, in order.
inline std::vector<fs::path> nginx_conf_keys(const fs::path& conf) {
  static const std::regex directive(R"(\s*ssl_session_ticket_key\s+([^;\s]+)\s*;\s*)");
  std::vector<fs::path> out;
  for (const auto& text : lines_of(read_file(conf))) {
    std::smatch m;
    if (std::regex_match(text, m, directive)) {
      out.emplace_back(m[1].str());
    }
  }
  return out;
}

// The decoded lines of a HAProxy tls-ticket-keys file.
inline std::vector<Bytes> haproxy_lines(const fs::path& file) {
  std::vector<Bytes> out;
  for (const auto& line : lines_of(read_file(file))) {
    const auto decoded = base64_decode(line);
    REQUIRE_MESSAGE(decoded.has_value(), "not base64: \"" << line << "\" in " << file);
    out.push_back(*decoded);
  }
  return out;
}

inline void write_haproxy_lines(const fs::path& file, const std::vector<Bytes>& keys) {
  std::string text;
  for (const auto& key : keys) {
    text += base64_encode(key) + "\n";
  }
  write_file(file, text, 0600);
}

// ---------------------------------------------------------------------------
// The test's directory

// A fresh directory for one test (cwd while it lives) with a certificate
// for "a.example" in tls/.
struct Workspace {
  stek::test::ScratchDir scratch;
  fs::path dir = fs::absolute(scratch.path());
  Certificate cert = make_certificate(dir / "tls");

  fs::path path(const std::string& name) const { return dir / name; }
};

} // namespace stek::interop
