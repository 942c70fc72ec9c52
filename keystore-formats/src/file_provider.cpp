// SPDX-License-Identifier: Apache-2.0
#include <stek/formats/file_provider.hpp>
#include <stek/formats/native_keystore.hpp>

namespace stek::formats {

Result<std::unique_ptr<FileProvider>>
open_file_provider(std::filesystem::path path, FileProviderOptions options) {
  if (!options.parser) {
    options.parser = &parse_native_keystore;
  }
  return FileProvider::open(std::move(path), std::move(options));
}

} // namespace stek::formats
