// SPDX-License-Identifier: Apache-2.0
#include "check.hpp"

#include "../derived_keys.hpp"
#include "../output.hpp"

#include <stek/formats/native_keystore.hpp>
#include <stek/rotation.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <memory>
#include <string_view>
#include <vector>

namespace stekctl {
namespace {

enum class Severity { warning, critical };

struct Problem {
  std::string_view name;
  Severity severity;
  std::string message;
};

// Every problem check knows, so that --prometheus can print a 0 for the
// ones not found: an alert on a series that vanishes never resolves.
constexpr std::pair<std::string_view, Severity> k_problems[] = {
  {"no_encrypting_key", Severity::critical},
  {"no_encrypting_key_soon", Severity::critical},
  {"loose_permissions", Severity::critical},
  {"rotation_overdue", Severity::warning},
  {"lifetime_over_7_days", Severity::warning},
  {"oracle_failing", Severity::critical},
};

std::string_view severity_name(Severity s) {
  return s == Severity::critical ? "critical" : "warning";
}

std::vector<Problem> find_problems(const stek::Keystore& keystore,
                                   const std::filesystem::path& path,
                                   mode_t mode,
                                   stek::Duration grace,
                                   stek::Timestamp now,
                                   bool derived) {
  std::vector<Problem> problems;
  const auto& policy = keystore.policy;
  if (keystore.encrypting_key(now) == nullptr) {
    problems.push_back({"no_encrypting_key", Severity::critical,
                        "no key encrypts at " + stek::format_time(now) +
                          "; servers issue no tickets (run 'stekctl rotate " +
                          path.string() + "')"});
  } else if (keystore.encrypting_key(now + policy.publish_ahead) == nullptr) {
    // Servers load keys ahead; by now the successor should be published.
    problems.push_back({"no_encrypting_key_soon", Severity::critical,
                        "no key encrypts at " +
                          stek::format_time(now + policy.publish_ahead) +
                          ", " + stek::format_duration(policy.publish_ahead) +
                          " from now (run 'stekctl rotate " + path.string() +
                          "')"});
  }
  if ((mode & 077) != 0) {
    char octal[8];
    std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mode & 07777));
    problems.push_back({"loose_permissions", Severity::critical,
                        std::string("group or others may access the keystore (mode ") +
                          octal + "); run 'chmod 600 " + path.string() + "'"});
  }
  // A derived keystore's epochs follow the clock: nothing is ever due.
  const auto due = stek::next_rotation_due(keystore, now);
  if (!derived && now - due > grace) {
    problems.push_back({"rotation_overdue", Severity::warning,
                        "a rotation has been due since " + stek::format_time(due) +
                          " (is the cron job or timer running 'stekctl rotate " +
                          path.string() + "'?)"});
  }
  if (policy.encrypt_for + policy.decrypt_for > std::chrono::days(7)) {
    problems.push_back({"lifetime_over_7_days", Severity::warning,
                        "a key lives " +
                          stek::format_duration(policy.encrypt_for + policy.decrypt_for) +
                          "; RFC 8446 caps ticket lifetimes at 7 days"});
  }
  return problems;
}

// Escape a Prometheus label value: backslash, double quote and newline.
std::string label_value(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string keystore_label(const std::filesystem::path& path) {
  return "keystore=\"" + label_value(path.string()) + "\"";
}

void print_keystore_up(std::ostream& out, const std::filesystem::path& path, bool up) {
  out << "# HELP stek_keystore_up Whether the keystore was read and is valid.\n"
         "# TYPE stek_keystore_up gauge\n"
      << "stek_keystore_up{" << keystore_label(path) << "} " << (up ? 1 : 0) << "\n";
}

void print_prometheus(std::ostream& out,
                      const std::filesystem::path& path,
                      const stek::Keystore& keystore,
                      const std::vector<Problem>& problems,
                      int status,
                      stek::Timestamp now) {
  const std::string ks = keystore_label(path);
  print_keystore_up(out, path, true);
  out << "# HELP stek_check_status Exit status of stekctl check: 0 ok, 3 "
         "warning, 4 critical.\n"
         "# TYPE stek_check_status gauge\n"
      << "stek_check_status{" << ks << "} " << status << "\n";
  out << "# HELP stek_problem Whether stekctl check found this problem.\n"
         "# TYPE stek_problem gauge\n";
  for (const auto& [name, severity] : k_problems) {
    bool found = false;
    for (const auto& p : problems) {
      found = found || p.name == name;
    }
    out << "stek_problem{" << ks << ",problem=\"" << name << "\",severity=\""
        << severity_name(severity) << "\"} " << (found ? 1 : 0) << "\n";
  }
  out << "# HELP stek_keys Keys in the keystore by state.\n"
         "# TYPE stek_keys gauge\n";
  for (const auto state : {stek::KeyState::pending, stek::KeyState::active,
                           stek::KeyState::decrypt_only, stek::KeyState::expired,
                           stek::KeyState::revoked}) {
    int n = 0;
    for (const auto& key : keystore.keys) {
      n += key.state_at(now) == state ? 1 : 0;
    }
    out << "stek_keys{" << ks << ",state=\"" << stek::key_state_name(state)
        << "\"} " << n << "\n";
  }
  const stek::Key* encrypting = keystore.encrypting_key(now);
  out << "# HELP stek_encrypting_key_seconds_left Seconds until the encrypting "
         "key stops encrypting (0 if none).\n"
         "# TYPE stek_encrypting_key_seconds_left gauge\n"
      << "stek_encrypting_key_seconds_left{" << ks << "} "
      << (encrypting ? (encrypting->encrypt_until - now).count() : 0) << "\n";
  out << "# HELP stek_next_rotation_due_timestamp_seconds When the next "
         "rotation is due (Unix time).\n"
         "# TYPE stek_next_rotation_due_timestamp_seconds gauge\n"
      << "stek_next_rotation_due_timestamp_seconds{" << ks << "} "
      << stek::next_rotation_due(keystore, now).time_since_epoch().count() << "\n";
}

} // namespace

