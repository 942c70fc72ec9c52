// SPDX-License-Identifier: Apache-2.0
#pragma once

// The test's directory: a Workspace is a ScratchDir (tests/integration/
// process.hpp, the cwd while it lives) plus a self-signed P-256 certificate
// for "a.example" (make_certificate, OpenSSL API) in tls/.

#include "interop/harness/common.hpp"

#include <string>

namespace stek::interop {

struct Certificate {
  fs::path cert;     // PEM certificate
  fs::path key;      // PEM private key
  fs::path combined; // certificate then key, for HAProxy's `crt`
  Bytes der;         // the certificate, DER
};

// Make a self-signed P-256 certificate for `common_name` (also its DNS
// subjectAltName) in `dir`, valid from an hour ago for two days.
Certificate make_certificate(const fs::path& dir,
                             const std::string& common_name = "a.example");

// A fresh directory for one test (cwd while it lives) with a certificate
// for "a.example" in tls/.
struct Workspace {
  stek::test::ScratchDir scratch;
  fs::path dir = fs::absolute(scratch.path());
  Certificate cert = make_certificate(dir / "tls");

  fs::path path(const std::string& name) const { return dir / name; }
};

} // namespace stek::interop
