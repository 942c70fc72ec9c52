// SPDX-License-Identifier: Apache-2.0
// The PKCS#11 oracle: HMAC-SHA256 (CKM_SHA256_HMAC) with a secret key that
// lives in a token and never leaves it. The module is loaded with dlopen on
// first use, so a host without it can still open keystores that do not need
// it, and a missing module or absent token is an error of one mac() call,
// not of the oracle.
#include <stek/io.hpp>
#include <stek/oracle.hpp>

#include <p11-kit/pkcs11.h>

#include <dlfcn.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

namespace stek {
namespace {

// CK_TOKEN_INFO.label is this many bytes, padded with spaces.
constexpr std::size_t k_token_label_size = 32;
// A PIN file is one short line; anything bigger is a misconfiguration.
constexpr std::size_t k_pin_file_max = 4096;

std::string rv_name(CK_RV rv) {
  switch (rv) {
#define STEK_CKR(name)                                                         \
  case name:                                                                   \
    return #name;
    STEK_CKR(CKR_OK)
    STEK_CKR(CKR_HOST_MEMORY)
    STEK_CKR(CKR_SLOT_ID_INVALID)
    STEK_CKR(CKR_GENERAL_ERROR)
    STEK_CKR(CKR_FUNCTION_FAILED)
    STEK_CKR(CKR_ARGUMENTS_BAD)
    STEK_CKR(CKR_CANT_LOCK)
    STEK_CKR(CKR_ATTRIBUTE_SENSITIVE)
    STEK_CKR(CKR_ATTRIBUTE_TYPE_INVALID)
    STEK_CKR(CKR_DATA_LEN_RANGE)
    STEK_CKR(CKR_DEVICE_ERROR)
    STEK_CKR(CKR_DEVICE_MEMORY)
    STEK_CKR(CKR_DEVICE_REMOVED)
    STEK_CKR(CKR_FUNCTION_CANCELED)
    STEK_CKR(CKR_FUNCTION_NOT_SUPPORTED)
    STEK_CKR(CKR_KEY_HANDLE_INVALID)
    STEK_CKR(CKR_KEY_SIZE_RANGE)
    STEK_CKR(CKR_KEY_TYPE_INCONSISTENT)
    STEK_CKR(CKR_KEY_FUNCTION_NOT_PERMITTED)
    STEK_CKR(CKR_MECHANISM_INVALID)
    STEK_CKR(CKR_MECHANISM_PARAM_INVALID)
    STEK_CKR(CKR_OBJECT_HANDLE_INVALID)
    STEK_CKR(CKR_OPERATION_ACTIVE)
    STEK_CKR(CKR_OPERATION_NOT_INITIALIZED)
    STEK_CKR(CKR_PIN_INCORRECT)
    STEK_CKR(CKR_PIN_INVALID)
    STEK_CKR(CKR_PIN_LEN_RANGE)
    STEK_CKR(CKR_PIN_EXPIRED)
    STEK_CKR(CKR_PIN_LOCKED)
    STEK_CKR(CKR_SESSION_CLOSED)
    STEK_CKR(CKR_SESSION_COUNT)
    STEK_CKR(CKR_SESSION_HANDLE_INVALID)
    STEK_CKR(CKR_TOKEN_NOT_PRESENT)
    STEK_CKR(CKR_TOKEN_NOT_RECOGNIZED)
    STEK_CKR(CKR_USER_ALREADY_LOGGED_IN)
    STEK_CKR(CKR_USER_NOT_LOGGED_IN)
    STEK_CKR(CKR_USER_PIN_NOT_INITIALIZED)
    STEK_CKR(CKR_USER_TYPE_INVALID)
    STEK_CKR(CKR_BUFFER_TOO_SMALL)
    STEK_CKR(CKR_CRYPTOKI_NOT_INITIALIZED)
    STEK_CKR(CKR_CRYPTOKI_ALREADY_INITIALIZED)
#undef STEK_CKR
  default:
    break;
  }
  char text[32];
  std::snprintf(text, sizeof text, "CKR_0x%lx", rv);
  return text;
}

// An Errc::oracle error for a PKCS#11 call that returned `rv`.
Error call_failed(const std::string& what, CK_RV rv) {
  return fail(Errc::oracle, what + " (" + rv_name(rv) + ")");
}

// A loaded and initialized module. One per dlopen handle in the process:
// several oracles on the same module share it, since C_Initialize and
// C_Finalize act on the whole process, and the login state of a token is
// shared by all sessions of the application.
struct Module {
  void* handle = nullptr;
  CK_FUNCTION_LIST* functions = nullptr;
  // False when someone else in the process had initialized the module; it
  // is theirs to finalize.
  bool finalize = false;
  std::size_t users = 0;
  // Held for a whole mac(): one oracle's C_Logout must not log out another
  // oracle between its C_Login and C_Sign.
  std::mutex operation;
};

// The registry is never destroyed: an oracle in a static object may be
// released after function-local statics are gone at exit.
std::mutex& registry_mutex() {
  static auto* mutex = new std::mutex;
  return *mutex;
}

std::map<void*, std::unique_ptr<Module>>& registry() {
  static auto* modules = new std::map<void*, std::unique_ptr<Module>>;
  return *modules;
}

// A share of a Module; the last one finalizes and unloads it.
class ModuleLease {
public:
  static Result<ModuleLease> acquire(const std::string& path);