void register_check(CLI::App& app, Dispatch& dispatch) {
  auto o = std::make_shared<CheckOptions>();
  auto* cmd = app.add_subcommand(
    "check", "Report problems for monitoring (exit 3 warning, 4 critical)");
  cmd->add_option("KEYSTORE", o->keystore, "Keystore file")->required();
  cmd->add_flag("--prometheus", o->prometheus,
                "Print metrics in the Prometheus text exposition format");
  cmd->add_option("--grace", o->grace,
                  "How long a due rotation may wait before it is overdue "
                  "(default 1h)")
    ->type_name("D");
  cmd->add_flag("--probe-oracle", o->probe_oracle,
                "Derived keystores: call the oracle once for the next epoch "
                "and report it if it fails");
  cmd->callback([o, &dispatch] {
    dispatch.set([o](Context& ctx) { return run_check(*o, ctx); });
  });
}

stek::Result<void> run_check(const CheckOptions& o, Context& ctx) {
  auto grace = stek::parse_duration(o.grace);
  STEK_ENSURE(grace.ok(), stek::Errc::invalid_argument,
              "invalid --grace \"" + o.grace + "\": " +
                (grace.ok() ? std::string() : grace.error().message));
  STEK_ENSURE(!(o.prometheus && ctx.json), stek::Errc::invalid_argument,
              "--json and --prometheus both write to standard output; pick one");
  // Loose permissions are a finding here, not a reason to refuse: check is
  // what should tell the operator about them.
  struct stat st {};
  const int stat_error = ::stat(o.keystore.c_str(), &st) == 0 ? 0 : errno;
  auto keystore =
    stat_error == 0
      ? stek::formats::load_native_keystore(o.keystore)
      : stek::fail(stat_error == ENOENT ? stek::Errc::not_found : stek::Errc::io,
                   std::string("cannot read the keystore: ") +
                     std::strerror(stat_error) + " (" + o.keystore.string() + ")");
  if (!keystore.ok()) {
    if (o.prometheus) {
      // A textfile collector still gets a series to alert on.
      print_keystore_up(ctx.out, o.keystore, false);
    }
    return std::move(keystore).error();
  }
  std::optional<stek::Keystore> schedule;
  if (keystore->is_derived()) {
    schedule = derived_schedule(*keystore, ctx.now);
  }
  const stek::Keystore& view = schedule ? *schedule : *keystore;
  auto problems = find_problems(view, o.keystore, st.st_mode, *grace, ctx.now,
                                keystore->is_derived());
  if (keystore->is_derived() && o.probe_oracle) {
    // The epoch servers fetch next: what fails here fails for them soon.
    const auto next = stek::epoch_at(keystore->policy, ctx.now) + 1;
    if (auto probed = derive_keys(*keystore, {next}); !probed) {
      problems.push_back({"oracle_failing", Severity::critical,
                          probed.error().message + "; servers keep the epochs "
                          "they hold but will run out"});
    }
  }
  int status = 0;
  for (const auto& p : problems) {
    status = std::max(status, p.severity == Severity::critical ? k_exit_check_critical
                                                               : k_exit_check_warning);
  }
  ctx.exit_status = status;
  const std::string_view verdict =
    status == 0 ? "ok" : (status == k_exit_check_critical ? "critical" : "warning");
  if (o.prometheus) {
    print_prometheus(ctx.out, o.keystore, view, problems, status, ctx.now);
    return {};
  }
  if (ctx.json) {
    Json doc;
    doc["keystore"] = o.keystore.string();
    doc["now"] = stek::format_time(ctx.now);
    doc["status"] = verdict;
    doc["problems"] = Json::array();
    for (const auto& p : problems) {
      doc["problems"].push_back({{"problem", p.name},
                                 {"severity", severity_name(p.severity)},
                                 {"message", p.message}});
    }
    print_json(ctx.out, doc);
    return {};
  }
  for (const auto& p : problems) {
    ctx.out << severity_name(p.severity) << ": " << p.name << ": " << p.message << "\n";
  }
  if (!ctx.quiet) {
    ctx.out << o.keystore.string() << ": " << verdict << "\n";
  }
  return {};
}

} // namespace stekctl
