// SPDX-License-Identifier: Apache-2.0
// Every importable server format's reader on any bytes, and
// import -> export -> import in the same format.
//
// Input: the first byte picks the format, as an index modulo the number of
// formats the registry can read (so a new format is fuzzed without a change
// here); the rest is the file. Directory formats (nginx, nginx48, Envoy)
// import one key file per path given; for them the first byte divided by
// the number of formats, modulo 4, plus 1, is the number of files, and the
// rest is cut into that many nearly equal parts, in order.
//
// What import(export(import(x))) must keep, and what it may lose:
// - kept: the set of keys (id and secret bytes), which key encrypts, and
//   that every key came from this format;
// - lost, legitimately: the order of the keys that only decrypt. stekctl
//   import gives them all the same times, and exports list decrypt-only
//   keys newest first with ties broken by id, so they come back in id
//   order. HAProxy may also swap its "previous" and "next" slots for the
//   same reason, and keeps only its last three lines (a warning says so);
//   s2n-tls intro times become the keystore's, relative to now.
// Export itself is deterministic, so exporting the second import again
// gives the first export's bytes.
#include <stek/formats/server_format.hpp>

#include <stek/keystore.hpp>
#include <stek/secret.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace {

using stek::formats::ExportShape;
using stek::formats::FormatFile;
using stek::formats::ServerFormat;
using stek::formats::ServerKey;
using stek::formats::ServerKeys;

// 2026-11-28T15:00:00Z: any fixed instant will do; s2n-tls files are read
// relative to it.
const stek::Timestamp k_now{std::chrono::seconds(1795878000)};

[[noreturn]] void fail(const ServerFormat& format, const std::string& what) {
  std::fprintf(stderr, "import_formats (%.*s): %s\n",
               static_cast<int>(format.name.size()), format.name.data(),
               what.c_str());
  std::abort();
}

std::vector<const ServerFormat*> importable_formats() {
  std::vector<const ServerFormat*> out;
  for (const ServerFormat& format : stek::formats::server_formats()) {
    if (format.read != nullptr) {
      out.push_back(&format);
    }
  }
  return out;
}

std::vector<FormatFile> split_files(std::span<const std::uint8_t> rest,
                                    std::size_t count) {
  std::vector<FormatFile> files;
  const std::size_t part = rest.size() / count;
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t length = i + 1 == count ? rest.size() - part * i : part;
    files.push_back({"fuzz-" + std::to_string(i + 1) + ".key",
                     stek::SecretBytes::copy_of(rest.subspan(part * i, length))});
  }
  return files;
}

bool same_secret(const std::variant<stek::Material, stek::ImportedKeys>& a,
                 const std::variant<stek::Material, stek::ImportedKeys>& b) {
  if (a.index() != b.index()) {
    return false;
  }
  const auto equal = [](const stek::SecretBytes& x, const stek::SecretBytes& y) {
    return x.size() == y.size() && stek::ct_equal(x.view(), y.view());
  };
  if (const auto* ma = std::get_if<stek::Material>(&a)) {
    return equal(ma->bytes, std::get<stek::Material>(b).bytes);
  }
  const auto& ia = std::get<stek::ImportedKeys>(a);
  const auto& ib = std::get<stek::ImportedKeys>(b);
  return equal(ia.aes, ib.aes) && equal(ia.hmac, ib.hmac);
}

// What every successful read must look like, whatever the bytes.
void check_read(const ServerFormat& format, const ServerKeys& read) {
  if (read.keys.empty()) {
    fail(format, "read succeeded with no keys");
  }
  const auto encrypting = std::count_if(
    read.keys.begin(), read.keys.end(),
    [](const ServerKey& key) { return key.encrypting; });
  if (encrypting != 1) {
    fail(format, "read " + std::to_string(encrypting) + " encrypting keys");
  }
  for (const ServerKey& key : read.keys) {
    if (key.origin != format.name) {
      fail(format, "key origin is \"" + key.origin + "\"");
    }
  }
}

// The keystore `stekctl import` builds from `read` into an empty keystore
// (run_import and keystore_key in cli/commands/import.cpp), or nothing
// where import refuses the keys.
std::optional<stek::Keystore> as_keystore(ServerKeys& read) {
  std::set<stek::KeyId> seen;
  stek::Keystore keystore;
  for (ServerKey& server_key : read.keys) {
    if (!seen.insert(server_key.id).second) {
      return std::nullopt; // "key ... is given twice"
    }
    stek::Key key;
    key.id = server_key.id;
    key.created = k_now;
    key.not_before = k_now;
    key.encrypt_until =
      server_key.encrypting ? k_now + keystore.policy.encrypt_for : k_now;
    key.decrypt_until = key.encrypt_until + keystore.policy.decrypt_for;
    key.secret = std::move(server_key.secret);
    key.origin = server_key.origin;
    keystore.keys.push_back(std::move(key));
  }
  // Zero or repeated secrets: the import's commit refuses the keystore.
  if (!keystore.validate().ok()) {
    return std::nullopt;
  }
  return keystore;
}

