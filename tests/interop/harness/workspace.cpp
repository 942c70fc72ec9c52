// SPDX-License-Identifier: Apache-2.0
#include "interop/harness/workspace.hpp"

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace stek::interop {

Certificate make_certificate(const fs::path& dir, const std::string& common_name) {
  fs::create_directories(dir);
  PkeyPtr pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!pkey) {
    fail_openssl("EC key generation");
  }
  X509Ptr x509(X509_new());
  if (!x509 || X509_set_version(x509.get(), 2) != 1) {
    fail_openssl("X509_new");
  }
  const auto serial = random_bytes(8);
  Owned<BIGNUM, BN_free> bn(
    BN_bin2bn(reinterpret_cast<const unsigned char*>(serial.data()), 8, nullptr));
  BN_set_negative(bn.get(), 0);
  BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(x509.get()));
  X509_gmtime_adj(X509_getm_notBefore(x509.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x509.get()), 2L * 24 * 3600);
  X509_set_pubkey(x509.get(), pkey.get());
  X509_NAME* name = X509_get_subject_name(x509.get());
  X509_NAME_add_entry_by_txt(
    name, "CN", MBSTRING_ASC,
    reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0);
  X509_set_issuer_name(x509.get(), name);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, x509.get(), x509.get(), nullptr, nullptr, 0);
  const std::string san = "DNS:" + common_name;
  Owned<X509_EXTENSION, X509_EXTENSION_free> ext(
    X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name, san.c_str()));
  if (!ext || X509_add_ext(x509.get(), ext.get(), -1) != 1) {
    fail_openssl("subjectAltName");
  }
  if (X509_sign(x509.get(), pkey.get(), EVP_sha256()) == 0) {
    fail_openssl("X509_sign");
  }
  const auto pem = [](auto write) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || write(bio.get()) != 1) {
      fail_openssl("PEM write");
    }
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
  };
  const auto cert_pem =
    pem([&](BIO* b) { return PEM_write_bio_X509(b, x509.get()); });
  const auto key_pem = pem([&](BIO* b) {
    return PEM_write_bio_PrivateKey(b, pkey.get(), nullptr, nullptr, 0,
                                    nullptr, nullptr);
  });
  Certificate out;
  out.cert = fs::absolute(dir / "cert.pem");
  out.key = fs::absolute(dir / "key.pem");
  out.combined = fs::absolute(dir / "cert+key.pem");
  write_file(out.cert, cert_pem, 0644);
  write_file(out.key, key_pem, 0600);
  write_file(out.combined, cert_pem + key_pem, 0600);
  const int len = i2d_X509(x509.get(), nullptr);
  out.der.resize(static_cast<std::size_t>(len));
  auto* p = reinterpret_cast<unsigned char*>(out.der.data());
  i2d_X509(x509.get(), &p);
  return out;
}

} // namespace stek::interop
