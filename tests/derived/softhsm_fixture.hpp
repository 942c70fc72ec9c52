// SPDX-License-Identifier: Apache-2.0
#pragma once

// A SoftHSM2 token of its own for one test: a temporary directory holding
// the SoftHSM configuration, the token and the PIN files, made with
// stek-test-hsm and removed at the end. SOFTHSM2_CONF points at it for this
// process (the oracle loads SoftHSM in-process) and for the children.

#include "integration/process.hpp"
#include "support/files.hpp"

#include <stek/oracle.hpp>

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace stek::test {

class SoftHsm {
public:
  static constexpr const char* k_user_pin = "user-pin-5317";
  static constexpr const char* k_so_pin = "so-pin-8820";

  explicit SoftHsm(std::string token = "stek-test") : m_token(std::move(token)) {
    std::string pattern =
      (std::filesystem::temp_directory_path() / "stek-pkcs11-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    m_dir = pattern;
    if (const char* previous = std::getenv("SOFTHSM2_CONF")) {
      m_previous_conf = previous;
    }
    write_file(pin_file(), std::string(k_user_pin) + "\n");
    write_file(m_dir / "so-pin", std::string(k_so_pin) + "\n");
    const auto init = tool({"init", "--dir", m_dir.string(), "--token", m_token,
                            "--pin-file", pin_file().string(), "--so-pin-file",
                            (m_dir / "so-pin").string(), "--module", module()});
    REQUIRE_MESSAGE(init.code == 0, describe(init));
    m_conf = m_dir / "softhsm2.conf";
    REQUIRE(init.out == m_conf.string() + "\n");
    ::setenv("SOFTHSM2_CONF", m_conf.c_str(), 1);
  }
  SoftHsm(const SoftHsm&) = delete;
  SoftHsm& operator=(const SoftHsm&) = delete;
  ~SoftHsm() {
    if (m_previous_conf) {
      ::setenv("SOFTHSM2_CONF", m_previous_conf->c_str(), 1);
    } else {
      ::unsetenv("SOFTHSM2_CONF");
    }
    std::error_code ec;
    std::filesystem::remove_all(m_dir, ec);
  }

  static std::string module() { return STEK_SOFTHSM2_MODULE; }
  const std::filesystem::path& dir() const { return m_dir; }
  const std::string& token() const { return m_token; }
  std::filesystem::path pin_file() const { return m_dir / "pin"; }

  // Run stek-test-hsm with `args`.
  static ProcessResult tool(std::vector<std::string> args) {
    args.insert(args.begin(), STEK_TEST_HSM_BINARY);
    return run_process(std::move(args));
  }

  // Create a key labelled `label`; `how` is {"--generate"} or
  // {"--value-hex", HEX}, plus any further options.
  void create_key(const std::string& label, std::vector<std::string> how) const {
    std::vector<std::string> args = {"create-key", "--module", module(),
                                     "--token", m_token, "--pin-file",
                                     pin_file().string(), "--label", label};
    args.insert(args.end(), how.begin(), how.end());
    const auto made = tool(std::move(args));
    REQUIRE_MESSAGE(made.code == 0, describe(made));
  }

  // Return the lines stek-test-hsm show-key prints for `label`.
  std::vector<std::string> show_key(const std::string& label) const {
    const auto shown = tool({"show-key", "--module", module(), "--token", m_token,
                             "--pin-file", pin_file().string(), "--label", label});
    REQUIRE_MESSAGE(shown.code == 0, describe(shown));
    std::vector<std::string> lines;
    std::size_t start = 0;
    for (std::size_t end; (end = shown.out.find('\n', start)) != std::string::npos;
         start = end + 1) {
      lines.push_back(shown.out.substr(start, end - start));
    }
    return lines;
  }

  // The configuration of an oracle for key `key` in this token, with the
  // PIN from the PIN file.
  Pkcs11OracleConfig config(const std::string& key) const {
    Pkcs11OracleConfig config;
    config.module = module();
    config.token = m_token;
    config.key = key;
    config.pin_file = pin_file().string();
    return config;
  }

private:
  std::string m_token;
  std::filesystem::path m_dir;
  std::filesystem::path m_conf;
  std::optional<std::string> m_previous_conf;
};

} // namespace stek::test
