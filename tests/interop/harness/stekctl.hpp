// SPDX-License-Identifier: Apache-2.0
#pragma once

// stekctl and its outputs: stekctl() (process.hpp), stekctl_at(at, args),
// generate_keystore(), export_keys(), require_ok(), list_keys(),
// find_key(), encrypting_id(), utc_in(offset), utc_plus(time, offset),
// nginx_conf_keys(conf), haproxy_lines(file), write_haproxy_lines(),
// snapshot(dir) for "nothing was written" checks. How --at and the
// servers' real clock go together: see interop/harness.hpp.

#include "interop/harness/common.hpp"

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace stek::interop {

// The time `offset` from now, in stekctl's format, whole seconds.
std::string utc_in(std::chrono::seconds offset);

// Add `offset` to a stekctl time.
std::string utc_plus(const std::string& time, std::chrono::seconds offset);

// REQUIRE that a stekctl (or other) run succeeded, showing what it printed.
void require_ok(const ProcessResult& r);

// Every regular file under `dir` (relative path -> contents and mode), for
// checking that a failed command wrote nothing. Empty if `dir` is missing.
// Lock files (NAME.lock, which stekctl's flock leaves in place by design)
// are left out.
struct FileState {
  Bytes contents;
  mode_t mode = 0;
  bool operator==(const FileState&) const = default;
};
std::map<std::string, FileState> snapshot(const fs::path& dir);

// `stekctl [--at AT] ARGS...` (no --at if `at` is empty).
ProcessResult stekctl_at(const std::string& at, std::vector<std::string> args);

// `stekctl --at AT generate KEYSTORE`: its first key is active from AT
// (pass a time in the past to have a key that encrypts now).
void generate_keystore(const fs::path& keystore, const std::string& at);

// `stekctl [--at AT] export KEYSTORE --format FORMAT --out OUT`, required
// to succeed.
void export_keys(const fs::path& keystore, const std::string& format,
                 const fs::path& out, const std::string& at = "");

struct ListedKey {
  std::string id;
  std::string state;
  bool encrypting = false;
  std::string not_before, encrypt_until, decrypt_until;
};

// `stekctl [--at AT] list --json KEYSTORE`.
std::vector<ListedKey> list_keys(const fs::path& keystore, const std::string& at = "");

// The key `id` of `keys`; FAIL()s if there is none.
ListedKey find_key(const std::vector<ListedKey>& keys, const std::string& id);

// The id `list --json` marks encrypting (exactly one must be).
std::string encrypting_id(const fs::path& keystore, const std::string& at = "");

// The key files an nginx snippet (ssl_session_tickets.conf) loads, in order.
std::vector<fs::path> nginx_conf_keys(const fs::path& conf);

// The decoded lines of a HAProxy tls-ticket-keys file.
std::vector<Bytes> haproxy_lines(const fs::path& file);

// Write `keys` as a HAProxy tls-ticket-keys file, one base64 line each.
void write_haproxy_lines(const fs::path& file, const std::vector<Bytes>& keys);

} // namespace stek::interop
