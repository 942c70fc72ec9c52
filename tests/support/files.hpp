// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace stek::test {

// Write `contents` to `path` with `mode`.
inline void write_file(const std::filesystem::path& path,
                       const std::string& contents,
                       mode_t mode = 0600) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << contents;
  }
  ::chmod(path.c_str(), mode);
}

// Return the contents of `path`, or "" if it cannot be read.
inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Return the permission bits of `path`.
inline mode_t file_mode(const std::filesystem::path& path) {
  struct stat st {};
  ::stat(path.c_str(), &st);
  return st.st_mode & 07777;
}

// Return the directory a test's data files live in.
inline std::filesystem::path data_dir() { return STEK_TEST_DATA_DIR; }

} // namespace stek::test
