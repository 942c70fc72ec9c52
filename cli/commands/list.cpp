// SPDX-License-Identifier: Apache-2.0
#include "list.hpp"

#include "../derived_keys.hpp"
#include "../keystore_access.hpp"
#include "../output.hpp"

#include <stek/rotation.hpp>

#include <memory>

namespace stekctl {

void register_list(CLI::App& app, Dispatch& dispatch) {
  auto o = std::make_shared<ListOptions>();
  auto* cmd = app.add_subcommand(
    "list", "Show the keys, their states and times (never secrets)");
  cmd->add_option("KEYSTORE", o->keystore, "Keystore file")->required();
  cmd->callback([o, &dispatch] {
    dispatch.set([o](Context& ctx) { return run_list(*o, ctx); });
  });
}

namespace {

// A derived keystore's epochs, computed without the oracle.
stek::Result<void> list_derived(const ListOptions& o,
                                const stek::Keystore& derived,
                                Context& ctx) {
  const auto schedule = derived_schedule(derived, ctx.now);
  const auto next_epoch =
    stek::epoch_start(derived.policy, stek::epoch_at(derived.policy, ctx.now) + 1);
  if (ctx.json) {
    Json doc;
    doc["keystore"] = o.keystore.string();
    doc["now"] = stek::format_time(ctx.now);
    doc["policy"] = policy_json(derived.policy);
    doc["derived"] = derivation_json(derived);
    doc["current_epoch"] = stek::epoch_at(derived.policy, ctx.now);
    doc["next_epoch_starts"] = stek::format_time(next_epoch);
    doc["keys"] = keys_json(schedule, ctx.now);
    print_json(ctx.out, doc);
    return {};
  }
  if (ctx.quiet) {
    return {};
  }
  print_key_table(ctx.out, schedule, ctx.now);
  const auto& p = derived.policy;
  const auto& d = *derived.derivation;
  ctx.out << "\nderived: fleet " << d.fleet << ", generation " << d.generation
          << ", " << oracle_summary(d) << "\n"
          << "policy: a new epoch every " << stek::format_duration(p.rotate_every)
          << ", published " << stek::format_duration(p.publish_ahead)
          << " ahead, encrypt for " << stek::format_duration(p.encrypt_for)
          << ", decrypt for " << stek::format_duration(p.decrypt_for)
          << ", SNI binding " << (p.sni_binding ? "on" : "off") << "\n"
          << "next epoch starts " << stek::format_time(next_epoch) << " ("
          << relative_time(next_epoch, ctx.now) << "); no rotate needed\n";
  return {};
}

} // namespace

stek::Result<void> run_list(const ListOptions& o, Context& ctx) {
  STEK_TRY_ASSIGN(const auto keystore, load_keystore(o.keystore, ctx));
  if (keystore.is_derived()) {
    return list_derived(o, keystore, ctx);
  }
  const stek::Key* encrypting = keystore.encrypting_key(ctx.now);
  const auto next_due = stek::next_rotation_due(keystore, ctx.now);
  if (encrypting == nullptr) {
    ctx.warn("no key encrypts at " + stek::format_time(ctx.now) +
             "; run 'stekctl rotate " + o.keystore.string() + "'");
  }
  if (ctx.json) {
    Json doc;
    doc["keystore"] = o.keystore.string();
    doc["now"] = stek::format_time(ctx.now);
    doc["policy"] = policy_json(keystore.policy);
    doc["next_rotation_due"] = stek::format_time(next_due);
    doc["keys"] = keys_json(keystore, ctx.now);
    print_json(ctx.out, doc);
    return {};
  }
  if (ctx.quiet) {
    return {};
  }
  print_key_table(ctx.out, keystore, ctx.now);
  const auto& p = keystore.policy;
  ctx.out << "\npolicy: rotate every " << stek::format_duration(p.rotate_every)
          << ", publish " << stek::format_duration(p.publish_ahead)
          << " ahead, encrypt for " << stek::format_duration(p.encrypt_for)
          << ", decrypt for " << stek::format_duration(p.decrypt_for)
          << ", SNI binding " << (p.sni_binding ? "on" : "off") << "\n";
  if (next_due <= ctx.now) {
    ctx.out << "a rotation is due now (since " << stek::format_time(next_due)
            << ")\n";
  } else {
    ctx.out << "next rotation due " << stek::format_time(next_due) << " ("
            << relative_time(next_due, ctx.now) << ")\n";
  }
  return {};
}

} // namespace stekctl