  ModuleLease(ModuleLease&& other) noexcept
    : m_module(std::exchange(other.m_module, nullptr)) {}
  ModuleLease& operator=(ModuleLease&&) = delete;
  ModuleLease(const ModuleLease&) = delete;
  ModuleLease& operator=(const ModuleLease&) = delete;
  ~ModuleLease() { release(); }

  Module& operator*() const { return *m_module; }
  Module* operator->() const { return m_module; }

private:
  explicit ModuleLease(Module* module) : m_module(module) {}
  void release();

  Module* m_module = nullptr;
};

Result<ModuleLease> ModuleLease::acquire(const std::string& path) {
  const std::lock_guard lock(registry_mutex());
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    // dlerror names the file and says why, e.g. "cannot open shared
    // object file: No such file or directory".
    return fail(Errc::oracle, std::string("cannot load the PKCS#11 module: ") +
                                (why != nullptr ? why : path + ": dlopen failed"));
  }
  if (auto found = registry().find(handle); found != registry().end()) {
    // Already ours: drop the reference this dlopen added.
    ::dlclose(handle);
    ++found->second->users;
    return ModuleLease(found->second.get());
  }
  auto* get_list = reinterpret_cast<CK_C_GetFunctionList>(
    ::dlsym(handle, "C_GetFunctionList"));
  if (get_list == nullptr) {
    ::dlclose(handle);
    return fail(Errc::oracle, "the PKCS#11 module " + path +
                                " has no C_GetFunctionList");
  }
  CK_FUNCTION_LIST* functions = nullptr;
  if (const CK_RV rv = get_list(&functions); rv != CKR_OK || functions == nullptr) {
    ::dlclose(handle);
    return call_failed("C_GetFunctionList of " + path + " failed", rv);
  }
  // The module does its own locking with the OS's primitives; we pass no
  // mutex callbacks.
  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  const CK_RV rv = functions->C_Initialize(&args);
  if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
    ::dlclose(handle);
    return call_failed("C_Initialize of " + path + " failed", rv);
  }
  auto module = std::make_unique<Module>();
  module->handle = handle;
  module->functions = functions;
  module->finalize = rv == CKR_OK;
  module->users = 1;
  Module* lent = module.get();
  registry().emplace(handle, std::move(module));
  return ModuleLease(lent);
}

void ModuleLease::release() {
  if (m_module == nullptr) {
    return;
  }
  const std::lock_guard lock(registry_mutex());
  if (--m_module->users == 0) {
    if (m_module->finalize) {
      m_module->functions->C_Finalize(nullptr);
    }
    void* handle = m_module->handle;
    registry().erase(handle);
    ::dlclose(handle);
  }
  m_module = nullptr;
}

// An open session, logged out (if we logged in) and closed on destruction,
// so that every failure path leaves the token as it found it.
class Session {
public:
  Session(CK_FUNCTION_LIST* functions, CK_SESSION_HANDLE handle)
    : m_functions(functions), m_handle(handle) {}
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session() {
    if (m_logged_in) {
      m_functions->C_Logout(m_handle);
    }
    m_functions->C_CloseSession(m_handle);
  }

