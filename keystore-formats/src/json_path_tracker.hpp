// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace stek::formats::detail {

// Follows nlohmann's parser callback events to find the first object with a
// repeated field, which nlohmann would otherwise resolve silently by keeping
// the last value.
class JsonPathTracker {
public:
  // Feed one parser event; always keeps the value.
  bool on_event(nlohmann::json::parse_event_t event, const nlohmann::json& parsed);

  // The first repeated field, as "<where>: duplicate field \"<name>\"".
  const std::optional<std::string>& duplicate() const { return m_duplicate; }

private:
  struct Frame {
    bool is_object = false;
    std::set<std::string> fields;
    std::string last_field;
    std::size_t elements = 0;
  };

  void count_element();
  std::string where() const;

  std::vector<Frame> m_stack;
  std::optional<std::string> m_duplicate;
};

} // namespace stek::formats::detail
