// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stek/file_provider.hpp>

namespace stek::formats {

// Open a FileProvider on the native keystore at `path`
// (stekctl-keystore(5)); `options.parser` is filled in if empty.
Result<std::unique_ptr<FileProvider>>
open_file_provider(std::filesystem::path path, FileProviderOptions options = {});

} // namespace stek::formats
