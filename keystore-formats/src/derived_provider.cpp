// SPDX-License-Identifier: Apache-2.0
#include <stek/formats/derived_provider.hpp>
#include <stek/formats/file_provider.hpp>
#include <stek/formats/native_keystore.hpp>

#include <stek/io.hpp>

namespace stek::formats {
namespace {

// Errors from core do not know the file; name it, as FileProvider does.
Error naming(Error error, const std::filesystem::path& path) {
  const std::string name = path.string();
  if (error.message.find(name) == std::string::npos) {
    error.message += " (" + name + ")";
  }
  return error;
}

Result<Keystore> load_derived(const std::filesystem::path& path,
                              const DerivedProviderOptions& options) {
  if (options.require_private) {
    STEK_TRY(check_private_for_server(path));
  }
  STEK_TRY_ASSIGN(auto keystore, load_native_keystore(path));
  STEK_ENSURE(keystore.is_derived(), Errc::invalid_argument,
              "not a derived keystore: it has no \"derived\" section; serve "
              "it with a FileProvider (" + path.string() + ")");
  return keystore;
}

Result<std::unique_ptr<DerivedProvider>>
start(Keystore keystore,
      std::unique_ptr<MacOracle> oracle,
      DerivedProviderOptions options,
      const std::filesystem::path& path) {
  auto opened = DerivedProvider::open(std::move(keystore), std::move(oracle),
                                      std::move(options));
  if (!opened) {
    return naming(std::move(opened).error(), path);
  }
  return opened;
}

} // namespace

Result<std::unique_ptr<DerivedProvider>>
open_derived_provider(const std::filesystem::path& path,
                      DerivedProviderOptions options) {
  STEK_TRY_ASSIGN(auto keystore, load_derived(path, options));
  auto oracle = open_oracle(keystore.derivation->oracle);
  if (!oracle) {
    return naming(std::move(oracle).error(), path);
  }
  return start(std::move(keystore), std::move(*oracle), std::move(options),
               path);
}

Result<std::unique_ptr<DerivedProvider>>
open_derived_provider(const std::filesystem::path& path,
                      std::unique_ptr<MacOracle> oracle,
                      DerivedProviderOptions options) {
  STEK_TRY_ASSIGN(auto keystore, load_derived(path, options));
  return start(std::move(keystore), std::move(oracle), std::move(options),
               path);
}

Result<AnyProvider> open_provider(const std::filesystem::path& path,
                                  ProviderOptions options) {
  auto keystore = load_native_keystore(path);
  if (keystore && keystore->is_derived()) {
    STEK_TRY_ASSIGN(auto derived,
                    open_derived_provider(path, std::move(options.derived)));
    return AnyProvider(std::move(derived));
  }
  STEK_TRY_ASSIGN(auto file, open_file_provider(path, std::move(options.file)));
  return AnyProvider(std::move(file));
}

std::shared_ptr<Provider> share_provider(AnyProvider provider) {
  return std::visit(
    [](auto& held) -> std::shared_ptr<Provider> { return std::move(held); },
    provider);
}

} // namespace stek::formats
