// SPDX-License-Identifier: Apache-2.0
#include "generate.hpp"

#include "../derive_options.hpp"
#include "../keystore_access.hpp"
#include "../options.hpp"
#include "../output.hpp"

#include <stek/rotation.hpp>

#include <memory>

namespace stekctl {
namespace {

stek::Result<stek::Policy> policy_from(const GenerateOptions& o) {
  stek::Policy policy;
  // The validator already accepted these texts.
  policy.rotate_every = *stek::parse_duration(o.rotate_every);
  policy.publish_ahead = *stek::parse_duration(o.publish_ahead);
  policy.encrypt_for = o.encrypt_for ? *stek::parse_duration(*o.encrypt_for)
                                     : policy.rotate_every;
  policy.decrypt_for = *stek::parse_duration(o.decrypt_for);
  policy.sni_binding = !o.no_sni_binding;
  if (auto valid = policy.validate(); !valid) {
    // Name the option, not the keystore field the user never wrote.
    std::string message = valid.error().message;
    for (const auto& [field, option] :
         {std::pair<std::string, std::string>{"rotate_every", "--rotate-every"},
          {"publish_ahead", "--publish-ahead"},
          {"encrypt_for", "--encrypt-for"},
          {"decrypt_for", "--decrypt-for"}}) {
      for (const auto& spelling : {"\"policy." + field + "\"", "\"" + field + "\""}) {
        for (auto at = message.find(spelling); at != std::string::npos;
             at = message.find(spelling)) {
          message.replace(at, spelling.size(), option);
        }
      }
    }
    return stek::fail(stek::Errc::invalid_argument, message);
  }
  return policy;
}

} // namespace

void register_generate(CLI::App& app, Dispatch& dispatch) {
  auto o = std::make_shared<GenerateOptions>();
  auto* cmd = app.add_subcommand(
    "generate", "Create a keystore: one active key and its successor");
  cmd->add_option("KEYSTORE", o->keystore, "Keystore file to create")
    ->required();
  cmd->add_option("--rotate-every", o->rotate_every,
                  "Start a new key this often")
    ->check(duration_validator())
    ->capture_default_str();
  cmd->add_option("--publish-ahead", o->publish_ahead,
                  "Publish each key this long before it starts encrypting")
    ->check(duration_validator())
    ->capture_default_str();
  cmd->add_option("--encrypt-for", o->encrypt_for,
                  "How long each key may encrypt (default: --rotate-every)")
    ->check(duration_validator());
  cmd->add_option("--decrypt-for", o->decrypt_for,
                  "How long a key keeps decrypting after it stops encrypting")
    ->check(duration_validator())
    ->capture_default_str();
  cmd->add_flag("--no-sni-binding", o->no_sni_binding,
                "Hand out the same secrets for every server name");
  cmd->add_flag("--force", o->force, "Replace an existing keystore");
  add_derive_options(*cmd, *o);
  cmd->callback([o, &dispatch] {
    dispatch.set([o](Context& ctx) { return run_generate(*o, ctx); });
  });
}

stek::Result<void> run_generate(const GenerateOptions& o, Context& ctx) {
  STEK_TRY_ASSIGN(auto policy, policy_from(o));
  STEK_ENSURE(o.derive || (!o.fleet && !o.pkcs11_module && !o.oracle_command),
              stek::Errc::invalid_argument,
              "--fleet, --pkcs11-module and --oracle-command need --derive");
  std::optional<stek::Keystore> derived;
  if (o.derive) {
    // Before the lock and before anything is written: a bad oracle leaves
    // no keystore behind.
    STEK_TRY_ASSIGN(derived, make_derived_keystore(o, policy, ctx));
  }
  // The non-throwing forms: an unreadable directory is reported by the write.
  std::error_code ec;
  const bool existed = std::filesystem::exists(o.keystore, ec);
  STEK_ENSURE(!existed || o.force, stek::Errc::already_exists,
              "keystore already exists; pass --force to replace it and lose "
              "its keys (" +
                o.keystore.string() + ")");
  const auto dir = stek::resolve_target(o.keystore).parent_path();
  STEK_ENSURE(dir.empty() || std::filesystem::is_directory(dir, ec),
              stek::Errc::not_found,
              "directory does not exist (" + dir.string() + ")");
  STEK_TRY_ASSIGN(auto update, KeystoreUpdate::begin_create(o.keystore));
  // Check again under the lock: a concurrent generate may have won.
  STEK_ENSURE(o.force || !std::filesystem::exists(o.keystore, ec),
              stek::Errc::already_exists,
              "keystore already exists; pass --force to replace it (" +
                o.keystore.string() + ")");
  if (derived) {
    update.keystore() = std::move(*derived);
  } else {
    STEK_TRY_ASSIGN(update.keystore(), stek::create_keystore(policy, ctx.now));
  }
  STEK_TRY(update.commit());
  const auto& keystore = update.keystore();

  if (existed) {
    ctx.warn("replaced the existing keystore; its keys are gone (" +
             o.keystore.string() + ")");
  }
  if (keystore.is_derived()) {
    report_derived_created(o, keystore, ctx);
    return {};
  }
  if (const auto& first = keystore.keys.front();
      first.encrypt_until - first.not_before > policy.encrypt_for) {
    ctx.warn("the first key encrypts for " +
             stek::format_duration(first.encrypt_until - first.not_before) +
             ", longer than --encrypt-for, so that its successor gets the "
             "full --publish-ahead notice");
  }
  if (policy.encrypt_for + policy.decrypt_for > std::chrono::days(7)) {
    ctx.warn("a key lives longer than 7 days (encrypt for " +
             stek::format_duration(policy.encrypt_for) + " + decrypt for " +
             stek::format_duration(policy.decrypt_for) +
             "); RFC 8446 caps ticket lifetimes at 7 days");
  }
  if (ctx.json) {
    Json doc;
    doc["keystore"] = o.keystore.string();
    doc["now"] = stek::format_time(ctx.now);
    doc["policy"] = policy_json(keystore.policy);
    doc["keys"] = keys_json(keystore, ctx.now);
    print_json(ctx.out, doc);
  } else if (ctx.chatty()) {
    ctx.out << "created keystore " << o.keystore.string() << "\n";
    print_key_table(ctx.out, keystore, ctx.now);
  }
  return {};
}

} // namespace stekctl
