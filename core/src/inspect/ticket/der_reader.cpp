// SPDX-License-Identifier: Apache-2.0
#include "der_reader.hpp"

namespace stek::inspect::detail {

Result<Tlv> DerReader::next(std::string_view field) {
  const std::string name(field);
  STEK_ENSURE(m_data.size() >= 2, Errc::parse, name + ": truncated DER header");
  Tlv tlv;
  tlv.tag = m_data[0];
  STEK_ENSURE((tlv.tag & 0x1f) != 0x1f, Errc::parse,
              name + ": multi-byte DER tags are not used here");
  std::size_t pos = 1;
  std::size_t length = m_data[pos++];
  if (length & 0x80) {
    const std::size_t octets = length & 0x7f;
    STEK_ENSURE(octets >= 1 && octets <= 4, Errc::parse,
                name + ": unsupported DER length form");
    STEK_ENSURE(m_data.size() - pos >= octets, Errc::parse,
                name + ": truncated DER length");
    length = 0;
    for (std::size_t i = 0; i < octets; ++i) {
      length = (length << 8) | m_data[pos++];
    }
    // DER: the long form only for 128 and up, without leading zero octets.
    STEK_ENSURE(length >= 0x80 && (length >> (8 * (octets - 1))) != 0,
                Errc::parse, name + ": non-minimal DER length");
  }
  STEK_ENSURE(m_data.size() - pos >= length, Errc::parse,
              name + ": DER length " + std::to_string(length) +
                " runs past the end");
  tlv.content = m_data.subspan(pos, length);
  m_data = m_data.subspan(pos + length);
  return tlv;
}

Result<Tlv> DerReader::expect(std::uint8_t tag, std::string_view field) {
  STEK_ENSURE(!m_data.empty(), Errc::parse,
              std::string(field) + ": missing");
  STEK_ENSURE(m_data[0] == tag, Errc::parse,
              std::string(field) + ": unexpected DER tag");
  return next(field);
}

Result<std::int64_t> der_int64(std::span<const std::uint8_t> content,
                               std::string_view field) {
  const std::string name(field);
  STEK_ENSURE(!content.empty(), Errc::parse, name + ": empty INTEGER");
  STEK_ENSURE(content.size() <= 8, Errc::parse,
              name + ": INTEGER does not fit 64 bits");
  if (content.size() > 1) {
    const bool redundant = (content[0] == 0x00 && (content[1] & 0x80) == 0) ||
                           (content[0] == 0xff && (content[1] & 0x80) != 0);
    STEK_ENSURE(!redundant, Errc::parse, name + ": non-minimal INTEGER");
  }
  // Sign-extend, then shift in the rest as unsigned to avoid overflow.
  std::uint64_t v = (content[0] & 0x80) ? ~std::uint64_t{0} : 0;
  for (const std::uint8_t b : content) {
    v = (v << 8) | b;
  }
  return static_cast<std::int64_t>(v);
}

Result<std::uint64_t> der_uint64(std::span<const std::uint8_t> content,
                                 std::string_view field) {
  const std::string name(field);
  STEK_ENSURE(!content.empty(), Errc::parse, name + ": empty INTEGER");
  STEK_ENSURE((content[0] & 0x80) == 0, Errc::parse,
              name + ": negative INTEGER");
  if (content.size() > 1) {
    STEK_ENSURE(!(content[0] == 0x00 && (content[1] & 0x80) == 0),
                Errc::parse, name + ": non-minimal INTEGER");
  }
  const std::size_t width = content[0] == 0x00 ? content.size() - 1
                                               : content.size();
  STEK_ENSURE(width <= 8, Errc::parse, name + ": INTEGER does not fit 64 bits");
  std::uint64_t v = 0;
  for (const std::uint8_t b : content) {
    v = (v << 8) | b;
  }
  return v;
}

} // namespace stek::inspect::detail
