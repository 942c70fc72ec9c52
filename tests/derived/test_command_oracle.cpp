// SPDX-License-Identifier: Apache-2.0
// The command oracle against real commands: `openssl mac` stands in for
// `aws kms generate-mac`, and its MACs are checked against HMAC-SHA256
// computed here, in-process.
#include <stek/crypto.hpp>
#include <stek/oracle.hpp>

#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <dirent.h>
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using stek::CommandOracleConfig;
using Output = CommandOracleConfig::Output;

const std::string k_key_hex =
  "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
// 32 bytes of 0xab in hex, for commands that print a fixed MAC.
const std::string k_fixed_hex(64, 'a');

std::string openssl_mac(bool binary) {
  return "openssl mac -digest SHA256 -macopt hexkey:" + k_key_hex +
         (binary ? " -binary" : "") + " HMAC";
}

std::vector<std::uint8_t> bytes_of(std::string_view text) {
  return {text.begin(), text.end()};
}

std::vector<std::uint8_t> pattern(std::size_t size) {
  std::vector<std::uint8_t> out(size);
  for (std::size_t i = 0; i < size; ++i) {
    out[i] = static_cast<std::uint8_t>((i * 131 + 7) & 0xFF);
  }
  return out;
}

// HMAC-SHA256 of `message` under k_key_hex, computed by OpenSSL here.
std::vector<std::uint8_t> reference_hmac(const std::vector<std::uint8_t>& message) {
  std::vector<std::uint8_t> key;
  for (std::size_t i = 0; i < k_key_hex.size(); i += 2) {
    key.push_back(static_cast<std::uint8_t>(std::stoi(k_key_hex.substr(i, 2), nullptr, 16)));
  }
  std::vector<std::uint8_t> mac(EVP_MAX_MD_SIZE);
  unsigned int size = 0;
  REQUIRE(HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
               message.data(), message.size(), mac.data(), &size) != nullptr);
  mac.resize(size);
  return mac;
}

std::vector<std::uint8_t> to_vector(const stek::SecretBytes& bytes) {
  return {bytes.reveal().begin(), bytes.reveal().end()};
}

std::unique_ptr<stek::MacOracle> open(std::string command, Output output,
                                      stek::Duration timeout = 10s) {
  auto oracle = stek::open_command_oracle({std::move(command), output, timeout});
  REQUIRE(oracle.ok());
  return std::move(oracle).value();
}

// Run `command` on `message` and return the error it must fail with,
// checked to be Errc::oracle naming the oracle.
stek::Error failure(const std::string& command, Output output = Output::hex,
                    std::vector<std::uint8_t> message = bytes_of("m"),
                    stek::Duration timeout = 10s) {
  auto oracle = open(command, output, timeout);
  auto mac = oracle->mac(message);
  REQUIRE_FALSE(mac.ok());
  const stek::Error error = mac.error();
  CHECK(error.code == stek::Errc::oracle);
  CHECK(error.message.starts_with(oracle->describe() + ": "));
  return error;
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

int open_fd_count() {
  int count = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  REQUIRE(dir != nullptr);
  while (::readdir(dir) != nullptr) {
    ++count;
  }
  ::closedir(dir);
  return count;
}

pid_t read_pid(const std::string& path) {
  std::ifstream in(path);
  long pid = 0;
  in >> pid;
  REQUIRE(pid > 1);
  return static_cast<pid_t>(pid);
}

// True if `pid` is gone or a zombie: not running any more. (A killed
// grandchild is reparented to init, which may reap it a little later.)
bool not_running(pid_t pid) {
  for (int i = 0; i < 100; ++i) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string pid_field;
    std::string comm;
    std::string state;
    if (!(stat >> pid_field >> comm >> state) || state == "Z" || state == "X") {
      return true;
    }
    usleep(10000);
  }
  return false;
}

bool sigpipe_pending() {
  sigset_t pending;
  sigemptyset(&pending);
  REQUIRE(::sigpending(&pending) == 0);
  return sigismember(&pending, SIGPIPE) == 1;
}

} // namespace

