// SPDX-License-Identifier: Apache-2.0
#include <stek/provider.hpp>

namespace stek {

TicketKey::~TicketKey() { wipe(); }

TicketKey::TicketKey(TicketKey&& other) noexcept
  : id(other.id),
    renew(other.renew),
    has_material(other.has_material),
    m_material(other.m_material),
    m_aes(other.m_aes),
    m_hmac(other.m_hmac) {
  other.wipe();
}

TicketKey& TicketKey::operator=(TicketKey&& other) noexcept {
  if (this != &other) {
    id = other.id;
    renew = other.renew;
    has_material = other.has_material;
    m_material = other.m_material;
    m_aes = other.m_aes;
    m_hmac = other.m_hmac;
    other.wipe();
  }
  return *this;
}

void TicketKey::wipe() {
  cleanse(m_material);
  cleanse(m_aes);
  cleanse(m_hmac);
  has_material = false;
}

} // namespace stek
