// SPDX-License-Identifier: Apache-2.0
#include "derived_keys.hpp"

#include <stek/oracle.hpp>

#include <algorithm>

namespace stekctl {

stek::Keystore derived_schedule(const stek::Keystore& derived,
                                stek::Timestamp now) {
  stek::Keystore view;
  view.policy = derived.policy;
  auto epochs = stek::epochs_needed_at(derived.policy, now);
  const stek::Epoch next = stek::epoch_at(derived.policy, now) + 1;
  if (std::find(epochs.begin(), epochs.end(), next) == epochs.end()) {
    epochs.push_back(next);
  }
  for (const stek::Epoch n : epochs) {
    view.keys.push_back(
      stek::epoch_key_public(derived.policy, *derived.derivation, n));
  }
  return view;
}

stek::Result<stek::Keystore>
derive_keys(const stek::Keystore& derived,
            const std::vector<stek::Epoch>& epochs) {
  STEK_TRY_ASSIGN(auto oracle, stek::open_oracle(derived.derivation->oracle));
  return stek::materialize(derived, epochs, *oracle);
}

EpochKeyFetcher::EpochKeyFetcher(const stek::Keystore& derived,
                                 stek::Timestamp now)
  : m_derived(derived), m_now(now) {}

void EpochKeyFetcher::build_index() {
  const auto& policy = m_derived.policy;
  const stek::Epoch last = stek::epoch_at(policy, m_now) + 2;
  const stek::Epoch first =
    std::max(stek::epoch_at(policy, m_now - k_history), last - k_max_indexed);
  for (stek::Epoch n = first; n <= last; ++n) {
    m_index.emplace(stek::epoch_key_id(policy, *m_derived.derivation, n), n);
  }
  m_indexed = true;
}

stek::Result<std::optional<stek::Key>>
EpochKeyFetcher::fetch(const stek::KeyId& id) {
  if (!m_indexed) {
    build_index();
  }
  const auto it = m_index.find(id);
  if (it == m_index.end()) {
    return std::optional<stek::Key>();
  }
  auto key = [&]() -> stek::Result<stek::Key> {
    if (!m_oracle) {
      STEK_TRY_ASSIGN(m_oracle, stek::open_oracle(m_derived.derivation->oracle));
    }
    ++m_calls;
    return stek::derive_epoch_key(m_derived.policy, *m_derived.derivation,
                                  it->second, *m_oracle);
  }();
  if (!key) {
    auto error = std::move(key).error();
    error.message += " (the key of epoch " + std::to_string(it->second) +
                     ", id " + id.hex() + ")";
    m_error = m_error.value_or(error);
    return error;
  }
  return std::optional<stek::Key>(std::move(key).value());
}

Json derivation_json(const stek::Keystore& derived) {
  const auto& d = *derived.derivation;
  Json oracle;
  oracle["type"] = std::string(stek::oracle_type_name(d.oracle));
  if (const auto* p = std::get_if<stek::Pkcs11OracleConfig>(&d.oracle)) {
    oracle["module"] = p->module;
    oracle["token"] = p->token;
    oracle["key"] = p->key;
    oracle["pin_file"] = p->pin_file ? Json(*p->pin_file) : Json(nullptr);
    oracle["pin_env"] = p->pin_env ? Json(*p->pin_env) : Json(nullptr);
  } else {
    const auto& c = std::get<stek::CommandOracleConfig>(d.oracle);
    oracle["command"] = c.command;
    oracle["output"] = std::string(stek::command_output_name(c.output));
    oracle["timeout"] = stek::format_duration(c.timeout);
  }
  return Json{{"fleet", d.fleet},
              {"generation", d.generation},
              {"epoch_length", stek::format_duration(derived.policy.rotate_every)},
              {"oracle", oracle}};
}

std::string oracle_summary(const stek::Derivation& derivation) {
  if (const auto* p = std::get_if<stek::Pkcs11OracleConfig>(&derivation.oracle)) {
    return "pkcs11 oracle (module " + p->module + ", token " + p->token +
           ", key " + p->key + ")";
  }
  return "command oracle (" +
         std::get<stek::CommandOracleConfig>(derivation.oracle).command + ")";
}

} // namespace stekctl
