// SPDX-License-Identifier: Apache-2.0
#include "export.hpp"

#include "../deploy_hook.hpp"
#include "../derived_keys.hpp"
#include "../export_output.hpp"
#include "../keystore_access.hpp"
#include "../output.hpp"

#include <stek/crypto.hpp>
#include <stek/formats/server_format.hpp>

#include <memory>

namespace stekctl {
namespace {

using stek::formats::ExportShape;
using stek::formats::ServerFormat;

// Return `path` without trailing slashes, so "dir/" and "dir" lock alike.
std::filesystem::path tidy(const std::string& path) {
  std::filesystem::path out = std::filesystem::path(path).lexically_normal();
  if (out.filename().empty() && out.has_parent_path()) {
    out = out.parent_path();
  }
  return out;
}

stek::Result<stek::formats::ExportRequest> make_request(
  const ExportOptions& o,
  const ServerFormat& format,
  const stek::Keystore& keystore,
  const Context& ctx) {
  stek::formats::ExportRequest request;
  request.keystore = &keystore;
  request.now = ctx.now;
  if (o.sni) {
    STEK_TRY_ASSIGN(auto name, stek::normalize_server_name(*o.sni));
    request.binding = stek::Binding::server_name(std::move(name));
  }
  if (o.config_dir) {
    STEK_ENSURE(std::filesystem::path(*o.config_dir).is_absolute(),
                stek::Errc::invalid_argument,
                "--config-dir must be an absolute path");
    request.config_dir = tidy(*o.config_dir).string();
  } else if (format.shape == ExportShape::directory) {
    request.config_dir = std::filesystem::absolute(tidy(o.out)).string();
  } else {
    request.config_dir = "/etc/stek";
  }
  request.secret_of = o.secret_of.value_or(request.secret_of);
  request.secret_name = o.secret_name.value_or(request.secret_name);
  request.secret_namespace = o.secret_namespace.value_or("");
  return request;
}

stek::Result<ExportWrite> write_output(const ExportOptions& o,
                                       const ServerFormat& format,
                                       const stek::formats::Export& result,
                                       Context& ctx) {
  if (o.out == "-") {
    // Only where asked: the one place key material goes to stdout.
    const auto bytes = result.files.front().contents.reveal();
    ctx.out.write(reinterpret_cast<const char*>(bytes.data()),
                  static_cast<std::streamsize>(bytes.size()));
    return ExportWrite{{"-"}, {}};
  }
  const auto path = tidy(o.out);
  STEK_TRY_ASSIGN(auto lock, stek::FileLock::acquire(path, k_lock_timeout));
  if (format.shape == ExportShape::directory) {
    return write_export_directory(path, result.files);
  }
  STEK_TRY(stek::remove_stale_temporaries(path));
  return write_export_file(path, result.files.front());
}

void report(const ExportOptions& o,
            const stek::formats::ExportRequest& request,
            const stek::formats::Export& result,
            const ExportWrite& wrote,
            Context& ctx) {
  if (ctx.json) {
    Json doc;
    doc["keystore"] = o.keystore.string();
    doc["now"] = stek::format_time(ctx.now);
    doc["format"] = o.format;
    doc["out"] = o.out;
    const auto sni = request.binding.bound_name();
    doc["sni"] = sni ? Json(*sni) : Json(nullptr);
    doc["changed"] = wrote.changed();
    doc["keys"] = Json::array();
    for (const auto& key : result.keys) {
      doc["keys"].push_back(Json{{"id", key.id.hex()}, {"role", key.role}});
    }
    doc["written"] = wrote.written;
    doc["removed"] = wrote.removed;
    doc["warnings"] = result.warnings;
    print_json(ctx.out, doc);
    return;
  }
  if (!ctx.chatty() || o.out == "-") {
    return;
  }
  ctx.out << (wrote.changed() ? "exported " : "export unchanged: ")
          << result.keys.size() << " key(s) as " << o.format << " to " << o.out
          << "\n";
  for (const auto& key : result.keys) {
    ctx.out << "  " << key.id.hex() << "  " << key.role << "\n";
  }
  for (const auto& name : wrote.removed) {
    ctx.out << "removed " << name << "\n";
  }
}

} // namespace

void register_export(CLI::App& app, Dispatch& dispatch) {
  auto o = std::make_shared<ExportOptions>();
  auto* cmd = app.add_subcommand(
    "export", "Write the keys a server needs, in that server's format");
  cmd->add_option("KEYSTORE", o->keystore, "Keystore file")->required();
  cmd->add_option("--format", o->format,
                  "nginx, nginx48, haproxy, haproxy48, apache, openssl, envoy, "
                  "go, s2n or k8s-secret")
    ->required()
    ->type_name("FMT");
  cmd->add_option("--out", o->out,
                  "File, or directory for nginx and envoy; - for standard "
                  "output (text formats)")
    ->required()
    ->type_name("PATH");
  cmd->add_option("--sni", o->sni, "Export the keys bound to this server name")
    ->type_name("NAME");
  cmd->add_option("--config-dir", o->config_dir,
                  "Directory the configuration snippets name the key files "
                  "in (default: the output directory; /etc/stek for "
                  "k8s-secret)")
    ->type_name("DIR");
  cmd->add_option("--secret-of", o->secret_of,
                  "k8s-secret: carry the keystore (default) or this format's "
                  "files")
    ->type_name("FMT");
  cmd->add_option("--secret-name", o->secret_name,
                  "k8s-secret: the Secret's name (default stek-keys)")
    ->type_name("NAME");
  cmd->add_option("--namespace", o->secret_namespace,
                  "k8s-secret: the Secret's namespace")
    ->type_name("NS");
  cmd->add_option("--deploy-hook", o->deploy_hook,
                  "Run CMD with /bin/sh after the export changed")
    ->type_name("CMD");
  cmd->callback([o, &dispatch] {
    dispatch.set([o](Context& ctx) { return run_export(*o, ctx); });
  });
}

namespace {

// Refuse options that the chosen format would silently ignore.
stek::Result<void> check_options(const ExportOptions& o,
                                 const ServerFormat& format,
                                 const Context& ctx) {
  const bool k8s = format.name == "k8s-secret";
  STEK_ENSURE(k8s || (!o.secret_of && !o.secret_name && !o.secret_namespace),
              stek::Errc::invalid_argument,
              "--secret-of, --secret-name and --namespace apply only to "
              "--format k8s-secret");
  STEK_ENSURE(!o.config_dir || k8s || format.shape == ExportShape::directory,
              stek::Errc::invalid_argument,
              "--config-dir applies only to nginx, nginx48, envoy and "
              "k8s-secret, whose files name other files");
  STEK_ENSURE(o.out != "-" || format.text, stek::Errc::invalid_argument,
              o.format + " is " +
                (format.shape == ExportShape::directory ? "a directory"
                                                        : "a binary") +
                " export and cannot go to standard output; give --out PATH");
  STEK_ENSURE(o.out != "-" || !ctx.json, stek::Errc::invalid_argument,
              "--json and --out - would both write to standard output");
  STEK_ENSURE(o.out != "-" || !o.deploy_hook, stek::Errc::invalid_argument,
              "--deploy-hook needs --out PATH: standard output never changes");
  return {};
}

// Return the keys a derived keystore exports at ctx.now, calling the
// oracle only for the epochs `format` writes: a first pass over stand-in
// keys (random material under the epochs' real ids and times) learns which
// those are. A Secret that carries the keystore carries the derived file
// itself, which holds no secret.
stek::Result<stek::Keystore> derived_export_keys(const ExportOptions& o,
                                                 const ServerFormat& format,
                                                 const stek::Keystore& derived,
                                                 const Context& ctx) {
  if (format.name == "k8s-secret" && o.secret_of.value_or("keystore") == "keystore") {
    return derived.clone();
  }
  stek::Keystore stand_in;
  stand_in.policy = derived.policy;
  const auto epochs = stek::epochs_needed_at(derived.policy, ctx.now);
  for (const stek::Epoch n : epochs) {
    auto key = stek::epoch_key_public(derived.policy, *derived.derivation, n);
    STEK_TRY_ASSIGN(auto material, stek::random_secret(stek::Material::k_size));
    key.secret = stek::Material{std::move(material)};
    stand_in.keys.push_back(std::move(key));
  }
  STEK_TRY_ASSIGN(const auto probe_request, make_request(o, format, stand_in, ctx));
  STEK_TRY_ASSIGN(const auto probe, format.write(probe_request));
  std::vector<stek::Epoch> used;
  for (const auto& key : stand_in.keys) {
    for (const auto& exported : probe.keys) {
      if (exported.id == key.id) {
        used.push_back(*key.epoch);
        break;
      }
    }
  }
  return derive_keys(derived, used);
}

} // namespace

stek::Result<void> run_export(const ExportOptions& o, Context& ctx) {
  STEK_TRY_ASSIGN(const ServerFormat* format,
                  stek::formats::find_server_format(o.format));
  STEK_TRY(check_options(o, *format, ctx));
  STEK_TRY_ASSIGN(auto loaded, load_keystore(o.keystore, ctx));
  if (loaded.is_derived()) {
    STEK_TRY_ASSIGN(loaded, derived_export_keys(o, *format, loaded, ctx));
  }
  const auto keystore = std::move(loaded);
  STEK_TRY_ASSIGN(const auto request, make_request(o, *format, keystore, ctx));
  auto written = format->write(request);
  if (!written) {
    auto error = std::move(written).error();
    error.message += " (" + o.keystore.string() + ")";
    return error;
  }
  auto result = std::move(written).value();
  // A Secret carrying the keystore itself leaves binding to the providers.
  const bool carries_keystore =
    format->name == "k8s-secret" && request.secret_of == "keystore";
  if (keystore.policy.sni_binding && !o.sni && !carries_keystore) {
    result.warnings.insert(
      result.warnings.begin(),
      "the keystore binds keys to server names (sni_binding), but this export "
      "is not bound to one: if these keys serve several virtual hosts, a "
      "ticket from one resumes on another; give --sni NAME per virtual host");
  }
  STEK_TRY_ASSIGN(const auto wrote, write_output(o, *format, result, ctx));
  // What the server cannot express is the same at every run; from cron
  // (--quiet) it is said only when the export changed, not every minute.
  if (!ctx.quiet || wrote.changed()) {
    for (const auto& warning : result.warnings) {
      ctx.warn(warning);
    }
  }
  report(o, request, result, wrote, ctx);
  if (o.deploy_hook && wrote.changed()) {
    ctx.out.flush();
    std::vector<std::string> ids;
    for (const auto& key : result.keys) {
      ids.push_back(key.id.hex());
    }
    STEK_TRY(run_deploy_hook(*o.deploy_hook,
                             {{"STEKCTL_KEYSTORE", o.keystore.string()},
                              {"STEKCTL_EXPORT", o.out},
                              {"STEKCTL_FORMAT", o.format},
                              {"STEKCTL_KEYS", join_ids(ids)}},
                             ctx.json, "the export", o.out));
  }
  return {};
}

} // namespace stekctl
