// SPDX-License-Identifier: Apache-2.0
#include <stek/provider.hpp>

namespace stek {

TicketKey::~TicketKey() { wipe(); }

TicketKey::TicketKey(TicketKey&& other) noexcept
  : id(other.id),
    renew(other.renew),
    has_material(other.has_material),
    m_secrets(other.m_secrets) {
  other.wipe();
}

TicketKey& TicketKey::operator=(TicketKey&& other) noexcept {
  if (this != &other) {
    id = other.id;
    renew = other.renew;
    has_material = other.has_material;
    m_secrets = other.m_secrets;
    other.wipe();
  }
  return *this;
}

void TicketKey::wipe() {
  cleanse(m_secrets);
  has_material = false;
}

} // namespace stek
