// SPDX-License-Identifier: Apache-2.0
// parse_native_keystore on any bytes. A keystore it accepts must be valid,
// and must survive the writer: serialize, parse again, and every field the
// types expose (policy, ids, times, states, revocations, origins, secrets)
// is the same, and serializing the second parse gives the same bytes as the
// first (the canonical layout the header promises). The seed corpus holds
// keystores written by stekctl generate, rotate, import and revoke.
#include <stek/formats/native_keystore.hpp>

#include <stek/keystore.hpp>
#include <stek/secret.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <variant>

namespace {

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "keystore round trip: %s\n", what.c_str());
  std::abort();
}

bool same_secret(const stek::Key& a, const stek::Key& b) {
  if (a.secret.index() != b.secret.index()) {
    return false;
  }
  if (const auto* ma = std::get_if<stek::Material>(&a.secret)) {
    return stek::ct_equal(ma->bytes.view(),
                          std::get<stek::Material>(b.secret).bytes.view());
  }
  const auto& ia = std::get<stek::ImportedKeys>(a.secret);
  const auto& ib = std::get<stek::ImportedKeys>(b.secret);
  return stek::ct_equal(ia.aes.view(), ib.aes.view()) &&
         stek::ct_equal(ia.hmac.view(), ib.hmac.view());
}

bool same_revocation(const stek::Key& a, const stek::Key& b) {
  if (a.revoked.has_value() != b.revoked.has_value()) {
    return false;
  }
  return !a.revoked ||
         (a.revoked->at == b.revoked->at && a.revoked->reason == b.revoked->reason);
}

void compare(const stek::Keystore& a, const stek::Keystore& b) {
  const auto& pa = a.policy;
  const auto& pb = b.policy;
  if (pa.rotate_every != pb.rotate_every || pa.publish_ahead != pb.publish_ahead ||
      pa.encrypt_for != pb.encrypt_for || pa.decrypt_for != pb.decrypt_for ||
      pa.sni_binding != pb.sni_binding) {
    fail("policy differs");
  }
  if (a.keys.size() != b.keys.size()) {
    fail("key count differs");
  }
  for (std::size_t i = 0; i < a.keys.size(); ++i) {
    const stek::Key& ka = a.keys[i];
    const stek::Key& kb = b.keys[i];
    const std::string where = "key #" + std::to_string(i + 1) + " ";
    if (ka.id != kb.id) {
      fail(where + "id differs");
    }
    if (ka.created != kb.created || ka.not_before != kb.not_before ||
        ka.encrypt_until != kb.encrypt_until ||
        ka.decrypt_until != kb.decrypt_until) {
      fail(where + "times differ");
    }
    if (!same_revocation(ka, kb)) {
      fail(where + "revocation differs");
    }
    if (ka.origin != kb.origin) {
      fail(where + "origin differs");
    }
    if (!same_secret(ka, kb)) {
      fail(where + "secret differs");
    }
    // States are computed from the times above; checked at the instants
    // where they change, so a change in state_at would show too.
    for (const stek::Timestamp t :
         {ka.created, ka.not_before, ka.encrypt_until, ka.decrypt_until}) {
      if (ka.state_at(t) != kb.state_at(t)) {
        fail(where + "state differs");
      }
    }
  }
  // The encrypting key is picked among all keys; the same one at each key's
  // start.
  for (const stek::Key& key : a.keys) {
    const stek::Key* ea = a.encrypting_key(key.not_before);
    const stek::Key* eb = b.encrypting_key(key.not_before);
    if ((ea == nullptr) != (eb == nullptr) || (ea && ea->id != eb->id)) {
      fail("encrypting key differs");
    }
  }
}

bool same_bytes(const stek::SecretBytes& a, const stek::SecretBytes& b) {
  return a.size() == b.size() && stek::ct_equal(a.view(), b.view());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const stek::SecretView input(data, size);
  auto first = stek::formats::parse_native_keystore(input, "fuzz");
  if (!first.ok()) {
    if (first.error().message.empty()) {
      fail("error without a message");
    }
    return 0;
  }
  // parse_native_keystore validates; save_native_keystore relies on that.
  if (!first->validate().ok()) {
    fail("accepted a keystore that does not validate");
  }
  const stek::SecretBytes written = stek::formats::serialize_native_keystore(*first);
  auto second = stek::formats::parse_native_keystore(written.view(), "rewritten");
  if (!second.ok()) {
    fail("serialized keystore does not parse: " + second.error().message);
  }
  compare(*first, *second);
  const stek::SecretBytes rewritten =
    stek::formats::serialize_native_keystore(*second);
  if (!same_bytes(written, rewritten)) {
    fail("serializing again gives different bytes");
  }
  // Commands edit a clone; it must be a deep and complete copy.
  compare(*first, first->clone());
  return 0;
}
