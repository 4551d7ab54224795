// What the HTTPS tests share: keys and self-signed certificates made at test time (OpenSSL),
// and PEM files of them in the test's temporary directory.
#pragma once

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>

namespace lvsd::check::testing {

struct Identity {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{nullptr, &EVP_PKEY_free};
  std::unique_ptr<X509, decltype(&X509_free)> cert{nullptr, &X509_free};
};

// A self-signed P-256 certificate for `cn` with the given subjectAltName ("DNS:localhost";
// empty: none), valid from `from` to `to` seconds from now.
inline Identity make_identity(const std::string& cn, const std::string& alt_names, long from = -3600, long to = 86400) {
  Identity id;
  id.key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  id.cert.reset(X509_new());
  if (!id.key || !id.cert) throw std::runtime_error("OpenSSL cannot make a key");
  X509* x = id.cert.get();
  X509_set_version(x, 2);
  static long serial = 1;
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
  X509_gmtime_adj(X509_getm_notBefore(x), from);
  X509_gmtime_adj(X509_getm_notAfter(x), to);
  X509_set_pubkey(x, id.key.get());
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  if (!alt_names.empty()) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, alt_names.c_str());
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(x, id.key.get(), EVP_sha256()) == 0) throw std::runtime_error("OpenSSL cannot sign");
  return id;
}

// A PEM file in the test's temporary directory, removed with the object.
class PemFile {
 public:
  template <class Write>
  explicit PemFile(Write write) {
    std::string name = ::testing::TempDir() + "lvsd-tls-XXXXXX";
    const int fd = ::mkstemp(name.data());
    if (fd < 0) throw std::runtime_error("mkstemp failed");
    FILE* f = ::fdopen(fd, "w");
    write(f);
    std::fclose(f);
    path_ = name;
  }
  ~PemFile() { ::unlink(path_.c_str()); }
  PemFile(const PemFile&) = delete;
  PemFile& operator=(const PemFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline PemFile cert_file(const Identity& id) {
  return PemFile([&](FILE* f) { PEM_write_X509(f, id.cert.get()); });
}
inline PemFile key_file(const Identity& id) {
  return PemFile([&](FILE* f) { PEM_write_PrivateKey(f, id.key.get(), nullptr, nullptr, 0, nullptr, nullptr); });
}

}  // namespace lvsd::check::testing