  CK_SESSION_HANDLE handle() const { return m_handle; }
  void set_logged_in() { m_logged_in = true; }

private:
  CK_FUNCTION_LIST* m_functions;
  CK_SESSION_HANDLE m_handle;
  bool m_logged_in = false;
};

// Return `label` padded with spaces as CK_TOKEN_INFO.label holds it.
std::string padded_label(const std::string& label) {
  std::string padded = label;
  padded.resize(k_token_label_size, ' ');
  return padded;
}

// Return the first line of `contents` without its line ending.
SecretBytes first_line(const SecretBytes& contents) {
  const auto bytes = contents.reveal();
  auto end = std::find(bytes.begin(), bytes.end(), std::uint8_t{'\n'});
  if (end != bytes.begin() && *(end - 1) == '\r') {
    --end;
  }
  return SecretBytes::copy_of(
    bytes.first(static_cast<std::size_t>(end - bytes.begin())));
}

Result<SecretBytes> read_pin_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return fail(Errc::oracle, "cannot read the PIN file " + path + ": " +
                                std::strerror(errno));
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
    return fail(Errc::permission,
                "the PIN file " + path + " is accessible by group or others (mode " +
                  mode + "); run 'chmod 600 " + path + "'");
  }
  auto contents = read_secret_file(path, k_pin_file_max);
  if (!contents.ok()) {
    return fail(Errc::oracle,
                "cannot read the PIN file: " + contents.error().message);
  }
  SecretBytes pin = first_line(*contents);
  STEK_ENSURE(!pin.empty(), Errc::oracle,
              "the PIN file " + path + " has an empty first line");
  return pin;
}

Result<SecretBytes> read_pin_env(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  STEK_ENSURE(value != nullptr && *value != '\0', Errc::oracle,
              "the PIN variable " + name + " is unset or empty");
  // The environment's copy is not ours to wipe.
  return SecretBytes::copy_of(std::span<const std::uint8_t>(
    reinterpret_cast<const std::uint8_t*>(value), std::strlen(value)));
}

class Pkcs11Oracle final : public MacOracle {
public:
  explicit Pkcs11Oracle(Pkcs11OracleConfig config)
    : m_config(std::move(config)) {}

  Result<SecretBytes> mac(std::span<const std::uint8_t> message) override {
    auto result = mac_unprefixed(message);
    if (!result.ok()) {
      Error error = std::move(result).error();
      error.message = describe() + ": " + error.message;
      return error;
    }
    return result;
  }

  std::string describe() const override {
    return "pkcs11 oracle (module " + m_config.module + ", token " +
           m_config.token + ", key " + m_config.key + ")";
  }

private:
  Result<SecretBytes> mac_unprefixed(std::span<const std::uint8_t> message);
  Result<CK_SLOT_ID> find_slot(CK_FUNCTION_LIST* p11) const;
  Result<SecretBytes> read_pin() const;
  Result<void> login(CK_FUNCTION_LIST* p11, Session& session) const;
  Result<CK_OBJECT_HANDLE> find_key(CK_FUNCTION_LIST* p11,
                                    const Session& session) const;
  Result<void> check_key(CK_FUNCTION_LIST* p11, const Session& session,
                         CK_OBJECT_HANDLE key) const;
  Result<SecretBytes> sign(CK_FUNCTION_LIST* p11, const Session& session,
                           CK_OBJECT_HANDLE key,
                           std::span<const std::uint8_t> message) const;

  Pkcs11OracleConfig m_config;
  // Guards the lazy load; callers serialize mac() anyway.
  std::mutex m_mutex;
  std::optional<ModuleLease> m_module;
};