stek::formats::Export export_as(const ServerFormat& format,
                                const stek::Keystore& keystore) {
  stek::formats::ExportRequest request;
  request.keystore = &keystore;
  request.now = k_now;
  request.config_dir = "/etc/stek";
  auto exported = format.write(request);
  if (!exported.ok()) {
    fail(format, "cannot export an imported keystore: " + exported.error().message);
  }
  return std::move(exported).value();
}

// The files of `exported` that an import of this format reads back: every
// key file of a directory export (not the configuration snippets), or the
// one file.
std::vector<FormatFile> import_files(const ServerFormat& format,
                                     const stek::formats::Export& exported) {
  std::vector<FormatFile> files;
  for (const FormatFile& file : exported.files) {
    if (format.shape == ExportShape::file ||
        std::string_view(file.name).ends_with(".key")) {
      files.push_back({file.name, file.contents.clone()});
    }
  }
  return files;
}

void check_same_keys(const ServerFormat& format,
                     const stek::Keystore& keystore,
                     const ServerKeys& again) {
  check_read(format, again);
  if (again.keys.size() != keystore.keys.size()) {
    fail(format, "key count changed from " +
                   std::to_string(keystore.keys.size()) + " to " +
                   std::to_string(again.keys.size()));
  }
  const stek::Key* encrypting = keystore.encrypting_key(k_now);
  if (encrypting == nullptr) {
    fail(format, "imported keystore has no encrypting key");
  }
  for (const ServerKey& key : again.keys) {
    const stek::Key* original = keystore.find(key.id);
    if (original == nullptr) {
      fail(format, "key " + key.id.hex() + " appeared");
    }
    if (!same_secret(original->secret, key.secret)) {
      fail(format, "key " + key.id.hex() + " changed its secret");
    }
    if (key.encrypting != (original == encrypting)) {
      fail(format, "key " + key.id.hex() + " changed its role");
    }
  }
}

void check_export_lists_keys(const ServerFormat& format,
                             const stek::Keystore& keystore,
                             const stek::formats::Export& exported) {
  const stek::Key* encrypting = keystore.encrypting_key(k_now);
  std::set<stek::KeyId> listed;
  std::size_t encrypts = 0;
  for (const auto& key : exported.keys) {
    if (keystore.find(key.id) == nullptr) {
      fail(format, "export lists unknown key " + key.id.hex());
    }
    // HAProxy may also list the encrypting key in its other slots, under
    // their roles; only the encrypting key may be listed as encrypting.
    if (key.role == "encrypts") {
      ++encrypts;
      if (key.id != encrypting->id) {
        fail(format, "export lists key " + key.id.hex() + " as encrypting");
      }
    }
    listed.insert(key.id);
  }
  if (encrypts != 1) {
    fail(format, "export lists " + std::to_string(encrypts) + " encrypting keys");
  }
  if (listed.size() != keystore.keys.size()) {
    fail(format, "export lists " + std::to_string(listed.size()) + " of " +
                   std::to_string(keystore.keys.size()) + " keys");
  }
}

bool same_files(const stek::formats::Export& a, const stek::formats::Export& b) {
  if (a.files.size() != b.files.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.files.size(); ++i) {
    const auto& fa = a.files[i];
    const auto& fb = b.files[i];
    if (fa.name != fb.name || fa.contents.size() != fb.contents.size() ||
        !stek::ct_equal(fa.contents.view(), fb.contents.view())) {
      return false;
    }
  }
  return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<const ServerFormat*> formats = importable_formats();
  if (size == 0 || formats.empty()) {
    return 0;
  }
  const ServerFormat& format = *formats[data[0] % formats.size()];
  const std::span<const std::uint8_t> rest(data + 1, size - 1);
  const std::size_t file_count = format.shape == ExportShape::directory
                                   ? data[0] / formats.size() % 4 + 1
                                   : 1;
  const std::vector<FormatFile> files = split_files(rest, file_count);

  auto read = format.read(files, k_now);
  if (!read.ok()) {
    if (read.error().message.empty()) {
      fail(format, "error without a message");
    }
    return 0;
  }
  check_read(format, *read);

  auto keystore = as_keystore(*read);
  if (!keystore) {
    return 0;
  }
  const auto exported = export_as(format, *keystore);
  check_export_lists_keys(format, *keystore, exported);
  const auto exported_files = import_files(format, exported);
  auto again = format.read(exported_files, k_now);
  if (!again.ok()) {
    fail(format, "cannot import its own export: " + again.error().message);
  }
  check_same_keys(format, *keystore, *again);

  auto keystore_again = as_keystore(*again);
  if (!keystore_again) {
    fail(format, "second import refused");
  }
  if (!same_files(exported, export_as(format, *keystore_again))) {
    fail(format, "exporting the second import gives different files");
  }
  return 0;
}
