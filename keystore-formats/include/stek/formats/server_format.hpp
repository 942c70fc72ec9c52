// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stek/derive.hpp>
#include <stek/keystore.hpp>
#include <stek/result.hpp>
#include <stek/secret.hpp>
#include <stek/time.hpp>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace stek::formats {

// One file of an export, or one input file of an import.
struct FormatFile {
  // For a directory export, the file name inside it; for an import, the path
  // as given (for messages).
  std::string name;
  SecretBytes contents;
};

// What an export needs to know besides the keys.
struct ExportRequest {
  const Keystore* keystore = nullptr;
  Timestamp now;
  // Unbound, or the server name of --sni.
  Binding binding = Binding::unbound();
  // The directory that configuration snippets name the key files in (nginx,
  // Envoy), and the mount path of a Kubernetes Secret.
  std::string config_dir;
  // k8s-secret only: the format whose files the Secret carries ("keystore"
  // for the keystore itself), the Secret's name and namespace.
  std::string secret_of = "keystore";
  std::string secret_name = "stek-keys";
  std::string secret_namespace;
};

// A key in an export, with the part it plays for that server.
struct ExportedKey {
  KeyId id;
  // E.g. "encrypts", "decrypts", "next" (HAProxy's last line).
  std::string role;
};

struct Export {
  // Exactly one file for file-shaped formats.
  std::vector<FormatFile> files;
  // The keys written, in the server's order.
  std::vector<ExportedKey> keys;
  // What the server cannot express and was therefore left out or changed.
  std::vector<std::string> warnings;
};

// A key read from a server's own files, in that server's order.
struct ServerKey {
  KeyId id;
  std::variant<Material, ImportedKeys> secret;
  // The format it was read from.
  std::string origin;
  // Whether that server encrypts new tickets with it.
  bool encrypting = false;
};

// What an import read: the keys, and what it ignored.
struct ServerKeys {
  std::vector<ServerKey> keys;
  std::vector<std::string> warnings;
};

enum class ExportShape {
  file,      // one file (or stdout, for text formats)
  directory, // one file per key plus configuration snippets
};

// One server's key format: its name, what it looks like, and how that
// server picks the key it encrypts with.
struct ServerFormat {
  std::string_view name;
  std::string_view summary;
  std::string_view layout;
  std::string_view encrypting_rule;
  ExportShape shape;
  // Whether the export is text and may go to standard output.
  bool text;
  // The file name a file-shaped export gets inside a Kubernetes Secret.
  std::string_view file_name;
  Result<Export> (*write)(const ExportRequest& request);
  // Null for formats that cannot be imported. `now` tells keys already
  // introduced from future ones where the files carry times (s2n-tls).
  Result<ServerKeys> (*read)(std::span<const FormatFile> files, Timestamp now);
};

// Return every format, in the order help lists them.
std::span<const ServerFormat> server_formats();
// Return the format called `name`, or Errc::unsupported naming the known
// ones.
Result<const ServerFormat*> find_server_format(std::string_view name);

} // namespace stek::formats
