// SPDX-License-Identifier: Apache-2.0
#pragma once

// The --derive half of generate: a keystore that holds an oracle's
// configuration instead of keys.
#include "commands/generate.hpp"

#include <stek/keystore.hpp>

#include <array>
#include <string_view>

namespace stekctl {

// How --oracle-command may print its MAC (--oracle-output).
inline constexpr std::array<std::string_view, 3> k_oracle_outputs{"base64", "hex",
                                                                  "binary"};

// Add --derive and the oracle options to `cmd`.
void add_derive_options(CLI::App& cmd, GenerateOptions& o);

// Return the derived keystore the options describe, under `policy`; with
// the oracle checked by one call unless --no-oracle-check. Errors name the
// option, or the oracle.
stek::Result<stek::Keystore> make_derived_keystore(const GenerateOptions& o,
                                                   const stek::Policy& policy,
                                                   Context& ctx);

// Print what generate --derive created.
void report_derived_created(const GenerateOptions& o,
                            const stek::Keystore& keystore,
                            Context& ctx);

} // namespace stekctl
