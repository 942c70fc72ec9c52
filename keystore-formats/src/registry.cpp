// SPDX-License-Identifier: Apache-2.0
// The one table of server formats.
#include <stek/formats/server_format.hpp>

#include "formats.hpp"

#include <array>
#include <functional>

namespace stek::formats {
namespace {

const std::array<std::reference_wrapper<const ServerFormat>, 10> k_formats{
  detail::k_nginx_format,   detail::k_nginx48_format,
  detail::k_haproxy_format, detail::k_haproxy48_format,
  detail::k_apache_format,  detail::k_openssl_format,
  detail::k_envoy_format,   detail::k_go_format,
  detail::k_s2n_format,     detail::k_k8s_secret_format,
};

std::vector<ServerFormat> copy_table() {
  std::vector<ServerFormat> out;
  for (const ServerFormat& f : k_formats) {
    out.push_back(f);
  }
  return out;
}

} // namespace

std::span<const ServerFormat> server_formats() {
  // Copied once: the definitions live in one file per format.
  static const std::vector<ServerFormat> table = copy_table();
  return table;
}

Result<const ServerFormat*> find_server_format(std::string_view name) {
  std::string known;
  for (const ServerFormat& f : server_formats()) {
    if (f.name == name) {
      return &f;
    }
    known += (known.empty() ? "" : ", ") + std::string(f.name);
  }
  return fail(Errc::unsupported, "unknown format \"" + std::string(name) +
                                        "\" (known: " + known + ")");
}

} // namespace stek::formats
