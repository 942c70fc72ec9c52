// SPDX-License-Identifier: Apache-2.0
// Internal: OpenSSL's error queue as text, for messages of the library's own
// crypto wrappers (core) and of the inspect library's.
#pragma once
#include <string>
#include <string_view>

namespace stek::detail {

// Return `what`, followed by every entry of OpenSSL's error queue, which is
// drained.
std::string openssl_errors(std::string_view what);

} // namespace stek::detail
