// SPDX-License-Identifier: Apache-2.0
#include "json_path_tracker.hpp"

namespace stek::formats::detail {

using parse_event_t = nlohmann::json::parse_event_t;

void JsonPathTracker::count_element() {
  if (!m_stack.empty() && !m_stack.back().is_object) {
    ++m_stack.back().elements;
  }
}

std::string JsonPathTracker::where() const {
  // Inside "keys", name the key the way every other keystore error does.
  if (m_stack.size() >= 3 && m_stack[0].last_field == "keys" &&
      !m_stack[1].is_object) {
    std::string out = "key #" + std::to_string(m_stack[1].elements);
    if (m_stack.size() >= 4) {
      out += ", in \"" + m_stack[2].last_field + "\"";
    }
    return out;
  }
  if (m_stack.size() >= 2) {
    return "in \"" + m_stack[0].last_field + "\"";
  }
  return "top level";
}

bool JsonPathTracker::on_event(parse_event_t event, const nlohmann::json& parsed) {
  switch (event) {
  case parse_event_t::object_start:
    count_element();
    m_stack.push_back(Frame{true, {}, {}, 0});
    break;
  case parse_event_t::array_start:
    count_element();
    m_stack.push_back(Frame{false, {}, {}, 0});
    break;
  case parse_event_t::object_end:
  case parse_event_t::array_end:
    if (!m_stack.empty()) {
      m_stack.pop_back();
    }
    break;
  case parse_event_t::key: {
    const auto& name = parsed.get_ref<const std::string&>();
    if (!m_stack.empty()) {
      if (!m_stack.back().fields.insert(name).second && !m_duplicate) {
        m_duplicate = where() + ": duplicate field \"" + name + "\"";
      }
      m_stack.back().last_field = name;
    }
    break;
  }
  case parse_event_t::value:
    count_element();
    break;
  }
  return true;
}

} // namespace stek::formats::detail
