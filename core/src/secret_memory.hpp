// SPDX-License-Identifier: Apache-2.0
// Where SecretBytes keeps its bytes: pages marked MADV_DONTDUMP, so that a
// crashing server or stekctl does not write its keys into a core file.
#pragma once

#include <cstddef>
#include <cstdint>

namespace stek::detail {

// Return `size` (at least 1) zeroed bytes of secret memory. Throws
// std::bad_alloc like operator new when the system has no memory left.
std::uint8_t* allocate_secret(std::size_t size);
// Give back memory from allocate_secret(`size`); the caller wiped it.
void release_secret(std::uint8_t* data, std::size_t size) noexcept;

} // namespace stek::detail