TEST_CASE("command oracle: open checks the command and timeout, runs nothing") {
  auto empty = stek::open_command_oracle({"  ", Output::hex, 10s});
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.error().code == stek::Errc::invalid_argument);
  CHECK(contains(empty.error().message, "derived.oracle.command"));

  auto zero = stek::open_command_oracle({"true", Output::hex, 0s});
  REQUIRE_FALSE(zero.ok());
  CHECK(zero.error().code == stek::Errc::invalid_argument);
  CHECK(contains(zero.error().message, "derived.oracle.timeout"));

  auto oracle = stek::open_command_oracle({"touch ran", Output::hex, 10s});
  REQUIRE(oracle.ok());
  CHECK_FALSE(std::ifstream("ran").good());
}

TEST_CASE("command oracle: describe shows the command, cut to 60 characters") {
  CHECK(open("aws kms generate-mac", Output::base64)->describe() ==
        "command oracle (aws kms generate-mac)");
  const std::string long_command =
    "aws kms generate-mac --key-id alias/stek-fleet --mac-algorithm "
    "HMAC_SHA_256 --message fileb:///dev/stdin --query Mac --output text";
  const std::string described = open(long_command, Output::base64)->describe();
  CHECK(described == "command oracle (" + long_command.substr(0, 57) + "...)");
}

TEST_CASE("command oracle: openssl mac in hex equals HMAC-SHA256 computed here") {
  auto oracle = open(openssl_mac(false), Output::hex);
  for (const auto& message :
       {std::vector<std::uint8_t>{}, bytes_of("abc"), std::vector<std::uint8_t>{0},
        pattern(4096), pattern(300 * 1024)}) {
    CAPTURE(message.size());
    auto mac = oracle->mac(message);
    REQUIRE(mac.ok());
    CHECK(to_vector(*mac) == reference_hmac(message));
  }
}

TEST_CASE("command oracle: base64 output through a pipeline") {
  const auto message = pattern(1000);
  for (const std::string encoder : {" | base64", " | openssl base64"}) {
    auto mac = open(openssl_mac(true) + encoder, Output::base64)->mac(message);
    REQUIRE(mac.ok());
    CHECK(to_vector(*mac) == reference_hmac(message));
  }
}

TEST_CASE("command oracle: binary output is taken byte for byte") {
  const auto message = bytes_of("ticket key for 2026-11-28");
  auto mac = open(openssl_mac(true), Output::binary)->mac(message);
  REQUIRE(mac.ok());
  CHECK(to_vector(*mac) == reference_hmac(message));
}

TEST_CASE("command oracle: hex with line breaks and upper case is accepted") {
  // `xxd -p` breaks 64 digits over two lines.
  auto mac = open("printf ' %s\\n%s \\n' " + std::string(40, 'A') + " " +
                    std::string(24, 'b'),
                  Output::hex)
               ->mac(bytes_of("m"));
  REQUIRE(mac.ok());
  auto expected = std::vector<std::uint8_t>(20, 0xAA);
  expected.insert(expected.end(), 12, 0xBB);
  CHECK(to_vector(*mac) == expected);
}

TEST_CASE("command oracle: the whole message reaches stdin") {
  // SHA-256 of stdin, an independent check that every byte arrived.
  for (const std::size_t size : {std::size_t{4096}, std::size_t{1024 * 1024}}) {
    const auto message = pattern(size);
    auto digest = open("openssl dgst -sha256 -binary | openssl base64", Output::base64)
                    ->mac(message);
    REQUIRE(digest.ok());
    const auto expected = stek::sha256(message);
    CHECK(to_vector(*digest) == std::vector<std::uint8_t>(expected.begin(), expected.end()));
  }
}

