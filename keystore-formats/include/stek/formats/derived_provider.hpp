// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stek/derived_provider.hpp>
#include <stek/file_provider.hpp>
#include <stek/oracle.hpp>

#include <filesystem>
#include <memory>
#include <variant>

namespace stek::formats {

// Open a DerivedProvider on the derived native keystore at `path`
// (stekctl-keystore(5), DERIVED KEYSTORES) through the oracle the file
// names. Refuses, naming the file, a keystore group or others may read
// (unless options.require_private is off: the file names the oracle's
// module or command and where its PIN comes from), one that is not
// derived, and an invalid oracle section. The file is read once: a derived
// keystore changes only when an operator edits it, and then servers are
// restarted.
Result<std::unique_ptr<DerivedProvider>>
open_derived_provider(const std::filesystem::path& path,
                      DerivedProviderOptions options = {});

// The same with `oracle` instead of the one the file names (an oracle of
// one's own, or a test's).
Result<std::unique_ptr<DerivedProvider>>
open_derived_provider(const std::filesystem::path& path,
                      std::unique_ptr<MacOracle> oracle,
                      DerivedProviderOptions options = {});

// What open_provider opened: a FileProvider for a keystore with keys, a
// DerivedProvider for a derived one.
using AnyProvider = std::variant<std::unique_ptr<FileProvider>,
                                 std::unique_ptr<DerivedProvider>>;

// The options of either kind; only the one for the file's kind is used.
struct ProviderOptions {
  FileProviderOptions file;
  DerivedProviderOptions derived;
};

// Open the provider the keystore at `path` calls for, by its content:
// open_derived_provider for a derived keystore, open_file_provider for any
// other (including a file that does not parse: its error is then the
// FileProvider's, permissions first, as before).
Result<AnyProvider> open_provider(const std::filesystem::path& path,
                                  ProviderOptions options = {});

// The Provider of either kind, for use_ticket_provider and the like.
std::shared_ptr<Provider> share_provider(AnyProvider provider);

} // namespace stek::formats
