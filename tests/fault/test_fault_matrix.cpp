// SPDX-License-Identifier: Apache-2.0
// Every command that writes, run with each of its file-system calls failing
// in turn (open, write, fsync, rename and the directory fsync, with EIO,
// ENOSPC and EACCES), must exit 1 with a message naming the operation and
// the file, and leave every file byte-identical with no temporary behind.
#include "integration/fixture.hpp"
#include "integration/process.hpp"
#include "support/files.hpp"

#include <doctest/doctest.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace stek::test {
namespace {

namespace fs = std::filesystem;

constexpr const char* k_ops[] = {"open", "write", "fsync", "dirfsync", "rename"};
constexpr int k_errnos[] = {EIO, ENOSPC, EACCES};

// What the message must say for a failed call of each operation.
std::regex operation_words(const std::string& op) {
  if (op == "open") {
    return std::regex("(open|create temporary file)[a-z ]* failed");
  }
  if (op == "dirfsync") {
    return std::regex("(fsync|open) directory failed");
  }
  return std::regex(op + " failed");
}

// Every file under `dir` and its bytes. Lock files are left out: they are
// empty, kept on purpose, and made before anything can fail.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    const auto name = entry.path().filename().string();
    if (entry.is_regular_file() && !name.ends_with(".lock")) {
      files[fs::relative(entry.path(), dir).string()] = read_file(entry.path());
    }
  }
  return files;
}

std::map<std::string, long> read_counts(const fs::path& path) {
  std::map<std::string, long> counts;
  std::istringstream in(read_file(path));
  std::string op;
  long n = 0;
  while (in >> op >> n) {
    counts[op] = n;
  }
  return counts;
}

struct Scenario {
  const char* name;
  // Prepares `dir` (absolute) and returns the command's arguments.
  std::function<std::vector<std::string>(const fs::path& dir)> prepare;
};

ProcessOptions with_fault(const fs::path& dir, const std::vector<std::string>& extra) {
  ProcessOptions options;
  options.env = {"LD_PRELOAD=" STEK_FAULT_SHIM, "STEK_FAULT_DIR=" + dir.string(),
                 // The sanitizer runtime need not come first for this.
                 "ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=1"};
  options.env.insert(options.env.end(), extra.begin(), extra.end());
  return options;
}

void require_ok(const ProcessResult& r) { REQUIRE_MESSAGE(r.code == 0, describe(r)); }

std::string first_key_id(const fs::path& keystore) {
  return load_json_file(keystore).at("keys").at(0).at("id").get<std::string>();
}

const std::vector<Scenario>& scenarios() {
  static const std::vector<Scenario> all = {
    {"generate", [](const fs::path& d) {
       return std::vector<std::string>{"--at", k_t0, "generate", (d / "ks.json").string()};
     }},
    {"rotate", [](const fs::path& d) {
       require_ok(stekctl({"--at", k_t0, "generate", (d / "ks.json").string()}));
       return std::vector<std::string>{"--at", k_after_due, "rotate",
                                       (d / "ks.json").string()};
     }},
    {"revoke", [](const fs::path& d) {
       require_ok(stekctl({"--at", k_t0, "generate", (d / "ks.json").string()}));
       return std::vector<std::string>{"--at", k_t0, "revoke", (d / "ks.json").string(),
                                       first_key_id(d / "ks.json"), "--reason", "test"};
     }},
    {"import", [](const fs::path& d) {
       require_ok(stekctl({"--at", k_t0, "generate", (d / "ks.json").string()}));
       std::string key(80, '\0');
       for (std::size_t i = 0; i < key.size(); ++i) {
         key[i] = static_cast<char>(i * 7 + 3);
       }
       write_file(d / "nginx.key", key);
       return std::vector<std::string>{"--at", k_t0, "import", (d / "ks.json").string(),
                                       "--format", "nginx", (d / "nginx.key").string()};
     }},
    {"export to a file", [](const fs::path& d) {
       const auto ks = (d / "ks.json").string();
       const auto out = (d / "haproxy.keys").string();
       require_ok(stekctl({"--at", k_t0, "generate", ks}));
       require_ok(stekctl({"--at", k_t0, "export", ks, "--format", "haproxy", "--out", out}));
       // A new key since, so the next export must rewrite the file.
       require_ok(stekctl({"--at", k_after_due, "rotate", ks}));
       return std::vector<std::string>{"--at", k_after_due, "export", ks, "--format",
                                       "haproxy", "--out", out};
     }},
    {"export to a directory", [](const fs::path& d) {
       const auto ks = (d / "ks.json").string();
       const auto out = (d / "nginx").string();
       require_ok(stekctl({"--at", k_t0, "generate", ks}));
       require_ok(stekctl({"--at", k_t0, "export", ks, "--format", "nginx", "--out", out}));
       require_ok(stekctl({"--at", k_after_due, "rotate", ks}));
       return std::vector<std::string>{"--at", k_after_due, "export", ks, "--format",
                                       "nginx", "--out", out};
     }},
  };
  return all;
}

