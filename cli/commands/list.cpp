// SPDX-License-Identifier: Apache-2.0
#include "list.hpp"

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

stek::Result<void> run_list(const ListOptions& o, Context& ctx) {
  STEK_TRY_ASSIGN(const auto keystore, load_keystore(o.keystore, ctx));
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
    doc["keys"] = Json::array();
    for (const stek::Key* key : keys_in_schedule_order(keystore)) {
      doc["keys"].push_back(key_json(*key, ctx.now, key == encrypting));
    }
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
