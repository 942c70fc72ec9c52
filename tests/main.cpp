// SPDX-License-Identifier: Apache-2.0
// The doctest main of every test binary. Like ccache's test main, each run
// works in its own directory, testdir/<pid> under the build's test folder,
// and keeps it when a test fails so the files can be inspected.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  const fs::path dir =
    fs::absolute("testdir") / std::to_string(static_cast<long>(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::current_path(dir);

  doctest::Context context;
  context.applyCommandLine(argc, argv);
  const int result = context.run();

  fs::current_path(dir.parent_path());
  if (result == 0 && !context.shouldExit()) {
    std::error_code ec;
    fs::remove_all(dir, ec);
  } else if (result != 0) {
    std::cerr << "test files kept in " << dir << "\n";
  } else {
    fs::remove_all(dir);
  }
  return result;
}
