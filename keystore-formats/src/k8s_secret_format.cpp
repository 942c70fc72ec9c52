// SPDX-License-Identifier: Apache-2.0
// A Kubernetes Secret manifest carrying the keystore itself, or the files of
// another format's export, for a volume mounted at the request's config_dir.
#include "formats.hpp"
#include "openssl_family.hpp"

#include <stek/encoding.hpp>
#include <stek/formats/native_keystore.hpp>

namespace stek::formats::detail {
namespace {

// DNS-1123: lower-case letters, digits, '-' and '.', alphanumeric ends.
bool dns1123(std::string_view name, std::size_t max, bool dots) {
  if (name.empty() || name.size() > max) {
    return false;
  }
  const auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  };
  for (char c : name) {
    if (!alnum(c) && c != '-' && !(dots && c == '.')) {
      return false;
    }
  }
  return alnum(name.front()) && alnum(name.back());
}

Result<Export> payload(const ExportRequest& request) {
  if (request.secret_of == "keystore") {
    STEK_ENSURE(request.binding.is_unbound(), Errc::invalid_argument,
                "--sni does not apply to a Secret carrying the keystore: "
                "servers reading it bind keys to names themselves");
    // A Secret of keys no server can use is a mistake, as for every format.
    // A derived keystore holds none: its servers compute them.
    if (!request.keystore->is_derived()) {
      STEK_TRY(live_keys(request));
    }
    Export out;
    out.files.push_back(
      {"keystore.json", serialize_native_keystore(*request.keystore)});
    for (const Key& key : request.keystore->keys) {
      out.keys.push_back({key.id, "stored"});
    }
    return out;
  }
  STEK_TRY_ASSIGN(const ServerFormat* inner,
                  find_server_format(request.secret_of));
  STEK_ENSURE(inner->name != k_k8s_secret_format.name, Errc::invalid_argument,
              "a Secret cannot carry another Secret");
  STEK_TRY_ASSIGN(auto out, inner->write(request));
  if (inner->shape == ExportShape::file) {
    out.files.front().name = std::string(inner->file_name);
  }
  return out;
}

Result<Export> write_k8s_secret(const ExportRequest& request) {
  STEK_ENSURE(dns1123(request.secret_name, 253, true), Errc::invalid_argument,
              "Secret name \"" + request.secret_name +
                "\" is not a DNS-1123 subdomain");
  STEK_ENSURE(request.secret_namespace.empty() ||
                dns1123(request.secret_namespace, 63, false),
              Errc::invalid_argument,
              "namespace \"" + request.secret_namespace +
                "\" is not a DNS-1123 label");
  STEK_TRY_ASSIGN(auto inner, payload(request));
  SecretBytes yaml;
  yaml.append("# Written by stekctl export: " + request.secret_of +
              " for a volume mounted at " + request.config_dir +
              "\napiVersion: v1\nkind: Secret\nmetadata:\n  name: " +
              request.secret_name + "\n");
  if (!request.secret_namespace.empty()) {
    yaml.append("  namespace: " + request.secret_namespace + "\n");
  }
  yaml.append(std::string_view("type: Opaque\ndata:\n"));
  for (const auto& file : inner.files) {
    yaml.append("  " + file.name + ": ");
    base64_encode_into(file.contents.view(), yaml);
    yaml.append(std::string_view("\n"));
  }
  Export out;
  out.files.push_back({"", std::move(yaml)});
  out.keys = std::move(inner.keys);
  out.warnings = std::move(inner.warnings);
  return out;
}

} // namespace

const ServerFormat k_k8s_secret_format{
  "k8s-secret",
  "Kubernetes Secret manifest with the keystore or another format's files",
  "YAML: data holds each file, base64",
  "that of the format it carries",
  ExportShape::file,
  true,
  "",
  write_k8s_secret,
  nullptr,
};

} // namespace stek::formats::detail
