// SPDX-License-Identifier: Apache-2.0
#pragma once

// A fresh directory per test case, inside the one tests/main.cpp gives each
// test process (which it removes after a success and keeps after a
// failure), so that the cases of one run never see each other's files.

#include <filesystem>
#include <string>

namespace stek::hygiene {

class WorkDir {
public:
  explicit WorkDir(const std::string& name)
    : m_previous(std::filesystem::current_path()),
      m_path(m_previous / ("scan-" + name)) {
    std::filesystem::remove_all(m_path);
    std::filesystem::create_directories(m_path);
    std::filesystem::current_path(m_path);
  }
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  ~WorkDir() {
    std::error_code ec;
    std::filesystem::current_path(m_previous, ec);
  }
  const std::filesystem::path& path() const { return m_path; }

private:
  std::filesystem::path m_previous;
  std::filesystem::path m_path;
};

} // namespace stek::hygiene
