// SPDX-License-Identifier: Apache-2.0
#include "output.hpp"

#include <algorithm>

namespace stekctl {

Table::Table(std::vector<std::string> header) {
  m_rows.push_back(std::move(header));
}

void Table::add_row(std::vector<std::string> row) {
  // Cells hold operator text (revocation reasons); a control character would
  // break the alignment or the terminal.
  for (auto& cell : row) {
    for (char& c : cell) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
        c = '?';
      }
    }
  }
  m_rows.push_back(std::move(row));
}

void Table::print(std::ostream& out) const {
  std::vector<std::size_t> widths;
  for (const auto& row : m_rows) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (std::size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  for (const auto& row : m_rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) {
        line.append(widths[i] - row[i].size() + 2, ' ');
      }
    }
    while (!line.empty() && line.back() == ' ') {
      line.pop_back();
    }
    out << line << "\n";
  }
}

void print_json(std::ostream& out, const Json& document) {
  out << document.dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
}

std::string relative_time(stek::Timestamp t, stek::Timestamp now) {
  if (t == now) {
    return "now";
  }
  if (t > now) {
    return "in " + stek::format_duration(t - now);
  }
  return stek::format_duration(now - t) + " ago";
}

std::vector<const stek::Key*> keys_in_schedule_order(
  const stek::Keystore& keystore) {
  std::vector<const stek::Key*> keys;
  for (const auto& key : keystore.keys) {
    keys.push_back(&key);
  }
  std::sort(keys.begin(), keys.end(), [](const stek::Key* a, const stek::Key* b) {
    return stek::encrypts_before(*b, *a);
  });
  return keys;
}

Json key_json(const stek::Key& key, stek::Timestamp now, bool encrypting) {
  Json out;
  out["id"] = key.id.hex();
  out["state"] = std::string(stek::key_state_name(key.state_at(now)));
  out["encrypting"] = encrypting;
  out["created"] = stek::format_time(key.created);
  out["not_before"] = stek::format_time(key.not_before);
  out["encrypt_until"] = stek::format_time(key.encrypt_until);
  out["decrypt_until"] = stek::format_time(key.decrypt_until);
  out["origin"] = key.origin ? Json(*key.origin) : Json(nullptr);
  if (key.revoked) {
    out["revoked"] = Json{{"at", stek::format_time(key.revoked->at)},
                          {"reason", key.revoked->reason}};
  } else {
    out["revoked"] = nullptr;
  }
  if (key.epoch) {
    out["epoch"] = *key.epoch;
  }
  return out;
}

Json keys_json(const stek::Keystore& keystore, stek::Timestamp now) {
  const stek::Key* encrypting = keystore.encrypting_key(now);
  Json keys = Json::array();
  for (const stek::Key* key : keys_in_schedule_order(keystore)) {
    keys.push_back(key_json(*key, now, key == encrypting));
  }
  return keys;
}

Json policy_json(const stek::Policy& policy) {
  return Json{{"rotate_every", stek::format_duration(policy.rotate_every)},
              {"publish_ahead", stek::format_duration(policy.publish_ahead)},
              {"encrypt_for", stek::format_duration(policy.encrypt_for)},
              {"decrypt_for", stek::format_duration(policy.decrypt_for)},
              {"sni_binding", policy.sni_binding}};
}

void print_key_table(std::ostream& out,
                     const stek::Keystore& keystore,
                     stek::Timestamp now) {
  const stek::Key* encrypting = keystore.encrypting_key(now);
  Table table({"ID", "STATE", "ENCRYPTING", "NOT BEFORE", "ENCRYPT UNTIL",
               "DECRYPT UNTIL", "NOTE"});
  for (const stek::Key* key : keys_in_schedule_order(keystore)) {
    std::string note;
    if (key->revoked) {
      note = "revoked " + stek::format_time(key->revoked->at) + ": " +
             key->revoked->reason;
    } else if (key->origin) {
      note = "imported from " + *key->origin;
    } else if (key->epoch) {
      note = "epoch " + std::to_string(*key->epoch);
    }
    table.add_row({key->id.hex(),
                   std::string(stek::key_state_name(key->state_at(now))),
                   key == encrypting ? "yes" : "no",
                   stek::format_time(key->not_before),
                   stek::format_time(key->encrypt_until),
                   stek::format_time(key->decrypt_until), note});
  }
  table.print(out);
}

} // namespace stekctl
