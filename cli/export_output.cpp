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

// Return the key files in `dir` that are not in `keep`.
stek::Result<std::vector<std::filesystem::path>> stale_key_files(
  const std::filesystem::path& dir, const std::set<std::string>& keep) {
  std::vector<std::filesystem::path> stale;
  std::error_code ec;
  std::filesystem::directory_iterator entries(dir, ec);
  STEK_ENSURE(!ec, stek::Errc::io,
              "open directory failed: " + ec.message() + " (" + dir.string() + ")");
  for (; entries != std::filesystem::directory_iterator(); entries.increment(ec)) {
    const auto name = entries->path().filename().string();
    if (is_key_file_name(name) && !keep.contains(name)) {
      stale.push_back(entries->path());
    }
  }
  STEK_ENSURE(!ec, stek::Errc::io,
              "read directory failed: " + ec.message() + " (" + dir.string() + ")");
  return stale;
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
    STEK_TRY(stek::remove_stale_temporaries(dir / file.name));
  }
  // List the stale key files before writing anything: a directory that
  // cannot be read then fails the export while every file is as it was.
  std::set<std::string> keep;
  for (const auto& file : files) {
    keep.insert(file.name);
  }
  STEK_TRY_ASSIGN(const auto stale, stale_key_files(dir, keep));
  // Key files first: the snippets that name them must never point at a
  // file that is not there yet.
  auto ordered = std::vector<const stek::formats::FormatFile*>();
  for (const auto& file : files) {
    ordered.push_back(&file);
  }
  std::stable_partition(ordered.begin(), ordered.end(), [](const auto* f) {
    return is_key_file_name(f->name);
  });
  // Key files this run adds; a later failure removes them again, so that a
  // failed export leaves the directory as it found it.
  std::vector<std::filesystem::path> created;
  for (const auto* file : ordered) {
    const auto path = dir / file->name;
    std::error_code ec;
    const bool existed = std::filesystem::exists(path, ec);
    auto wrote = stek::write_if_changed(path, file->contents.view());
    if (!wrote.ok()) {
      for (const auto& added : created) {
        std::filesystem::remove(added, ec);
      }
      return std::move(wrote).error();
    }
    if (*wrote) {
      out.written.push_back(path.string());
      if (!existed) {
        created.push_back(path);
      }
    }
  }
  for (const auto& path : stale) {
    std::error_code ec;
    if (!std::filesystem::remove(path, ec) && ec) {
      return stek::fail(stek::Errc::io, "remove failed: " + ec.message() +
                                          " (" + path.string() + ")");
    }
    out.removed.push_back(path.string());
  }
  return out;
}

} // namespace stekctl