TEST_CASE("command oracle: the caller's environment is inherited") {
  REQUIRE(::setenv("STEK_TEST_ORACLE_MAC", k_fixed_hex.c_str(), 1) == 0);
  auto mac = open("printf %s \"$STEK_TEST_ORACLE_MAC\"", Output::hex)->mac(bytes_of("m"));
  ::unsetenv("STEK_TEST_ORACLE_MAC");
  REQUIRE(mac.ok());
  CHECK(to_vector(*mac) == std::vector<std::uint8_t>(32, 0xAA));
}

TEST_CASE("command oracle: a failing command's stderr and status are reported") {
  const auto error = failure(
    "echo retry-$((40+2)) >&2; echo '  AccessDeniedException: not authorized  ' >&2; "
    "echo >&2; exit 3");
  CHECK(error.message.ends_with("exited with status 3: AccessDeniedException: not authorized"));
  CHECK_FALSE(contains(error.message, "retry-42"));
}

TEST_CASE("command oracle: only the end of a long stderr is kept, one line of it") {
  const auto error = failure(
    "i=0; while [ $i -lt 2000 ]; do echo \"line $i\" >&2; i=$((i+1)); done; "
    "printf 'last %0300d\\n' 0 >&2; exit 1");
  // The last line, cut to 200 characters.
  CHECK(error.message.ends_with("exited with status 1: last " + std::string(195, '0')));
  CHECK_FALSE(contains(error.message, "line 1999"));
}

TEST_CASE("command oracle: stdout is never quoted in a message") {
  // The command computes what it prints, so the text is not in describe().
  const std::string garbage = "echo not-a-mac-$((4700+11))-XYZ";
  const auto b64 = failure(garbage, Output::base64);
  CHECK(contains(b64.message, "printed something that is not base64"));
  CHECK_FALSE(contains(b64.message, "4711"));

  const auto hex = failure(garbage, Output::hex);
  CHECK(contains(hex.message, "printed something that is not hex"));
  CHECK_FALSE(contains(hex.message, "4711"));

  // A MAC printed by a command that then fails is not quoted either.
  const auto failed = failure("printf %064d 7; exit 2");
  CHECK(contains(failed.message, "exited with status 2"));
  CHECK_FALSE(contains(failed.message, "0007"));
}

TEST_CASE("command oracle: a MAC of the wrong size is refused") {
  const auto hex16 = failure("printf %s " + std::string(32, 'f'));
  CHECK(contains(hex16.message, "returned 16 bytes; a STEK needs a 32-byte HMAC-SHA256"));
  CHECK(contains(hex16.message, "HMAC_SHA_256"));

  const auto sha512 = failure("openssl dgst -sha512 -binary", Output::binary);
  CHECK(contains(sha512.message, "returned 64 bytes"));
}

TEST_CASE("command oracle: a command that prints nothing fails") {
  const auto error = failure("true", Output::base64);
  CHECK(contains(error.message, "printed nothing"));
}

TEST_CASE("command oracle: a command killed by a signal fails") {
  const auto error = failure("kill -9 $$");
  CHECK(contains(error.message, "killed by signal 9"));
}

TEST_CASE("command oracle: a command that does not exist fails with sh's status") {
  const auto error = failure("/nonexistent/aws kms generate-mac");
  CHECK(contains(error.message, "exited with status 127"));
  CHECK(contains(error.message, "/nonexistent/aws"));
}

TEST_CASE("command oracle: a timeout kills the command's whole process group") {
  const auto start = std::chrono::steady_clock::now();
  const auto error = failure("echo $$ > shell.pid; sleep 30 & echo $! > sleep.pid; wait",
                             Output::hex, bytes_of("m"), 1s);
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(took < 2500ms);
  CHECK(contains(error.message, "did not finish within 1s"));
  const pid_t shell = read_pid("shell.pid");
  errno = 0;
  CHECK(::kill(shell, 0) == -1);
  CHECK(errno == ESRCH);
  CHECK(not_running(read_pid("sleep.pid")));
}

