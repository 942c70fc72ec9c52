// SPDX-License-Identifier: Apache-2.0
// stek-test-hsm: sets up SoftHSM2 tokens and keys for the PKCS#11 oracle
// tests, with raw PKCS#11 through dlopen so that it shares no code with the
// oracle it helps to test.
//
//   stek-test-hsm init --dir DIR --token LABEL --pin-file F --so-pin-file F
//                      [--module M]
//   stek-test-hsm create-key --module M --token LABEL --pin-file F
//                      --label KEY (--generate | --value-hex HEX)
//                      [--extractable] [--key-type generic|sha256-hmac]
//                      [--not-sensitive] [--allow-duplicate]
//   stek-test-hsm show-key --module M --token LABEL --pin-file F --label KEY
//
// init writes DIR/softhsm2.conf, initializes a token in it and prints the
// path of the configuration; the other commands find it, as SoftHSM does,
// through SOFTHSM2_CONF. PINs come from files, never the command line.
#include <p11-kit/pkcs11.h>

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

constexpr const char* k_softhsm_module = "/usr/lib/softhsm/libsofthsm2.so";
constexpr std::size_t k_key_size = 32;

std::string rv_name(CK_RV rv) {
  static const std::map<CK_RV, const char*> names = {
    {CKR_OK, "CKR_OK"},
    {CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR"},
    {CKR_FUNCTION_FAILED, "CKR_FUNCTION_FAILED"},
    {CKR_ARGUMENTS_BAD, "CKR_ARGUMENTS_BAD"},
    {CKR_ATTRIBUTE_SENSITIVE, "CKR_ATTRIBUTE_SENSITIVE"},
    {CKR_ATTRIBUTE_TYPE_INVALID, "CKR_ATTRIBUTE_TYPE_INVALID"},
    {CKR_ATTRIBUTE_VALUE_INVALID, "CKR_ATTRIBUTE_VALUE_INVALID"},
    {CKR_KEY_SIZE_RANGE, "CKR_KEY_SIZE_RANGE"},
    {CKR_MECHANISM_INVALID, "CKR_MECHANISM_INVALID"},
    {CKR_PIN_INCORRECT, "CKR_PIN_INCORRECT"},
    {CKR_PIN_LEN_RANGE, "CKR_PIN_LEN_RANGE"},
    {CKR_SESSION_READ_ONLY, "CKR_SESSION_READ_ONLY"},
    {CKR_TEMPLATE_INCOMPLETE, "CKR_TEMPLATE_INCOMPLETE"},
    {CKR_TEMPLATE_INCONSISTENT, "CKR_TEMPLATE_INCONSISTENT"},
    {CKR_TOKEN_NOT_PRESENT, "CKR_TOKEN_NOT_PRESENT"},
    {CKR_USER_NOT_LOGGED_IN, "CKR_USER_NOT_LOGGED_IN"},
    {CKR_CRYPTOKI_ALREADY_INITIALIZED, "CKR_CRYPTOKI_ALREADY_INITIALIZED"},
  };
  if (const auto found = names.find(rv); found != names.end()) {
    return found->second;
  }
  char text[32];
  std::snprintf(text, sizeof text, "CKR_0x%lx", rv);
  return text;
}

void check(CK_RV rv, const std::string& what) {
  if (rv != CKR_OK) {
    throw std::runtime_error(what + " failed (" + rv_name(rv) + ")");
  }
}

struct Usage : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// --name value options and --flag switches.
class Args {
public:
  Args(int argc, char** argv) {
    for (int i = 2; i < argc; ++i) {
      const std::string arg = argv[i];
      if (!arg.starts_with("--")) {
        throw Usage("unexpected argument " + arg);
      }
      const std::string name = arg.substr(2);
      if (name == "generate" || name == "extractable" ||
          name == "allow-duplicate" || name == "not-sensitive") {
        m_values[name] = "";
      } else if (i + 1 < argc) {
        m_values[name] = argv[++i];
      } else {
        throw Usage(arg + " needs a value");
      }
    }
  }
  bool has(const std::string& name) const { return m_values.contains(name); }
  std::string get(const std::string& name) const {
    const auto found = m_values.find(name);
    if (found == m_values.end()) {
      throw Usage("--" + name + " is required");
    }
    return found->second;
  }
  std::string get_or(const std::string& name, const std::string& fallback) const {
    return has(name) ? get(name) : fallback;
  }

private:
  std::map<std::string, std::string> m_values;
};

std::string read_pin(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) {
    throw std::runtime_error("cannot read the PIN file " + path);
  }
  if (!line.empty() && line.back() == '\r') {
    line.pop_back();
  }
  return line;
}

