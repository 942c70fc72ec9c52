// SPDX-License-Identifier: Apache-2.0
#include "revoke.hpp"

#include "../keystore_access.hpp"
#include "../output.hpp"

#include <memory>

namespace stekctl {

void register_revoke(CLI::App& app, Dispatch& dispatch) {
  auto o = std::make_shared<RevokeOptions>();
  auto* cmd = app.add_subcommand(
    "revoke", "Mark a key revoked: it no longer encrypts or decrypts");
  cmd->add_option("KEYSTORE", o->keystore, "Keystore file")->required();
  cmd->add_option("KEY_ID", o->key_id,
                  "Key id, or a unique prefix of at least 4 hex digits")
    ->required();
  cmd->add_option("--reason", o->reason, "Why, for the record (required)")
    ->required()
    ->type_name("TEXT");
  cmd->callback([o, &dispatch] {
    dispatch.set([o](Context& ctx) { return run_revoke(*o, ctx); });
  });
}

stek::Result<void> run_revoke(const RevokeOptions& o, Context& ctx) {
  STEK_ENSURE(!o.reason.empty(), stek::Errc::invalid_argument,
              "--reason must not be empty");
  // Usage before files: a malformed id is wrong whatever the keystore holds.
  STEK_TRY(stek::check_key_id_prefix(o.key_id));
  STEK_TRY_ASSIGN(auto update, KeystoreUpdate::begin(o.keystore, ctx));
  auto& keystore = update.keystore();
  // Every server computes every epoch; one cannot be taken back. A new
  // generation replaces all ids and secrets at once.
  STEK_ENSURE(!keystore.is_derived(), stek::Errc::unsupported,
              "a derived keystore cannot revoke one epoch; to replace every "
              "key, give the fleet a new generation (stekctl generate --derive "
              "--generation N --force) and restart its servers (" +
                o.keystore.string() + ")");
  auto index = keystore.find_by_prefix(o.key_id);
  if (!index) {
    auto error = std::move(index).error();
    error.message += " (" + o.keystore.string() + ")";
    return error;
  }
  const bool was_encrypting =
    keystore.encrypting_key(ctx.now) == &keystore.keys[*index];
  STEK_TRY_ASSIGN(const auto outcome,
                  stek::revoke_key(keystore, *index, ctx.now, o.reason));
  const bool changed = outcome == stek::RevokeOutcome::revoked;
  if (changed) {
    STEK_TRY(update.commit());
  }
  update.release();

  const stek::Key& key = keystore.keys[*index];
  if (changed && was_encrypting) {
    if (const stek::Key* next = keystore.encrypting_key(ctx.now)) {
      ctx.warn("key " + key.id.hex() + " was the encrypting key; key " +
               next->id.hex() + " encrypts in its place");
    } else {
      ctx.warn("key " + key.id.hex() +
               " was the encrypting key; no key encrypts until the next "
               "'stekctl rotate' (use 'stekctl rotate --now' to replace it at "
               "once)");
    }
  }
  if (ctx.json) {
    Json doc;
    doc["keystore"] = o.keystore.string();
    doc["now"] = stek::format_time(ctx.now);
    doc["changed"] = changed;
    doc["was_encrypting"] = was_encrypting && changed;
    doc["key"] = key_json(key, ctx.now, false);
    print_json(ctx.out, doc);
  } else if (ctx.chatty()) {
    if (changed) {
      ctx.out << "revoked key " << key.id.hex() << " at "
              << stek::format_time(key.revoked->at) << "\n";
    } else {
      ctx.out << "key " << key.id.hex() << " was already revoked at "
              << stek::format_time(key.revoked->at) << " ("
              << key.revoked->reason << "); nothing changed\n";
    }
  }
  return {};
}

} // namespace stekctl
