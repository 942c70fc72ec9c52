// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stek/keystore.hpp>
#include <stek/time.hpp>

#include <nlohmann/json.hpp>

#include <ostream>
#include <string>
#include <vector>

namespace stekctl {

using Json = nlohmann::ordered_json;

// A left-aligned text table; columns are as wide as their widest cell.
class Table {
public:
  explicit Table(std::vector<std::string> header);
  void add_row(std::vector<std::string> row);
  void print(std::ostream& out) const;

private:
  std::vector<std::vector<std::string>> m_rows;
};

// Print `document` as indented JSON and a newline.
void print_json(std::ostream& out, const Json& document);

// Say how far `t` is from `now`: "in 10h59m", "3h ago" or "now".
std::string relative_time(stek::Timestamp t, stek::Timestamp now);

// Return the keys of `keystore` in schedule order (not_before, then created,
// then id), the order list and generate show them in.
std::vector<const stek::Key*> keys_in_schedule_order(const stek::Keystore& keystore);

// Return the public facts of `key` at `now`, with the fields of the list
// contract: id, state, encrypting, created, not_before, encrypt_until,
// decrypt_until, origin, revoked. Never a secret.
Json key_json(const stek::Key& key, stek::Timestamp now, bool encrypting);

// Return the keys of `keystore` as a JSON array of key_json objects, in
// schedule order, marking the one that encrypts at `now`.
Json keys_json(const stek::Keystore& keystore, stek::Timestamp now);

// Return the policy as JSON with durations in their keystore spelling.
Json policy_json(const stek::Policy& policy);

// Print the aligned key table of `keystore` at `now`.
void print_key_table(std::ostream& out,
                     const stek::Keystore& keystore,
                     stek::Timestamp now);

} // namespace stekctl
