// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stek/formats/server_format.hpp>
#include <stek/result.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace stekctl {

// What writing an export changed on disk.
struct ExportWrite {
  std::vector<std::string> written;
  std::vector<std::string> removed;
  bool changed() const { return !written.empty() || !removed.empty(); }
};

// Write a file-shaped export to `path`, unless it already holds these
// bytes.
stek::Result<ExportWrite> write_export_file(const std::filesystem::path& path,
                                            const stek::formats::FormatFile& file);

// Write a directory-shaped export into `dir` (created 0700 if missing):
// leftovers of an interrupted export removed, every file atomically and
// only if changed, key files before the snippets
// that name them, then remove key files (<32 hex>.key) of keys no longer
// exported, so a server never reads a half-new set.
stek::Result<ExportWrite> write_export_directory(
  const std::filesystem::path& dir,
  const std::vector<stek::formats::FormatFile>& files);

} // namespace stekctl
