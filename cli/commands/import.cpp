// SPDX-License-Identifier: Apache-2.0
#include "import.hpp"

#include "../keystore_access.hpp"
#include "../output.hpp"

#include <stek/formats/server_format.hpp>
#include <stek/io.hpp>

#include <memory>
#include <set>

namespace stekctl {
namespace {

// Server key files are small; a bigger one is the wrong file.
constexpr std::size_t k_max_key_file_size = 1u << 20;
// Every file is held until all are parsed, so their total is bounded too:
// thousands of files on one command line must not add up to gigabytes.
constexpr std::size_t k_max_key_files_total = 16u << 20;

stek::Result<std::vector<stek::formats::FormatFile>> read_inputs(
  const std::vector<std::string>& paths) {
  std::vector<stek::formats::FormatFile> files;
  std::size_t total = 0;
  for (const auto& path : paths) {
    STEK_TRY_ASSIGN(auto bytes,
                    stek::read_secret_file(path, k_max_key_file_size));
    total += bytes.size();
    STEK_ENSURE(total <= k_max_key_files_total, stek::Errc::io,
                "key files together are larger than the limit of " +
                  std::to_string(k_max_key_files_total) + " bytes (" + path +
                  ")");
    files.push_back({path, std::move(bytes)});
  }
  return files;
}

// Open the keystore for the import, creating it with the default policy if
// there is none yet.
stek::Result<KeystoreUpdate> open_keystore(const ImportOptions& o,
                                           const Context& ctx,
                                           bool& created) {
  std::error_code ec;
  created = !std::filesystem::exists(o.keystore, ec);
  if (!created) {
    return KeystoreUpdate::begin(o.keystore, ctx);
  }
  STEK_TRY_ASSIGN(auto update, KeystoreUpdate::begin_create(o.keystore));
  update.keystore() = stek::Keystore{};
  return update;
}

// Turn a server's key into a keystore key: the one it encrypted with keeps
// encrypting for a whole window, the others decrypt for decrypt_for, so
// every ticket that server issued keeps resuming.
stek::Key keystore_key(stek::formats::ServerKey&& server_key,
                       const stek::Policy& policy,
                       stek::Timestamp now) {
  stek::Key key;
  key.id = server_key.id;
  key.created = now;
  key.not_before = now;
  key.encrypt_until = server_key.encrypting ? now + policy.encrypt_for : now;
  key.decrypt_until = key.encrypt_until + policy.decrypt_for;
  key.secret = std::move(server_key.secret);
  key.origin = std::move(server_key.origin);
  return key;
}

} // namespace

void register_import(CLI::App& app, Dispatch& dispatch) {
  auto o = std::make_shared<ImportOptions>();
  auto* cmd = app.add_subcommand(
    "import", "Bring a server's existing keys under management, bytes intact");
  cmd->add_option("KEYSTORE", o->keystore,
                  "Keystore file (created with the default policy if missing)")
    ->required();
  cmd->add_option("--format", o->format,
                  "nginx, nginx48, haproxy, haproxy48, apache, openssl, envoy, "
                  "go or s2n")
    ->required()
    ->type_name("FMT");
  cmd->add_option("FILE", o->files,
                  "The server's key files, in the server's order")
    ->required();
  cmd->callback([o, &dispatch] {
    dispatch.set([o](Context& ctx) { return run_import(*o, ctx); });
  });
}

stek::Result<void> run_import(const ImportOptions& o, Context& ctx) {
  STEK_TRY_ASSIGN(const auto* format,
                  stek::formats::find_server_format(o.format));
  STEK_ENSURE(format->read != nullptr, stek::Errc::invalid_argument,
              o.format + " is an export format only and cannot be imported");
  STEK_TRY_ASSIGN(const auto files, read_inputs(o.files));
  STEK_TRY_ASSIGN(auto server, format->read(files, ctx.now));
  // Checked before the keystore is touched: a bad input creates nothing.
  std::set<stek::KeyId> seen;
  for (const auto& key : server.keys) {
    STEK_ENSURE(seen.insert(key.id).second, stek::Errc::invalid_keystore,
                "key " + key.id.hex() + " is given twice");
  }

  bool created = false;
  STEK_TRY_ASSIGN(auto update, open_keystore(o, ctx, created));
  auto& keystore = update.keystore();
  STEK_ENSURE(!keystore.is_derived(), stek::Errc::unsupported,
              "cannot import keys into a derived keystore: its keys come from "
              "the oracle; import into a keystore of its own (" +
                o.keystore.string() + ")");
  for (const auto& key : server.keys) {
    STEK_ENSURE(keystore.find(key.id) == nullptr, stek::Errc::already_exists,
                "key " + key.id.hex() + " is already in the keystore (" +
                  o.keystore.string() + ")");
  }
  std::vector<stek::KeyId> imported;
  for (auto& server_key : server.keys) {
    imported.push_back(server_key.id);
    keystore.keys.push_back(
      keystore_key(std::move(server_key), keystore.policy, ctx.now));
  }
  STEK_TRY(update.commit());
  update.release();

  for (const auto& warning : server.warnings) {
    ctx.warn(warning);
  }
  if (created) {
    ctx.warn("created " + o.keystore.string() +
             " with the default policy; 'stekctl rotate' publishes its next "
             "key when one is due");
  }
  const stek::Key* encrypting = keystore.encrypting_key(ctx.now);
  if (ctx.json) {
    Json doc;
    doc["keystore"] = o.keystore.string();
    doc["now"] = stek::format_time(ctx.now);
    doc["format"] = o.format;
    doc["created"] = created;
    doc["keys"] = Json::array();
    for (const auto& id : imported) {
      const stek::Key* key = keystore.find(id);
      doc["keys"].push_back(key_json(*key, ctx.now, key == encrypting));
    }
    print_json(ctx.out, doc);
  } else if (ctx.chatty()) {
    ctx.out << "imported " << imported.size() << " key(s) from " << o.format
            << " into " << o.keystore.string() << "\n";
    for (const auto& id : imported) {
      const stek::Key* key = keystore.find(id);
      ctx.out << "  " << id.hex() << "  "
              << (key == encrypting ? "encrypts until "
                                    : "decrypts until ")
              << stek::format_time(key == encrypting ? key->encrypt_until
                                                     : key->decrypt_until)
              << "\n";
    }
  }
  return {};
}

} // namespace stekctl
