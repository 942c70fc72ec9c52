// SPDX-License-Identifier: Apache-2.0
#include "interop/harness/stekctl.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <regex>
#include <system_error>
#include <utility>

namespace stek::interop {

std::string utc_in(std::chrono::seconds offset) {
  const auto now =
    std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  return stek::test::format_utc(now + offset);
}

std::string utc_plus(const std::string& time, std::chrono::seconds offset) {
  return stek::test::format_utc(stek::test::parse_utc(time) + offset);
}

void require_ok(const ProcessResult& r) {
  REQUIRE_MESSAGE(r.code == 0, describe(r));
}

std::map<std::string, FileState> snapshot(const fs::path& dir) {
  std::map<std::string, FileState> out;
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    return out;
  }
  if (fs::is_regular_file(dir, ec)) {
    out[dir.filename().string()] = {read_file(dir), stek::test::file_mode(dir)};
    return out;
  }
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    const auto rel = fs::relative(entry.path(), dir).string();
    if (entry.path().extension() == ".lock") {
      continue;
    }
    if (entry.is_regular_file()) {
      out[rel] = {read_file(entry.path()), stek::test::file_mode(entry.path())};
    } else {
      out[rel + "/"] = {"", stek::test::file_mode(entry.path())};
    }
  }
  return out;
}

ProcessResult stekctl_at(const std::string& at, std::vector<std::string> args) {
  if (!at.empty()) {
    args.insert(args.begin(), {"--at", at});
  }
  return stekctl(std::move(args));
}

void generate_keystore(const fs::path& keystore, const std::string& at) {
  require_ok(stekctl_at(at, {"generate", keystore.string()}));
}

void export_keys(const fs::path& keystore, const std::string& format,
                 const fs::path& out, const std::string& at) {
  require_ok(stekctl_at(at, {"export", keystore.string(), "--format", format, "--out",
                             out.string()}));
}

std::vector<ListedKey> list_keys(const fs::path& keystore, const std::string& at) {
  std::vector<std::string> args;
  if (!at.empty()) {
    args.insert(args.end(), {"--at", at});
  }
  args.insert(args.end(), {"--json", "list", keystore.string()});
  const auto r = stekctl(args);
  REQUIRE_MESSAGE(r.code == 0, describe(r));
  const auto doc = stek::test::parse_json(r.out);
  REQUIRE_MESSAGE(doc.is_object(), "list --json printed no JSON object:\n" << r.out);
  std::vector<ListedKey> out;
  for (const auto& key : doc.at("keys")) {
    ListedKey k;
    k.id = key.at("id").get<std::string>();
    k.state = key.at("state").get<std::string>();
    k.encrypting = key.at("encrypting").get<bool>();
    k.not_before = key.value("not_before", "");
    k.encrypt_until = key.value("encrypt_until", "");
    k.decrypt_until = key.value("decrypt_until", "");
    out.push_back(std::move(k));
  }
  return out;
}

ListedKey find_key(const std::vector<ListedKey>& keys, const std::string& id) {
  for (const auto& k : keys) {
    if (k.id == id) {
      return k;
    }
  }
  FAIL("no key " << id << " in the keystore");
  return {};
}

std::string encrypting_id(const fs::path& keystore, const std::string& at) {
  std::vector<std::string> ids;
  for (const auto& k : list_keys(keystore, at)) {
    if (k.encrypting) {
      ids.push_back(k.id);
    }
  }
  REQUIRE_MESSAGE(ids.size() == 1, ids.size() << " keys marked encrypting");
  return ids.front();
}

std::vector<fs::path> nginx_conf_keys(const fs::path& conf) {
  static const std::regex directive(R"(\s*ssl_session_ticket_key\s+([^;\s]+)\s*;\s*)");
  std::vector<fs::path> out;
  for (const auto& text : lines_of(read_file(conf))) {
    std::smatch m;
    if (std::regex_match(text, m, directive)) {
      out.emplace_back(m[1].str());
    }
  }
  return out;
}

std::vector<Bytes> haproxy_lines(const fs::path& file) {
  std::vector<Bytes> out;
  for (const auto& line : lines_of(read_file(file))) {
    const auto decoded = base64_decode(line);
    REQUIRE_MESSAGE(decoded.has_value(), "not base64: \"" << line << "\" in " << file);
    out.push_back(*decoded);
  }
  return out;
}

void write_haproxy_lines(const fs::path& file, const std::vector<Bytes>& keys) {
  std::string text;
  for (const auto& key : keys) {
    text += base64_encode(key) + "\n";
  }
  write_file(file, text, 0600);
}

} // namespace stek::interop