CK_UTF8CHAR_PTR utf8(std::string& text) {
  return reinterpret_cast<CK_UTF8CHAR_PTR>(text.data());
}

// The module, loaded and initialized for the life of the program.
class Module {
public:
  explicit Module(const std::string& path) {
    m_handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (m_handle == nullptr) {
      throw std::runtime_error("cannot load " + path + ": " + ::dlerror());
    }
    auto* get_list = reinterpret_cast<CK_C_GetFunctionList>(
      ::dlsym(m_handle, "C_GetFunctionList"));
    if (get_list == nullptr) {
      throw std::runtime_error(path + " has no C_GetFunctionList");
    }
    check(get_list(&m_p11), "C_GetFunctionList");
    CK_C_INITIALIZE_ARGS args{};
    args.flags = CKF_OS_LOCKING_OK;
    check(m_p11->C_Initialize(&args), "C_Initialize");
  }
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  ~Module() {
    m_p11->C_Finalize(nullptr);
    ::dlclose(m_handle);
  }
  CK_FUNCTION_LIST* operator->() const { return m_p11; }
  CK_FUNCTION_LIST* get() const { return m_p11; }

  std::vector<CK_SLOT_ID> slots() const {
    CK_ULONG count = 0;
    check(m_p11->C_GetSlotList(CK_TRUE, nullptr, &count), "C_GetSlotList");
    std::vector<CK_SLOT_ID> slots(count);
    check(m_p11->C_GetSlotList(CK_TRUE, slots.data(), &count), "C_GetSlotList");
    slots.resize(count);
    return slots;
  }

  CK_SLOT_ID slot_of(const std::string& label) const {
    const std::string padded = pad(label);
    for (const CK_SLOT_ID slot : slots()) {
      CK_TOKEN_INFO info{};
      if (m_p11->C_GetTokenInfo(slot, &info) == CKR_OK &&
          std::memcmp(info.label, padded.data(), padded.size()) == 0) {
        return slot;
      }
    }
    throw std::runtime_error("no token labelled " + label);
  }

  CK_SLOT_ID free_slot() const {
    for (const CK_SLOT_ID slot : slots()) {
      CK_TOKEN_INFO info{};
      if (m_p11->C_GetTokenInfo(slot, &info) == CKR_OK &&
          (info.flags & CKF_TOKEN_INITIALIZED) == 0) {
        return slot;
      }
    }
    throw std::runtime_error("no free slot to initialize a token in");
  }

  static std::string pad(std::string label) {
    if (label.size() > 32) {
      throw Usage("a token label is at most 32 bytes");
    }
    label.resize(32, ' ');
    return label;
  }

private:
  void* m_handle = nullptr;
  CK_FUNCTION_LIST* m_p11 = nullptr;
};

