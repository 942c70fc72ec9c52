// SPDX-License-Identifier: Apache-2.0
// The format descriptions, one per file, that registry.cpp lists.
#pragma once

#include <stek/formats/server_format.hpp>

namespace stek::formats::detail {

extern const ServerFormat k_nginx_format;
extern const ServerFormat k_nginx48_format;
extern const ServerFormat k_haproxy_format;
extern const ServerFormat k_haproxy48_format;
extern const ServerFormat k_apache_format;
extern const ServerFormat k_openssl_format;
extern const ServerFormat k_envoy_format;
extern const ServerFormat k_go_format;
extern const ServerFormat k_s2n_format;
extern const ServerFormat k_k8s_secret_format;

} // namespace stek::formats::detail