Result<SecretBytes> Pkcs11Oracle::mac_unprefixed(std::span<const std::uint8_t> message) {
  const std::lock_guard lock(m_mutex);
  if (!m_module) {
    // A failed load leaves m_module empty, so the next call tries again.
    STEK_TRY_ASSIGN(auto lease, ModuleLease::acquire(m_config.module));
    m_module.emplace(std::move(lease));
  }
  bool token_missing = false;
  auto result = [&]() -> Result<SecretBytes> {
    Module& module = **m_module;
    const std::lock_guard operation(module.operation);
    CK_FUNCTION_LIST* p11 = module.functions;

    auto slot = find_slot(p11);
    if (!slot) {
      token_missing = true;
      return std::move(slot).error();
    }
    CK_SESSION_HANDLE handle = CK_INVALID_HANDLE;
    if (const CK_RV rv = p11->C_OpenSession(*slot, CKF_SERIAL_SESSION, nullptr,
                                            nullptr, &handle);
        rv != CKR_OK) {
      return call_failed("cannot open a session", rv);
    }
    Session session(p11, handle);
    STEK_TRY(login(p11, session));
    STEK_TRY_ASSIGN(const CK_OBJECT_HANDLE key, find_key(p11, session));
    STEK_TRY(check_key(p11, session, key));
    return sign(p11, session, key, message);
  }();
  if (token_missing) {
    // Some modules read their token list only in C_Initialize: SoftHSM2,
    // started while another process held the token, may list none and
    // never look again. Dropping this lease (the last one finalizes the
    // module) makes the next call initialize it afresh.
    m_module.reset();
  }
  return result;
}

Result<CK_SLOT_ID> Pkcs11Oracle::find_slot(CK_FUNCTION_LIST* p11) const {
  CK_ULONG count = 0;
  if (const CK_RV rv = p11->C_GetSlotList(CK_TRUE, nullptr, &count); rv != CKR_OK) {
    return call_failed("cannot list the slots", rv);
  }
  std::vector<CK_SLOT_ID> slots(count);
  if (count > 0) {
    if (const CK_RV rv = p11->C_GetSlotList(CK_TRUE, slots.data(), &count);
        rv != CKR_OK) {
      return call_failed("cannot list the slots", rv);
    }
    slots.resize(count);
  }
  const std::string wanted = padded_label(m_config.token);
  for (const CK_SLOT_ID slot : slots) {
    CK_TOKEN_INFO info{};
    // A slot whose token went away since the listing is simply not it.
    if (p11->C_GetTokenInfo(slot, &info) != CKR_OK) {
      continue;
    }
    if (std::memcmp(info.label, wanted.data(), k_token_label_size) == 0) {
      return slot;
    }
  }
  return fail(Errc::oracle, "no token labelled '" + m_config.token +
                              "' among " + std::to_string(slots.size()) +
                              " slot(s) with a token (CKR_TOKEN_NOT_PRESENT)");
}

Result<SecretBytes> Pkcs11Oracle::read_pin() const {
  if (m_config.pin_file) {
    return read_pin_file(*m_config.pin_file);
  }
  return read_pin_env(*m_config.pin_env);
}

Result<void> Pkcs11Oracle::login(CK_FUNCTION_LIST* p11, Session& session) const {
  STEK_TRY_ASSIGN(SecretBytes pin, read_pin());
  const CK_RV rv = p11->C_Login(session.handle(), CKU_USER,
                                pin.reveal_mutable().data(), pin.size());
  if (rv == CKR_USER_ALREADY_LOGGED_IN) {
    // Someone else in this process logged in; logging out is theirs.
    return {};
  }
  if (rv != CKR_OK) {
    return call_failed("cannot log in to token '" + m_config.token + "'", rv);
  }
  session.set_logged_in();
  return {};
}

Result<CK_OBJECT_HANDLE> Pkcs11Oracle::find_key(CK_FUNCTION_LIST* p11,
                                                const Session& session) const {
  CK_OBJECT_CLASS key_class = CKO_SECRET_KEY;
  std::string label = m_config.key;
  CK_ATTRIBUTE wanted[] = {
    {CKA_CLASS, &key_class, sizeof key_class},
    {CKA_LABEL, label.data(), label.size()},
  };
  if (const CK_RV rv = p11->C_FindObjectsInit(session.handle(), wanted, 2);
      rv != CKR_OK) {
    return call_failed("cannot search for key '" + m_config.key + "'", rv);
  }
  // Two are enough to tell one from several.
  CK_OBJECT_HANDLE found[2] = {CK_INVALID_HANDLE, CK_INVALID_HANDLE};
  CK_ULONG count = 0;
  const CK_RV rv = p11->C_FindObjects(session.handle(), found, 2, &count);
  p11->C_FindObjectsFinal(session.handle());
  if (rv != CKR_OK) {
    return call_failed("cannot search for key '" + m_config.key + "'", rv);
  }
  STEK_ENSURE(count != 0, Errc::oracle,
              "no secret key labelled '" + m_config.key + "' in token '" +
                m_config.token + "'");
  STEK_ENSURE(count == 1, Errc::oracle,
              "more than one secret key labelled '" + m_config.key +
                "' in token '" + m_config.token + "'");
  return found[0];
}

