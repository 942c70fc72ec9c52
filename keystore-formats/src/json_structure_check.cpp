// SPDX-License-Identifier: Apache-2.0
#include "field_name.hpp"
#include "json_structure_check.hpp"

namespace stek::formats::detail {

bool JsonStructureCheck::element() {
  if (!m_stack.empty() && !m_stack.back().is_object) {
    ++m_stack.back().elements;
  }
  return true;
}

std::string JsonStructureCheck::where() const {
  // Inside "keys", name the key the way every other keystore error does.
  if (m_stack.size() >= 3 && m_stack[0].last_field == "keys" &&
      !m_stack[1].is_object) {
    std::string out = "key #" + std::to_string(m_stack[1].elements);
    if (m_stack.size() >= 4) {
      out += ", in " + quoted_field_name(m_stack[2].last_field);
    }
    return out;
  }
  if (m_stack.size() >= 2) {
    return "in " + quoted_field_name(m_stack[0].last_field);
  }
  return "top level";
}

bool JsonStructureCheck::start_object(std::size_t) {
  element();
  m_stack.push_back(Frame{true, {}, {}, 0});
  return true;
}

bool JsonStructureCheck::key(string_t& name) {
  if (!m_stack.empty()) {
    if (!m_stack.back().fields.insert(name).second && !m_duplicate) {
      m_duplicate = where() + ": duplicate field " + quoted_field_name(name);
    }
    m_stack.back().last_field = name;
  }
  return true;
}

bool JsonStructureCheck::end_object() {
  m_stack.pop_back();
  return true;
}

bool JsonStructureCheck::start_array(std::size_t) {
  element();
  m_stack.push_back(Frame{false, {}, {}, 0});
  return true;
}

bool JsonStructureCheck::end_array() {
  m_stack.pop_back();
  return true;
}

bool JsonStructureCheck::parse_error(std::size_t position,
                                     const std::string&,
                                     const nlohmann::detail::exception&) {
  // The token text is deliberately not kept: it may be key material.
  m_error_at = position;
  return false;
}

} // namespace stek::formats::detail
