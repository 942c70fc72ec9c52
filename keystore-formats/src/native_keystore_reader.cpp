// SPDX-License-Identifier: Apache-2.0
#include <stek/formats/native_keystore.hpp>

#include <stek/encoding.hpp>
#include <stek/io.hpp>

#include "json_structure_check.hpp"
#include "native_derivation.hpp"
#include "native_fields.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <initializer_list>
#include <span>

namespace stek::formats {
namespace {

using nlohmann::json;
using detail::field_error;
using detail::only_fields;
using detail::Place;
using detail::required;

Result<Timestamp> time_field(const json& object,
                             const Place& place,
                             std::string_view field) {
  STEK_TRY_ASSIGN(const json* value,
                  required(object, place, field, json::value_t::string,
                           "a string"));
  const auto& text = value->get_ref<const std::string&>();
  auto parsed = parse_time(text);
  if (!parsed) {
    return field_error(place, field, "is not a time: " + parsed.error().message);
  }
  // Only the form stekctl writes: anything else (offsets, fractions) would
  // not survive a rewrite byte for byte.
  if (format_time(*parsed) != text) {
    return field_error(place, field,
                       "must be a UTC time written YYYY-MM-DDTHH:MM:SSZ");
  }
  return *parsed;
}

Result<Duration> duration_field(const json& object, std::string_view field) {
  const Place place{"policy"};
  STEK_TRY_ASSIGN(const json* value,
                  required(object, place, field, json::value_t::string,
                           "a string"));
  auto parsed = parse_duration(value->get_ref<const std::string&>());
  if (!parsed) {
    return field_error(place, field,
                       "is not a duration: " + parsed.error().message);
  }
  return *parsed;
}

// Decode a base64 secret field and wipe its text in the DOM at once, so the
// only long-lived copy is the SecretBytes.
Result<SecretBytes> secret_field(json& object,
                                 const Place& place,
                                 std::string_view field) {
  STEK_TRY(required(object, place, field, json::value_t::string, "a string"));
  auto& text = object.find(field)->get_ref<std::string&>();
  auto decoded = base64_decode(text);
  cleanse(text);
  if (!decoded) {
    return field_error(place, field, "is not valid base64");
  }
  return std::move(decoded).value();
}

Result<Policy> parse_policy(const json& root) {
  const Place top{"top level"};
  STEK_TRY_ASSIGN(const json* object,
                  required(root, top, "policy", json::value_t::object,
                           "an object"));
  STEK_TRY(only_fields(*object, Place{"policy"},
                       {"rotate_every", "publish_ahead", "encrypt_for",
                        "decrypt_for", "sni_binding"}));
  Policy policy;
  STEK_TRY_ASSIGN(policy.rotate_every, duration_field(*object, "rotate_every"));
  STEK_TRY_ASSIGN(policy.publish_ahead,
                  duration_field(*object, "publish_ahead"));
  STEK_TRY_ASSIGN(policy.encrypt_for, duration_field(*object, "encrypt_for"));
  STEK_TRY_ASSIGN(policy.decrypt_for, duration_field(*object, "decrypt_for"));
  STEK_TRY_ASSIGN(const json* sni,
                  required(*object, Place{"policy"}, "sni_binding",
                           json::value_t::boolean, "true or false"));
  policy.sni_binding = sni->get<bool>();
  return policy;
}

Result<std::optional<Revocation>> parse_revocation(const json& key,
                                                   const Place& place) {
  const auto it = key.find("revoked");
  if (it == key.end()) {
    return std::optional<Revocation>();
  }
  STEK_ENSURE(it->is_object(), Errc::invalid_keystore,
              field_error(place, "revoked", "must be an object").message);
  const Place inner{place.what + ", in \"revoked\""};
  STEK_TRY(only_fields(*it, inner, {"at", "reason"}));
  STEK_TRY_ASSIGN(auto at, time_field(*it, inner, "at"));
  STEK_TRY_ASSIGN(const json* reason,
                  required(*it, inner, "reason", json::value_t::string,
                           "a string"));
  return std::optional<Revocation>(
    Revocation{at, reason->get<std::string>()});
}

Result<std::variant<Material, ImportedKeys>> parse_secret(json& key,
                                                          const Place& place) {
  const bool has_material = key.contains("material");
  const bool has_imported = key.contains("aes") || key.contains("hmac");
  STEK_ENSURE(has_material != has_imported, Errc::invalid_keystore,
              place.what + ": needs either \"material\" or \"aes\" and "
                           "\"hmac\", not both and not neither");
  if (has_material) {
    STEK_TRY_ASSIGN(auto material, secret_field(key, place, "material"));
    return std::variant<Material, ImportedKeys>(Material{std::move(material)});
  }
  STEK_TRY_ASSIGN(auto aes, secret_field(key, place, "aes"));
  STEK_TRY_ASSIGN(auto hmac, secret_field(key, place, "hmac"));
  STEK_TRY(required(key, place, "origin", json::value_t::string, "a string"));
  return std::variant<Material, ImportedKeys>(
    ImportedKeys{std::move(aes), std::move(hmac)});
}

Result<Key> parse_key(json& entry, std::size_t index) {
  Place place{"key #" + std::to_string(index + 1)};
  STEK_ENSURE(entry.is_object(), Errc::invalid_keystore,
              place.what + ": must be an object");
  STEK_TRY_ASSIGN(const json* id_text,
                  required(entry, place, "id", json::value_t::string,
                           "a string"));
  auto id = KeyId::from_hex(id_text->get_ref<const std::string&>());
  if (!id) {
    return field_error(place, "id", "must be 32 hex digits");
  }
  place.what += " (id " + id->hex() + ")";
  STEK_TRY(only_fields(entry, place,
                       {"id", "created", "not_before", "encrypt_until",
                        "decrypt_until", "material", "aes", "hmac", "origin",
                        "revoked"}));
  Key key;
  key.id = *id;
  STEK_TRY_ASSIGN(key.created, time_field(entry, place, "created"));
  STEK_TRY_ASSIGN(key.not_before, time_field(entry, place, "not_before"));
  STEK_TRY_ASSIGN(key.encrypt_until, time_field(entry, place, "encrypt_until"));
  STEK_TRY_ASSIGN(key.decrypt_until, time_field(entry, place, "decrypt_until"));
  STEK_TRY_ASSIGN(key.revoked, parse_revocation(entry, place));
  STEK_TRY_ASSIGN(key.secret, parse_secret(entry, place));
  if (const auto it = entry.find("origin"); it != entry.end()) {
    STEK_ENSURE(it->is_string(), Errc::invalid_keystore,
                field_error(place, "origin", "must be a string").message);
    key.origin = it->get<std::string>();
  }
  return key;
}

// Wipe every secret string still in the DOM (those of keys after a parse
// error, which were never decoded).
void cleanse_secrets(json& root) {
  const auto keys = root.find("keys");
  if (keys == root.end() || !keys->is_array()) {
    return;
  }
  for (auto& entry : *keys) {
    if (!entry.is_object()) {
      continue;
    }
    for (const char* field : {"material", "aes", "hmac"}) {
      const auto it = entry.find(field);
      if (it != entry.end() && it->is_string()) {
        cleanse(it->get_ref<std::string&>());
      }
    }
  }
}

// Describe a JSON syntax error at byte `offset` by position only:
// nlohmann's own message quotes the text around the error, which may be key
// material.
Error syntax_error(std::size_t offset, SecretView bytes) {
  const auto text = bytes.reveal();
  if (offset >= text.size()) {
    return fail(Errc::invalid_keystore,
                "truncated JSON: the file ends before the keystore does");
  }
  std::size_t line = 1;
  std::size_t column = 1;
  for (std::size_t i = 0; i + 1 < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return fail(Errc::invalid_keystore,
              "malformed JSON at line " + std::to_string(line) + ", column " +
                std::to_string(column));
}

// A keystore nests four deep (the top level, "keys", a key, "revoked") and
// none of its objects has more than ten fields. The checking pass and the
// DOM cost memory per level and per field, many times what the text does
// (64 MiB of "[" would take gigabytes), so JSON deeper or wider than this is
// refused before either runs.
constexpr std::size_t k_max_depth = 16;
constexpr std::size_t k_max_fields = 64;

std::string line_and_column(std::span<const std::uint8_t> text,
                            std::size_t index) {
  std::size_t line = 1;
  std::size_t column = 1;
  for (std::size_t i = 0; i < index; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

// Find the first container nested deeper than k_max_depth and the first
// object with more than k_max_fields fields; brackets and commas inside
// strings do not count. Other damage is left to the parser.
Result<void> check_shape(std::span<const std::uint8_t> text) {
  // Per open container: whether it is an object, and the commas seen in it.
  std::array<bool, k_max_depth> is_object{};
  std::array<std::size_t, k_max_depth> commas{};
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i; // the escaped character, perhaps a quote
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
    case '"':
      in_string = true;
      break;
    case '{':
    case '[':
      STEK_ENSURE(depth < k_max_depth, Errc::invalid_keystore,
                  "JSON nested deeper than " + std::to_string(k_max_depth) +
                    " levels at " + line_and_column(text, i) +
                    ": not a keystore");
      is_object[depth] = c == '{';
      commas[depth] = 0;
      ++depth;
      break;
    case '}':
    case ']':
      if (depth > 0) {
        --depth;
      }
      break;
    case ',':
      if (depth > 0 && is_object[depth - 1] &&
          ++commas[depth - 1] >= k_max_fields) {
        return fail(Errc::invalid_keystore,
                    "JSON object with more than " +
                      std::to_string(k_max_fields) + " fields at " +
                      line_and_column(text, i) + ": not a keystore");
      }
      break;
    default:
      break;
    }
  }
  return {};
}

Result<json> parse_json(SecretView bytes) {
  STEK_ENSURE(!bytes.empty(), Errc::invalid_keystore,
              "empty file: not a keystore");
  const auto text = bytes.reveal();
  STEK_TRY(check_shape(text));
  // First a pass that only checks: syntax and repeated fields. The DOM is
  // built only from text known to be well-formed.
  detail::JsonStructureCheck check;
  if (!json::sax_parse(text.begin(), text.end(), &check)) {
    return syntax_error(check.syntax_error_at().value_or(text.size()), bytes);
  }
  STEK_ENSURE(!check.duplicate(), Errc::invalid_keystore, *check.duplicate());
  json root = json::parse(text.begin(), text.end(), nullptr,
                          /*allow_exceptions=*/false);
  STEK_ENSURE(!root.is_discarded(), Errc::invalid_keystore, "malformed JSON");
  return root;
}

Result<Keystore> parse_document(json& root) {
  const Place top{"top level"};
  STEK_ENSURE(root.is_object(), Errc::invalid_keystore,
              "not a keystore: the top level must be a JSON object");
  STEK_TRY(only_fields(root, top,
                       {"stek_keystore", "policy", "keys", "derived"}));
  STEK_TRY_ASSIGN(const json* version,
                  required(root, top, "stek_keystore",
                           json::value_t::number_unsigned, "an integer"));
  STEK_ENSURE(*version == 1, Errc::invalid_keystore,
              "unsupported keystore version " + version->dump() +
                " (field \"stek_keystore\"; this stekctl reads version 1)");
  Keystore keystore;
  STEK_TRY_ASSIGN(keystore.policy, parse_policy(root));
  if (const auto derived = root.find("derived"); derived != root.end()) {
    // Its keys come from the oracle; a "keys" array here would be secrets
    // that no server uses, so it is refused rather than ignored.
    STEK_ENSURE(!root.contains("keys"), Errc::invalid_keystore,
                "top level: a derived keystore has no \"keys\"; its keys "
                "come from the oracle");
    STEK_TRY_ASSIGN(keystore.derivation, detail::parse_derivation(*derived));
    STEK_TRY(keystore.validate());
    return keystore;
  }
  STEK_TRY(required(root, top, "keys", json::value_t::array, "an array"));
  auto& entries = root["keys"];
  keystore.keys.reserve(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    STEK_TRY_ASSIGN(auto key, parse_key(entries[i], i));
    keystore.keys.push_back(std::move(key));
  }
  STEK_TRY(keystore.validate());
  return keystore;
}

} // namespace

Result<Keystore> parse_native_keystore(SecretView bytes,
                                       std::string_view source) {
  auto parsed = [&]() -> Result<Keystore> {
    STEK_TRY_ASSIGN(auto root, parse_json(bytes));
    auto keystore = parse_document(root);
    cleanse_secrets(root);
    return keystore;
  }();
  if (!parsed && !source.empty()) {
    auto error = std::move(parsed).error();
    error.message += " (" + std::string(source) + ")";
    return error;
  }
  return parsed;
}

Result<Keystore> load_native_keystore(const std::filesystem::path& path) {
  STEK_TRY_ASSIGN(auto bytes,
                  read_secret_file(path, k_max_native_keystore_size));
  return parse_native_keystore(bytes.view(), path.string());
}

Result<void> save_native_keystore(const std::filesystem::path& path,
                                  const Keystore& keystore) {
  // Validated again although most keystores were loaded valid: a caller's
  // change must never reach the disk as a keystore no one can read back.
  STEK_TRY(keystore.validate());
  const auto bytes = serialize_native_keystore(keystore);
  return atomic_write(path, bytes.view());
}

} // namespace stek::formats