TEST_CASE("command oracle: a command that closes its output but lingers times out") {
  const auto start = std::chrono::steady_clock::now();
  const auto error = failure("printf %s " + k_fixed_hex + "; exec >&- 2>&-; sleep 30",
                             Output::hex, bytes_of("m"), 1s);
  CHECK(std::chrono::steady_clock::now() - start < 2500ms);
  CHECK(contains(error.message, "did not finish within 1s"));
}

TEST_CASE("command oracle: a command that never reads stdin still works") {
  struct sigaction before {};
  REQUIRE(::sigaction(SIGPIPE, nullptr, &before) == 0);
  // 1 MiB fills the pipe, so the write fails with EPIPE once sh exits.
  auto mac = open("exec 0<&-; printf %s " + k_fixed_hex, Output::hex)->mac(pattern(1024 * 1024));
  REQUIRE(mac.ok());
  CHECK(to_vector(*mac) == std::vector<std::uint8_t>(32, 0xAA));
  CHECK_FALSE(sigpipe_pending());
  struct sigaction after {};
  REQUIRE(::sigaction(SIGPIPE, nullptr, &after) == 0);
  const bool same_handler = after.sa_handler == before.sa_handler;
  CHECK(same_handler);
  sigset_t mask;
  REQUIRE(::pthread_sigmask(SIG_SETMASK, nullptr, &mask) == 0);
  CHECK(sigismember(&mask, SIGPIPE) == 0);
}

TEST_CASE("command oracle: stdout is capped at 64 KiB") {
  const auto bounded = failure("head -c 70000 /dev/zero", Output::binary);
  CHECK(contains(bounded.message, "printed more than 64 KiB"));

  // An endless writer is stopped at once, not at the timeout.
  const auto start = std::chrono::steady_clock::now();
  const auto endless = failure("yes", Output::base64, bytes_of("m"), 5s);
  CHECK(contains(endless.message, "printed more than 64 KiB"));
  CHECK(std::chrono::steady_clock::now() - start < 2s);
}

TEST_CASE("command oracle: a lot of stderr does not block stdout") {
  auto mac = open("head -c 300000 /dev/zero >&2; printf %s " + k_fixed_hex, Output::hex)
               ->mac(pattern(300 * 1024));
  REQUIRE(mac.ok());
  CHECK(to_vector(*mac) == std::vector<std::uint8_t>(32, 0xAA));
}

TEST_CASE("command oracle: 100 calls leak no file descriptors") {
  auto oracle = open("printf %s " + k_fixed_hex, Output::hex);
  auto failing = open("exit 1", Output::hex);
  const int before = open_fd_count();
  for (int i = 0; i < 100; ++i) {
    REQUIRE(oracle->mac(bytes_of("m")).ok());
    if (i % 10 == 0) {
      REQUIRE_FALSE(failing->mac(bytes_of("m")).ok());
    }
  }
  CHECK(open_fd_count() == before);
}

TEST_CASE("command oracle: the command sees only stdin, stdout and stderr") {
  // A descriptor the caller forgot to mark close-on-exec stays with it.
  const int leaked = ::dup(STDIN_FILENO);
  REQUIRE(leaked > 2);
  const std::string probe = "if [ -e /proc/self/fd/" + std::to_string(leaked) +
                            " ]; then exit 9; fi; printf %s " + k_fixed_hex;
  auto mac = open(probe, Output::hex)->mac(bytes_of("m"));
  ::close(leaked);
  CHECK(mac.ok());
}

TEST_CASE("command oracle: a caller ignoring SIGCHLD gets an error, not a guess") {
  // The kernel then reaps the child itself, and its exit status is lost.
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction old {};
  REQUIRE(::sigaction(SIGCHLD, &ignore, &old) == 0);
  auto mac = open("printf %s " + k_fixed_hex, Output::hex)->mac(bytes_of("m"));
  REQUIRE(::sigaction(SIGCHLD, &old, nullptr) == 0);
  REQUIRE_FALSE(mac.ok());
  CHECK(mac.error().code == stek::Errc::oracle);
  CHECK(contains(mac.error().message, "exit status was lost"));
}
