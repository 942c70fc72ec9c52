// SPDX-License-Identifier: Apache-2.0
// Drive the completion scripts stekctl writes in the real shells: load a
// script, press TAB at the end of a command line, and return what the shell
// offers. The built stekctl comes first on PATH, as it would once
// installed, because the scripts call it for key ids.
#pragma once

#include "integration/process.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace stek::test::completion {

namespace fs = std::filesystem;

enum class Shell { bash, zsh, fish };
inline constexpr Shell k_shells[] = {Shell::bash, Shell::zsh, Shell::fish};

inline std::string name_of(Shell shell) {
  switch (shell) {
  case Shell::bash:
    return "bash";
  case Shell::zsh:
    return "zsh";
  case Shell::fish:
    return "fish";
  }
  return "?";
}

// The environment the shells run in: stekctl on PATH, HOME and XDG
// directories in the test's own directory (fish writes there), and one
// exported variable for --pkcs11-pin-env.
inline ProcessOptions shell_environment() {
  const auto here = fs::current_path();
  const auto bin = fs::path(stekctl_path()).parent_path();
  const char* path = std::getenv("PATH");
  ProcessOptions options;
  options.env = {"PATH=" + bin.string() + ":" + (path ? path : "/usr/bin:/bin"),
                 "HOME=" + here.string(), "XDG_CONFIG_HOME=" + (here / ".config").string(),
                 "XDG_DATA_HOME=" + (here / ".local/share").string(),
                 "XDG_CACHE_HOME=" + (here / ".cache").string(),
                 "STEK_TEST_PIN_VARIABLE=1234"};
  return options;
}

// Write `stekctl completion SHELL` to a file in the current directory and
// return its path.
inline fs::path write_script(Shell shell) {
  const auto r = stekctl({"completion", name_of(shell)});
  REQUIRE_MESSAGE(r.code == 0, describe(r));
  REQUIRE_MESSAGE(r.err.empty(), describe(r));
  const auto path = fs::absolute("completion." + name_of(shell));
  write_file(path, r.out);
  return path;
}

// Words of `line` as bash makes them for completion: split at spaces, and
// at '=' (which COMP_WORDBREAKS holds) into "--opt", "=", "value".
inline std::vector<std::string> bash_words(const std::string& line) {
  std::vector<std::string> words;
  std::string word;
  for (const char c : line) {
    if (c == ' ') {
      if (!word.empty()) {
        words.push_back(word);
      }
      word.clear();
    } else if (c == '=') {
      words.push_back(word);
      words.emplace_back("=");
      word.clear();
    } else {
      word += c;
    }
  }
  words.push_back(word); // the word under the cursor, maybe empty
  return words;
}

// Press TAB at the end of `line` in `shell` with `script` loaded; return
// the offered words, sorted, without fish's descriptions.
inline std::vector<std::string> offered(Shell shell, const fs::path& script,
                                        const std::string& line) {
  const std::string drivers = STEK_COMPLETION_DRIVERS;
  std::vector<std::string> argv;
  switch (shell) {
  case Shell::bash:
    argv = {STEK_BASH, "--norc", "--noprofile", drivers + "/bash_complete.bash",
            script.string()};
    for (auto& word : bash_words(line)) {
      argv.push_back(std::move(word));
    }
    break;
  case Shell::zsh:
    argv = {STEK_ZSH, "-f", drivers + "/zsh_complete.zsh", script.string(), line};
    break;
  case Shell::fish:
    argv = {STEK_FISH, "--no-config", "-c", "source $argv[1]; and complete -C $argv[2]",
            script.string(), line};
    break;
  }
  const auto r = run_process(argv, shell_environment());
  REQUIRE_MESSAGE(r.code == 0, name_of(shell) << " for \"" << line << "\": " << describe(r));
  CHECK_MESSAGE(r.err.empty(), name_of(shell) << " for \"" << line << "\": " << describe(r));
  std::set<std::string> words;
  std::istringstream in(r.out);
  for (std::string word; std::getline(in, word);) {
    word = word.substr(0, word.find('\t'));
    // A value completed after "--opt=": fish repeats the option, bash and
    // zsh do not.
    if (const auto eq = word.find('='); word.starts_with("--") && eq != std::string::npos) {
      word = word.substr(eq + 1);
    }
    // Directories: zsh and fish mark them, bash does not.
    if (word.size() > 1 && word.ends_with('/')) {
      word.pop_back();
    }
    if (!word.empty()) {
      words.insert(word);
    }
  }
  return {words.begin(), words.end()};
}

// The scripts of all three shells, written once per test case.
class Scripts {
public:
  Scripts() {
    for (const Shell shell : k_shells) {
      m_paths.push_back(write_script(shell));
    }
  }
  // What `shell` offers at the end of `line`.
  std::vector<std::string> operator()(Shell shell, const std::string& line) const {
    return offered(shell, m_paths[static_cast<std::size_t>(shell)], line);
  }

private:
  std::vector<fs::path> m_paths;
};

inline std::string shown(const std::vector<std::string>& words) {
  std::string out = "{";
  for (const auto& word : words) {
    out += (out.size() > 1 ? " " : "") + word;
  }
  return out + "}";
}

inline std::vector<std::string> sorted(std::vector<std::string> words) {
  std::sort(words.begin(), words.end());
  return words;
}

} // namespace stek::test::completion
