// SPDX-License-Identifier: Apache-2.0
#include <stek/result.hpp>

namespace stek {

std::string_view errc_name(Errc code) {
  switch (code) {
#define STEK_ERRC_NAME(name, text)                                             \
  case Errc::name:                                                             \
    return #name;
    STEK_ERRC_TABLE(STEK_ERRC_NAME)
#undef STEK_ERRC_NAME
  }
  return "unknown";
}

std::string_view errc_description(Errc code) {
  switch (code) {
#define STEK_ERRC_TEXT(name, text)                                             \
  case Errc::name:                                                             \
    return text;
    STEK_ERRC_TABLE(STEK_ERRC_TEXT)
#undef STEK_ERRC_TEXT
  }
  return "unknown error";
}

} // namespace stek