// A session logged in as `user`, logged out and closed at the end.
class Session {
public:
  Session(const Module& module, CK_SLOT_ID slot, CK_FLAGS flags,
          CK_USER_TYPE user, std::string pin)
    : m_p11(module.get()) {
    check(m_p11->C_OpenSession(slot, flags | CKF_SERIAL_SESSION, nullptr,
                               nullptr, &m_handle),
          "C_OpenSession");
    const CK_RV rv = m_p11->C_Login(m_handle, user, utf8(pin), pin.size());
    if (rv != CKR_OK) {
      m_p11->C_CloseSession(m_handle);
      check(rv, "C_Login");
    }
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session() {
    m_p11->C_Logout(m_handle);
    m_p11->C_CloseSession(m_handle);
  }
  CK_SESSION_HANDLE handle() const { return m_handle; }

  std::vector<CK_OBJECT_HANDLE> find_keys(std::string label) const {
    CK_OBJECT_CLASS key_class = CKO_SECRET_KEY;
    CK_ATTRIBUTE wanted[] = {
      {CKA_CLASS, &key_class, sizeof key_class},
      {CKA_LABEL, label.data(), label.size()},
    };
    check(m_p11->C_FindObjectsInit(m_handle, wanted, 2), "C_FindObjectsInit");
    std::vector<CK_OBJECT_HANDLE> found(16);
    CK_ULONG count = 0;
    const CK_RV rv = m_p11->C_FindObjects(m_handle, found.data(), found.size(), &count);
    m_p11->C_FindObjectsFinal(m_handle);
    check(rv, "C_FindObjects");
    found.resize(count);
    return found;
  }

private:
  CK_FUNCTION_LIST* m_p11;
  CK_SESSION_HANDLE m_handle = CK_INVALID_HANDLE;
};

int init(const Args& args) {
  const std::filesystem::path dir = std::filesystem::absolute(args.get("dir"));
  const std::string label = args.get("token");
  std::string pin = read_pin(args.get("pin-file"));
  std::string so_pin = read_pin(args.get("so-pin-file"));
  std::filesystem::create_directories(dir / "tokens");
  const auto conf = dir / "softhsm2.conf";
  {
    std::ofstream out(conf, std::ios::trunc);
    out << "directories.tokendir = " << (dir / "tokens").string() << "\n"
        << "objectstore.backend = file\n"
        << "log.level = ERROR\n";
    if (!out.flush()) {
      throw std::runtime_error("cannot write " + conf.string());
    }
  }
  ::setenv("SOFTHSM2_CONF", conf.c_str(), 1);
  const Module module(args.get_or("module", k_softhsm_module));
  const CK_SLOT_ID slot = module.free_slot();
  std::string padded = Module::pad(label);
  check(module->C_InitToken(slot, utf8(so_pin), so_pin.size(), utf8(padded)),
        "C_InitToken");
  // SoftHSM gives the new token another slot ID at the next listing, but
  // the old one stays valid until then.
  const Session session(module, slot, CKF_RW_SESSION, CKU_SO, so_pin);
  check(module->C_InitPIN(session.handle(), utf8(pin), pin.size()), "C_InitPIN");
  std::cout << conf.string() << "\n";
  return 0;
}

std::vector<CK_BYTE> from_hex(const std::string& hex) {
  if (hex.size() % 2 != 0) {
    throw Usage("--value-hex needs an even number of digits");
  }
  std::vector<CK_BYTE> bytes;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    bytes.push_back(static_cast<CK_BYTE>(std::stoul(hex.substr(i, 2), nullptr, 16)));
  }
  return bytes;
}

int create_key(const Args& args) {
  const Module module(args.get("module"));
  const Session session(module, module.slot_of(args.get("token")),
                        CKF_RW_SESSION, CKU_USER, read_pin(args.get("pin-file")));
  std::string label = args.get("label");
  // SoftHSM allows several keys with one label; tests of the oracle's
  // refusal ask for that with --allow-duplicate.
  if (!args.has("allow-duplicate") && !session.find_keys(label).empty()) {
    throw std::runtime_error("a key labelled " + label + " already exists");
  }
  const std::string type = args.get_or("key-type", "generic");
  if (type != "generic" && type != "sha256-hmac") {
    throw Usage("--key-type is generic or sha256-hmac");
  }
  CK_OBJECT_CLASS key_class = CKO_SECRET_KEY;
  CK_KEY_TYPE key_type = type == "generic" ? CKK_GENERIC_SECRET : CKK_SHA256_HMAC;
  CK_BBOOL yes = CK_TRUE;
  // --extractable and --not-sensitive make the keys the oracle must refuse.
  CK_BBOOL extractable = args.has("extractable") ? CK_TRUE : CK_FALSE;
  CK_BBOOL sensitive = args.has("not-sensitive") ? CK_FALSE : CK_TRUE;
  CK_ULONG size = k_key_size;
  std::vector<CK_ATTRIBUTE> attributes = {
    {CKA_CLASS, &key_class, sizeof key_class},
    {CKA_KEY_TYPE, &key_type, sizeof key_type},
    {CKA_LABEL, label.data(), label.size()},
    {CKA_TOKEN, &yes, sizeof yes},
    {CKA_PRIVATE, &yes, sizeof yes},
    {CKA_SIGN, &yes, sizeof yes},
    {CKA_SENSITIVE, &sensitive, sizeof sensitive},
    {CKA_EXTRACTABLE, &extractable, sizeof extractable},
  };
  CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
  if (args.has("generate") == args.has("value-hex")) {
    throw Usage("create-key needs exactly one of --generate and --value-hex");
  }
  if (args.has("generate")) {
    attributes.push_back({CKA_VALUE_LEN, &size, sizeof size});
    CK_MECHANISM mechanism{CKM_GENERIC_SECRET_KEY_GEN, nullptr, 0};
    check(module->C_GenerateKey(session.handle(), &mechanism, attributes.data(),
                                attributes.size(), &key),
          "C_GenerateKey");
  } else {
    std::vector<CK_BYTE> value = from_hex(args.get("value-hex"));
    attributes.push_back({CKA_VALUE, value.data(), value.size()});
    check(module->C_CreateObject(session.handle(), attributes.data(),
                                 attributes.size(), &key),
          "C_CreateObject");
    std::fill(value.begin(), value.end(), CK_BYTE{0});
  }
  return 0;
}

