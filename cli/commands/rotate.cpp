// SPDX-License-Identifier: Apache-2.0
#include "rotate.hpp"

#include "../deploy_hook.hpp"
#include "../keystore_access.hpp"
#include "../output.hpp"

#include <stek/rotation.hpp>

#include <memory>

namespace stekctl {
namespace {

std::vector<std::string> hex_ids(const std::vector<stek::KeyId>& ids) {
  std::vector<std::string> out;
  for (const auto& id : ids) {
    out.push_back(id.hex());
  }
  return out;
}

// Warn about what an operator must know even from cron: a gap in which no
// key encrypted, and keys stretched because rotate ran late.
void warn_anomalies(const stek::RotationReport& report,
                    const stek::Keystore& keystore,
                    const Context& ctx) {
  if (report.gap) {
    const std::string since =
      report.gap->since
        ? "since " + stek::format_time(*report.gap->since) + " (" +
            stek::format_duration(ctx.now - *report.gap->since) + ")"
        : "at all";
    ctx.warn("no key was encrypting " + since +
             "; a new key encrypts at once, without notice to the fleet");
  }
  for (const auto& s : report.stretched) {
    ctx.warn("rotation ran late: key " + s.id.hex() + " now encrypts until " +
             stek::format_time(s.new_encrypt_until) + " instead of " +
             stek::format_time(s.old_encrypt_until) + " (+" +
             stek::format_duration(s.new_encrypt_until - s.old_encrypt_until) +
             ") so its successor keeps " +
             stek::format_duration(keystore.policy.publish_ahead) + " notice");
  }
}

void print_human(const stek::RotationReport& report,
                 const stek::Keystore& keystore,
                 const RotateOptions& o,
                 const Context& ctx) {
  for (const auto& id : report.added) {
    const stek::Key& key = *keystore.find(id);
    ctx.out << "published key " << id.hex() << ": "
            << stek::key_state_name(key.state_at(ctx.now)) << ", encrypts "
            << stek::format_time(key.not_before) << " to "
            << stek::format_time(key.encrypt_until) << ", decrypts until "
            << stek::format_time(key.decrypt_until) << "\n";
  }
  for (const auto& id : report.pruned) {
    ctx.out << "pruned expired key " << id.hex() << "\n";
  }
  if (report.stopped) {
    ctx.out << "key " << report.stopped->hex()
            << " stopped encrypting; it still decrypts\n";
  }
  if (report.revoked) {
    ctx.out << "revoked key " << report.revoked->hex() << "\n";
  }
  const std::string next = "next rotation due " +
                           stek::format_time(report.next_due) + " (" +
                           relative_time(report.next_due, ctx.now) + ")";
  if (!report.changed()) {
    ctx.out << "nothing to do; " << next << "\n";
  } else if (o.dry_run) {
    ctx.out << "dry run: keystore not changed; " << next << "\n";
  } else {
    ctx.out << "wrote " << o.keystore.string() << "; " << next << "\n";
  }
}

Json report_json(const stek::RotationReport& report,
                 const stek::Keystore& keystore,
                 const RotateOptions& o,
                 const Context& ctx) {
  Json doc;
  doc["keystore"] = o.keystore.string();
  doc["now"] = stek::format_time(ctx.now);
  doc["changed"] = report.changed() && !o.dry_run;
  doc["dry_run"] = o.dry_run;
  doc["added"] = Json::array();
  for (const auto& id : report.added) {
    doc["added"].push_back(key_json(*keystore.find(id), ctx.now,
                                    keystore.encrypting_key(ctx.now) ==
                                      keystore.find(id)));
  }
  doc["pruned"] = hex_ids(report.pruned);
  doc["stretched"] = Json::array();
  for (const auto& s : report.stretched) {
    doc["stretched"].push_back(
      Json{{"id", s.id.hex()},
           {"old_encrypt_until", stek::format_time(s.old_encrypt_until)},
           {"new_encrypt_until", stek::format_time(s.new_encrypt_until)}});
  }
  doc["stopped"] = report.stopped ? Json(report.stopped->hex()) : Json(nullptr);
  doc["revoked"] = report.revoked ? Json(report.revoked->hex()) : Json(nullptr);
  if (report.gap) {
    doc["gap"] = Json{{"since", report.gap->since
                                  ? Json(stek::format_time(*report.gap->since))
                                  : Json(nullptr)}};
  } else {
    doc["gap"] = nullptr;
  }
  doc["next_rotation_due"] = stek::format_time(report.next_due);
  return doc;
}

} // namespace

void register_rotate(CLI::App& app, Dispatch& dispatch) {
  auto o = std::make_shared<RotateOptions>();
  auto* cmd = app.add_subcommand(
    "rotate", "Publish due successors, prune expired keys (safe from cron)");
  cmd->add_option("KEYSTORE", o->keystore, "Keystore file")->required();
  cmd->add_flag("--force", o->force,
                "Publish a successor now even if none is due");
  cmd->add_flag("--now", o->now,
                "Make a new key encrypt at once (incident response)");
  cmd->add_option("--revoke-current", o->revoke_current,
                  "Also revoke the key that was encrypting (implies --now)")
    ->type_name("REASON");
  cmd->add_flag("--dry-run", o->dry_run,
                "Say what would change without writing anything");
  cmd->add_option("--deploy-hook", o->deploy_hook,
                  "Run CMD with /bin/sh after the keystore changed")
    ->type_name("CMD");
  cmd->callback([o, &dispatch] {
    dispatch.set([o](Context& ctx) { return run_rotate(*o, ctx); });
  });
}

stek::Result<void> run_rotate(const RotateOptions& o, Context& ctx) {
  STEK_ENSURE(!o.revoke_current || !o.revoke_current->empty(),
              stek::Errc::invalid_argument,
              "--revoke-current needs a reason");
  STEK_TRY_ASSIGN(auto update, KeystoreUpdate::begin(o.keystore, ctx));
  auto& keystore = update.keystore();
  STEK_ENSURE(!keystore.is_derived(), stek::Errc::unsupported,
              "a derived keystore is not rotated: a new epoch starts every " +
                stek::format_duration(keystore.policy.rotate_every) +
                " by the clock alone; remove the rotate job (" +
                o.keystore.string() + ")");
  const stek::RotateRequest request{o.force, o.now, o.revoke_current};
  STEK_TRY_ASSIGN(auto report, stek::rotate(keystore, ctx.now, request));
  const bool write = report.changed() && !o.dry_run;
  if (write) {
    STEK_TRY(update.commit());
  }
  update.release();

  warn_anomalies(report, keystore, ctx);
  if (o.revoke_current && !report.revoked) {
    ctx.warn("no key was encrypting, so none was revoked");
  }
  if (ctx.json) {
    print_json(ctx.out, report_json(report, keystore, o, ctx));
  } else if (!ctx.quiet) {
    print_human(report, keystore, o, ctx);
  }
  if (write && o.deploy_hook) {
    ctx.out.flush();
    const HookVariables variables{
      {"STEKCTL_KEYSTORE", o.keystore.string()},
      {"STEKCTL_KEYS_ADDED", join_ids(hex_ids(report.added))},
      {"STEKCTL_KEYS_REMOVED", join_ids(hex_ids(report.pruned))},
      {"STEKCTL_KEYS_REVOKED", report.revoked ? report.revoked->hex() : ""}};
    STEK_TRY(run_deploy_hook(*o.deploy_hook, variables, ctx.json,
                             "the keystore", o.keystore.string()));
  }
  return {};
}

} // namespace stekctl
