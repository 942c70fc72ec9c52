// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace stek::formats::detail {

// A SAX pass over a JSON text that builds nothing: it finds the first syntax
// error (by byte offset only) and the first object with a repeated field,
// which nlohmann's DOM parser would resolve silently by keeping the last
// value. It costs one linear scan; nlohmann's callback parser, which could
// see the same events, rescans each container after every object.
class JsonStructureCheck final : public nlohmann::json_sax<nlohmann::json> {
public:
  // The byte offset of the first syntax error, if any.
  const std::optional<std::size_t>& syntax_error_at() const { return m_error_at; }
  // The first repeated field, as "<where>: duplicate field \"<name>\"".
  const std::optional<std::string>& duplicate() const { return m_duplicate; }

  bool null() override { return element(); }
  bool boolean(bool) override { return element(); }
  bool number_integer(number_integer_t) override { return element(); }
  bool number_unsigned(number_unsigned_t) override { return element(); }
  bool number_float(number_float_t, const string_t&) override { return element(); }
  bool string(string_t&) override { return element(); }
  bool binary(binary_t&) override { return element(); }
  bool start_object(std::size_t) override;
  bool key(string_t& name) override;
  bool end_object() override;
  bool start_array(std::size_t) override;
  bool end_array() override;
  bool parse_error(std::size_t position,
                   const std::string&,
                   const nlohmann::detail::exception&) override;

private:
  struct Frame {
    bool is_object = false;
    std::set<std::string> fields;
    std::string last_field;
    std::size_t elements = 0;
  };

  // Count a value that is an element of the enclosing array, if any.
  bool element();
  std::string where() const;

  std::vector<Frame> m_stack;
  std::optional<std::size_t> m_error_at;
  std::optional<std::string> m_duplicate;
};

} // namespace stek::formats::detail