std::string temporaries_in(const fs::path& dir) {
  std::string found;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.path().filename().string().find(".tmp-") != std::string::npos) {
      found += entry.path().filename().string() + " ";
    }
  }
  return found;
}

} // namespace

TEST_CASE("every writing command fails cleanly at each injected file-system fault") {
  ScratchDir scratch;
  const fs::path base = fs::current_path();
  long injected = 0;
  long intact = 0;
  for (const auto& scenario : scenarios()) {
    const long injected_before = injected;
    const long intact_before = intact;
    const std::string scenario_name = scenario.name;
    CAPTURE(scenario_name);
    // A fresh directory per run, prepared without faults.
    int run = 0;
    const auto fresh = [&] {
      const auto dir = base / ("run-" + std::to_string(++run));
      fs::remove_all(dir);
      fs::create_directories(dir);
      auto args = scenario.prepare(dir);
      return std::pair{dir, args};
    };

    // Count the calls a clean run makes; each is then failed in turn.
    const auto [count_dir, count_args] = fresh();
    const auto before_clean = snapshot(count_dir);
    const auto counts_file = base / "counts";
    const auto clean = stekctl(count_args, with_fault(count_dir, {"STEK_FAULT_COUNTS=" +
                                                                  counts_file.string()}));
    REQUIRE_MESSAGE(clean.code == 0, describe(clean));
    // The clean run must change something, or an intact file proves nothing.
    REQUIRE(snapshot(count_dir) != before_clean);
    const auto counts = read_counts(counts_file);
    for (const char* op : k_ops) {
      // A shim that did not load, or a command that skipped a step, would
      // make the matrix pass vacuously.
      REQUIRE_MESSAGE(counts.contains(op), "no count for " << std::string(op));
      REQUIRE_MESSAGE(counts.at(op) >= 1, scenario_name << " made no " << std::string(op) << " call");
    }
    fs::remove_all(count_dir);

    for (const char* op : k_ops) {
      for (long at = 1; at <= counts.at(op); ++at) {
        for (const int error : k_errnos) {
          const auto [dir, args] = fresh();
          const auto before = snapshot(dir);
          const auto r =
            stekctl(args, with_fault(dir, {std::string("STEK_FAULT_OP=") + op,
                                           "STEK_FAULT_AT=" + std::to_string(at),
                                           "STEK_FAULT_ERRNO=" + std::to_string(error)}));
          ++injected;
          INFO(std::string(op) << " call " << at << " failing with " << std::strerror(error) << ": "
                  << describe(r));
          const bool exited_1 = r.code == 1;
          const bool names_op = std::regex_search(r.err, operation_words(op));
          const bool names_file = r.err.find(dir.string()) != std::string::npos;
          const bool same = snapshot(dir) == before;
          const auto leftovers = temporaries_in(dir);
          CHECK(exited_1);
          CHECK(names_op);
          CHECK(names_file);
          CHECK(same);
          CHECK(leftovers.empty());
          if (exited_1 && names_op && names_file && same && leftovers.empty()) {
            ++intact;
          }
          fs::remove_all(dir);
        }
      }
    }
    // Printed for the CI log (ctest keeps it in LastTest.log).
    std::cout << "fault matrix: " << scenario_name << ": " << injected - injected_before
              << " faults injected, " << intact - intact_before << " left every file intact ("
              << counts.at("open") << " open, " << counts.at("write") << " write, "
              << counts.at("fsync") << " fsync, " << counts.at("rename") << " rename, "
              << counts.at("dirfsync") << " directory fsync calls x 3 errors)\n";
  }
  std::cout << "fault matrix: " << injected << " faults injected, " << intact
            << " left every file intact\n";
  CHECK(injected > 0);
  CHECK(intact == injected);
}

} // namespace stek::test
