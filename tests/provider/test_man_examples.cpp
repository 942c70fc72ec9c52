// SPDX-License-Identifier: Apache-2.0
// libstek(3) quotes the examples that the build compiles and ctest runs;
// this keeps the page from drifting away from them.
#include "support/files.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace stek::test;

namespace {

// The page's text as scdoc prints it: "\\" in the source is one backslash.
std::string rendered_page() {
  std::string page = read_file(std::filesystem::path(STEK_MAN_DIR) / "libstek.3.scd");
  std::string out;
  for (std::size_t i = 0; i < page.size(); ++i) {
    out += page[i];
    if (page[i] == '\\' && i + 1 < page.size() && page[i + 1] == '\\') {
      ++i;
    }
  }
  return out;
}

// The example from its first #include on, as the page quotes it.
std::string example_body(const std::string& file) {
  const auto text = read_file(std::filesystem::path(STEK_EXAMPLES_DIR) / file);
  const auto start = text.find("#include");
  REQUIRE(start != std::string::npos);
  return text.substr(start);
}

} // namespace

TEST_CASE("libstek(3) quotes the C++ and C examples as they are built") {
  const auto page = rendered_page();
  REQUIRE_FALSE(page.empty());
  for (const char* file : {"ticket_keys.cpp", "ticket_keys.c"}) {
    CAPTURE(file);
    const auto body = example_body(file);
    // Each line of the example appears in the page, in order.
    std::size_t at = 0;
    std::size_t line_start = 0;
    while (line_start < body.size()) {
      auto line_end = body.find('\n', line_start);
      if (line_end == std::string::npos) {
        line_end = body.size();
      }
      const auto line = body.substr(line_start, line_end - line_start);
      if (!line.empty()) {
        const auto found = page.find(line, at);
        CHECK_MESSAGE(found != std::string::npos, "missing or out of order: ", line);
        if (found != std::string::npos) {
          at = found + line.size();
        }
      }
      line_start = line_end + 1;
    }
  }
}
