// SPDX-License-Identifier: Apache-2.0
#include "export_output.hpp"

#include <stek/io.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

namespace stekctl {
namespace {

bool is_key_file_name(const std::string& name) {
  return name.size() == 36 && name.ends_with(".key") &&
         name.find_first_not_of("0123456789abcdef") == 32;
}

stek::Result<void> ensure_directory(const std::filesystem::path& dir) {
  if (::mkdir(dir.c_str(), 0700) == 0) {
    return {};
  }
  const int error = errno;
  struct stat st {};
  if (error == EEXIST && ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return {};
  }
  return stek::fail(error == EEXIST ? stek::Errc::already_exists
                                    : stek::Errc::io,
                    error == EEXIST
                      ? "exists and is not a directory (" + dir.string() + ")"
                      : std::string("create directory failed: ") +
                          std::strerror(error) + " (" + dir.string() + ")");
}

} // namespace

stek::Result<ExportWrite> write_export_file(const std::filesystem::path& path,
                                            const stek::formats::FormatFile& file) {
  ExportWrite out;
  STEK_TRY_ASSIGN(const bool wrote,
                  stek::write_if_changed(path, file.contents.view()));
  if (wrote) {
    out.written.push_back(path.string());
  }
  return out;
}

stek::Result<ExportWrite> write_export_directory(
  const std::filesystem::path& dir,
  const std::vector<stek::formats::FormatFile>& files) {
  STEK_TRY(ensure_directory(dir));
  ExportWrite out;
  for (const auto& file : files) {
    stek::remove_stale_temporaries(dir / file.name);
  }
  std::set<std::string> keep;
  // Key files first: the snippets that name them must never point at a
  // file that is not there yet.
  auto ordered = std::vector<const stek::formats::FormatFile*>();
  for (const auto& file : files) {
    ordered.push_back(&file);
  }
  std::stable_partition(ordered.begin(), ordered.end(), [](const auto* f) {
    return is_key_file_name(f->name);
  });
  for (const auto* file : ordered) {
    keep.insert(file->name);
    STEK_TRY_ASSIGN(const bool wrote,
                    stek::write_if_changed(dir / file->name, file->contents.view()));
    if (wrote) {
      out.written.push_back((dir / file->name).string());
    }
  }
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const auto name = entry.path().filename().string();
    if (is_key_file_name(name) && !keep.contains(name)) {
      if (!std::filesystem::remove(entry.path(), ec) && ec) {
        return stek::fail(stek::Errc::io, "remove failed: " + ec.message() +
                                            " (" + entry.path().string() + ")");
      }
      out.removed.push_back(entry.path().string());
    }
  }
  STEK_ENSURE(!ec, stek::Errc::io,
              "read directory failed: " + ec.message() + " (" + dir.string() + ")");
  return out;
}

} // namespace stekctl
