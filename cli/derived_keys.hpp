// SPDX-License-Identifier: Apache-2.0
#pragma once

// How commands see a derived keystore: as the keys of its epochs, public
// ones computed offline for showing, real ones from the oracle only where
// a command needs secrets.
#include "output.hpp"

#include <stek/derived_keystore.hpp>
#include <stek/keystore.hpp>
#include <stek/result.hpp>

#include <map>
#include <memory>
#include <optional>
#include <vector>

namespace stekctl {

// Return the epochs list and generate show at `now`: every epoch a server
// holds then (still decrypting or already published) and the next one to
// start, as keys without secrets.
stek::Keystore derived_schedule(const stek::Keystore& derived,
                                stek::Timestamp now);

// Return the keys of `epochs` from the oracle: one call each.
stek::Result<stek::Keystore> derive_keys(const stek::Keystore& derived,
                                         const std::vector<stek::Epoch>& epochs);

// Finds a derived keystore's epoch keys by the id a ticket names, for
// inspect: the ids of the epochs around `now` are computed offline, and the
// oracle is called only for an epoch a ticket names, once. The first
// oracle failure is kept for the exit status.
class EpochKeyFetcher {
public:
  // How far back inspect recognizes a derived key id: past any ticket
  // lifetime (7 days), and past the captures an incident digs out.
  static constexpr auto k_history = std::chrono::days(400);
  // An upper bound on ids indexed, for very short epochs.
  // 100,000 ids take about 0.3 s to compute: 400 days of 6-minute epochs.
  static constexpr stek::Epoch k_max_indexed = 100'000;

  EpochKeyFetcher(const stek::Keystore& derived, stek::Timestamp now);

  stek::Result<std::optional<stek::Key>> fetch(const stek::KeyId& id);

  const std::optional<stek::Error>& error() const { return m_error; }
  std::size_t oracle_calls() const { return m_calls; }

private:
  void build_index();

  const stek::Keystore& m_derived;
  stek::Timestamp m_now;
  std::map<stek::KeyId, stek::Epoch> m_index;
  bool m_indexed = false;
  std::unique_ptr<stek::MacOracle> m_oracle;
  std::optional<stek::Error> m_error;
  std::size_t m_calls = 0;
};

// Return the public description of the derivation for --json output: fleet,
// generation, epoch length, and the oracle's configuration (never a PIN).
Json derivation_json(const stek::Keystore& derived);

// Return "pkcs11 oracle (module ..., token ..., key ...)" or the like.
std::string oracle_summary(const stek::Derivation& derivation);

} // namespace stekctl