Result<void> Pkcs11Oracle::check_key(CK_FUNCTION_LIST* p11, const Session& session,
                                     CK_OBJECT_HANDLE key) const {
  CK_BBOOL sensitive = CK_FALSE;
  CK_BBOOL extractable = CK_TRUE;
  CK_ATTRIBUTE attributes[] = {
    {CKA_SENSITIVE, &sensitive, sizeof sensitive},
    {CKA_EXTRACTABLE, &extractable, sizeof extractable},
  };
  if (const CK_RV rv =
        p11->C_GetAttributeValue(session.handle(), key, attributes, 2);
      rv != CKR_OK) {
    return call_failed("cannot read the attributes of key '" + m_config.key + "'",
                       rv);
  }
  // A key that can be read out of the token is no better than a key in a
  // file; the point of the oracle is that the STEK secret stays inside.
  const std::string fix = "; create it with CKA_SENSITIVE=true and "
                          "CKA_EXTRACTABLE=false";
  STEK_ENSURE(extractable == CK_FALSE, Errc::oracle,
              "key '" + m_config.key + "' is extractable" + fix);
  STEK_ENSURE(sensitive == CK_TRUE, Errc::oracle,
              "key '" + m_config.key + "' is not sensitive" + fix);
  return {};
}

Result<SecretBytes> Pkcs11Oracle::sign(CK_FUNCTION_LIST* p11, const Session& session,
                                       CK_OBJECT_HANDLE key,
                                       std::span<const std::uint8_t> message) const {
  CK_MECHANISM mechanism{CKM_SHA256_HMAC, nullptr, 0};
  if (const CK_RV rv = p11->C_SignInit(session.handle(), &mechanism, key);
      rv != CKR_OK) {
    return call_failed("C_SignInit with CKM_SHA256_HMAC and key '" +
                         m_config.key + "' failed",
                       rv);
  }
  SecretBytes mac(k_mac_size);
  CK_ULONG size = mac.size();
  // PKCS#11 predates const; C_Sign does not write the message. An empty
  // span may have no pointer, which modules (SoftHSM) refuse with
  // CKR_ARGUMENTS_BAD even for a length of 0.
  std::uint8_t none = 0;
  auto* data = message.empty() ? &none : const_cast<std::uint8_t*>(message.data());
  if (const CK_RV rv = p11->C_Sign(session.handle(), data, message.size(),
                                   mac.reveal_mutable().data(), &size);
      rv != CKR_OK) {
    // CKR_BUFFER_TOO_SMALL leaves the operation active; closing the
    // session ends it.
    return call_failed("C_Sign with key '" + m_config.key + "' failed", rv);
  }
  STEK_ENSURE(size == k_mac_size, Errc::oracle,
              "C_Sign returned " + std::to_string(size) + " bytes, not " +
                std::to_string(k_mac_size));
  return mac;
}

Result<void> require(const std::string& value, const char* field) {
  STEK_ENSURE(!value.empty(), Errc::invalid_argument,
              std::string(field) + ": must not be empty");
  return {};
}

} // namespace

Result<std::unique_ptr<MacOracle>> open_pkcs11_oracle(Pkcs11OracleConfig config) {
  STEK_TRY(require(config.module, "derived.oracle.module"));
  STEK_TRY(require(config.token, "derived.oracle.token"));
  STEK_TRY(require(config.key, "derived.oracle.key"));
  STEK_ENSURE(config.token.size() <= k_token_label_size, Errc::invalid_argument,
              "derived.oracle.token: longer than a token label's " +
                std::to_string(k_token_label_size) + " bytes");
  STEK_ENSURE(config.pin_file.has_value() != config.pin_env.has_value(),
              Errc::invalid_argument,
              "derived.oracle.pin_file, derived.oracle.pin_env: exactly one "
              "must be given");
  if (config.pin_file) {
    STEK_TRY(require(*config.pin_file, "derived.oracle.pin_file"));
  }
  if (config.pin_env) {
    STEK_TRY(require(*config.pin_env, "derived.oracle.pin_env"));
  }
  return std::unique_ptr<MacOracle>(new Pkcs11Oracle(std::move(config)));
}

} // namespace stek
