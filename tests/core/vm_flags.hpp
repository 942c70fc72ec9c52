// SPDX-License-Identifier: Apache-2.0
// Read the kernel's flags for the mapping that holds an address, from
// /proc/self/smaps: "dd" there means the pages are left out of core dumps.
#pragma once

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

namespace stek::test {

// Return the VmFlags of the mapping that holds `address`, or "" if none.
inline std::string vm_flags_of(const void* address) {
  const auto where = reinterpret_cast<std::uintptr_t>(address);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    unsigned long long begin = 0;
    unsigned long long end = 0;
    char dash = 0;
    std::istringstream range(line);
    // A mapping's header line starts "begin-end perms ...".
    if (range >> std::hex >> begin >> dash >> end && dash == '-' &&
        line.find(':') > line.find(' ')) {
      inside = where >= begin && where < end;
    } else if (inside && line.starts_with("VmFlags:")) {
      return line.substr(8);
    }
  }
  return "";
}

inline bool excluded_from_core_dumps(const void* address) {
  return (" " + vm_flags_of(address) + " ").find(" dd ") != std::string::npos;
}

// Return how many mappings the process has.
inline int mapping_count() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  int n = 0;
  while (std::getline(maps, line)) {
    ++n;
  }
  return n;
}

} // namespace stek::test