std::string class_name(CK_OBJECT_CLASS value) {
  return value == CKO_SECRET_KEY ? "secret-key" : "0x" + std::to_string(value);
}

std::string key_type_name(CK_KEY_TYPE value) {
  switch (value) {
  case CKK_GENERIC_SECRET:
    return "generic-secret";
  case CKK_SHA256_HMAC:
    return "sha256-hmac";
  default:
    return std::to_string(value);
  }
}

int show_key(const Args& args) {
  const Module module(args.get("module"));
  const Session session(module, module.slot_of(args.get("token")), 0, CKU_USER,
                        read_pin(args.get("pin-file")));
  const auto keys = session.find_keys(args.get("label"));
  if (keys.size() != 1) {
    throw std::runtime_error(std::to_string(keys.size()) + " keys labelled " +
                             args.get("label"));
  }
  const CK_OBJECT_HANDLE key = keys.front();
  const auto ulong_attribute = [&](CK_ATTRIBUTE_TYPE type) {
    CK_ULONG value = 0;
    CK_ATTRIBUTE attribute{type, &value, sizeof value};
    check(module->C_GetAttributeValue(session.handle(), key, &attribute, 1),
          "C_GetAttributeValue");
    return value;
  };
  const auto bool_attribute = [&](CK_ATTRIBUTE_TYPE type) -> std::string {
    CK_BBOOL value = CK_FALSE;
    CK_ATTRIBUTE attribute{type, &value, sizeof value};
    check(module->C_GetAttributeValue(session.handle(), key, &attribute, 1),
          "C_GetAttributeValue");
    return value == CK_TRUE ? "true" : "false";
  };
  std::cout << "class=" << class_name(ulong_attribute(CKA_CLASS)) << "\n"
            << "key_type=" << key_type_name(ulong_attribute(CKA_KEY_TYPE)) << "\n"
            << "value_len=" << ulong_attribute(CKA_VALUE_LEN) << "\n"
            << "token=" << bool_attribute(CKA_TOKEN) << "\n"
            << "sign=" << bool_attribute(CKA_SIGN) << "\n"
            << "sensitive=" << bool_attribute(CKA_SENSITIVE) << "\n"
            << "extractable=" << bool_attribute(CKA_EXTRACTABLE) << "\n"
            << "always_sensitive=" << bool_attribute(CKA_ALWAYS_SENSITIVE) << "\n"
            << "never_extractable=" << bool_attribute(CKA_NEVER_EXTRACTABLE) << "\n";
  // Ask for the bytes themselves, as someone trying to steal the key would.
  std::vector<CK_BYTE> value(64);
  CK_ATTRIBUTE attribute{CKA_VALUE, value.data(), value.size()};
  const CK_RV rv = module->C_GetAttributeValue(session.handle(), key, &attribute, 1);
  std::fill(value.begin(), value.end(), CK_BYTE{0});
  if (rv == CKR_OK) {
    std::cout << "value=READABLE\n";
  } else {
    std::cout << "value=unreadable (" << rv_name(rv) << ")\n";
  }
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  try {
    if (argc < 2) {
      throw Usage("a command is required: init, create-key or show-key");
    }
    const std::string command = argv[1];
    const Args args(argc, argv);
    if (command == "init") {
      return init(args);
    }
    if (command == "create-key") {
      return create_key(args);
    }
    if (command == "show-key") {
      return show_key(args);
    }
    throw Usage("unknown command " + command);
  } catch (const Usage& e) {
    std::cerr << "stek-test-hsm: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "stek-test-hsm: " << e.what() << "\n";
    return 1;
  }
}
