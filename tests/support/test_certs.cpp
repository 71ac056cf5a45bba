// Throwaway CA + server certificate generation with the OpenSSL 3 API (see test_certs.hpp).
#include "support/test_certs.hpp"

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <vector>

namespace b24sync::test {
namespace {

struct pkey_free { void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); } };
struct x509_free { void operator()(X509* p) const { X509_free(p); } };
struct bio_free { void operator()(BIO* p) const { BIO_free(p); } };
struct ext_free { void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); } };
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;
using x509_ptr = std::unique_ptr<X509, x509_free>;
using bio_ptr = std::unique_ptr<BIO, bio_free>;
using ext_ptr = std::unique_ptr<X509_EXTENSION, ext_free>;

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test_certs: ") + what + " failed");
}

pkey_ptr make_key() {
  pkey_ptr key(EVP_EC_gen("P-256"));
  check(key != nullptr, "EVP_EC_gen");
  return key;
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ext_ptr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  check(ext != nullptr, "X509V3_EXT_conf_nid");
  check(X509_add_ext(cert, ext.get(), -1) == 1, "X509_add_ext");
}

// A certificate for `cn` with `key`, signed by issuer_key (self-signed when issuer is null).
x509_ptr make_cert(const char* cn, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key, bool ca) {
  x509_ptr cert(X509_new());
  check(cert != nullptr, "X509_new");
  check(X509_set_version(cert.get(), 2) == 1, "X509_set_version");
  unsigned char serial_bytes[16];
  check(RAND_bytes(serial_bytes, sizeof serial_bytes) == 1, "RAND_bytes");
  serial_bytes[0] &= 0x7f;  // positive
  BIGNUM* serial = BN_bin2bn(serial_bytes, sizeof serial_bytes, nullptr);
  check(serial != nullptr && BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert.get())) != nullptr, "serial");
  BN_free(serial);
  check(X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) != nullptr, "notBefore");
  check(X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400) != nullptr, "notAfter");
  check(X509_set_pubkey(cert.get(), key) == 1, "X509_set_pubkey");
  X509_NAME* name = X509_get_subject_name(cert.get());
  check(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("b24sync tests"),
                                   -1, -1, 0) == 1 &&
            X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1,
                                       0) == 1,
        "subject");
  X509* signer = issuer != nullptr ? issuer : cert.get();
  check(X509_set_issuer_name(cert.get(), X509_get_subject_name(signer)) == 1, "issuer");
  if (ca) {
    add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    add_ext(cert.get(), signer, NID_subject_key_identifier, "hash");
  } else {
    add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(cert.get(), signer, NID_key_usage, "critical,digitalSignature");
    add_ext(cert.get(), signer, NID_ext_key_usage, "serverAuth");
    add_ext(cert.get(), signer, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1");
    add_ext(cert.get(), signer, NID_authority_key_identifier, "keyid");
  }
  check(X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()) > 0, "X509_sign");
  return cert;
}

std::string bio_string(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

std::string pem_of_cert(X509* cert) {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  check(bio && PEM_write_bio_X509(bio.get(), cert) == 1, "PEM_write_bio_X509");
  return bio_string(bio.get());
}

std::string pem_of_key(EVP_PKEY* key) {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  check(bio && PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
        "PEM_write_bio_PrivateKey");
  return bio_string(bio.get());
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  check(static_cast<bool>(out), ("write " + path).c_str());
}

std::string make_temp_dir() {
  const auto base = std::filesystem::temp_directory_path() / "b24sync-certs-XXXXXX";
  std::string tmpl = base.string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  check(::mkdtemp(buf.data()) != nullptr, "mkdtemp");
  return std::string(buf.data());
}

}  // namespace

test_certs::test_certs() {
  const pkey_ptr ca_key = make_key();
  const x509_ptr ca = make_cert("b24sync test CA", ca_key.get(), nullptr, nullptr, true);
  const pkey_ptr server_key = make_key();
  const x509_ptr server = make_cert("localhost", server_key.get(), ca.get(), ca_key.get(), false);
  ca_pem_ = pem_of_cert(ca.get());
  cert_pem_ = pem_of_cert(server.get());
  key_pem_ = pem_of_key(server_key.get());
  dir_ = make_temp_dir();
  ca_file_ = dir_ + "/ca.pem";
  cert_file_ = dir_ + "/server.pem";
  key_file_ = dir_ + "/server.key";
  try {
    write_file(ca_file_, ca_pem_);
    write_file(cert_file_, cert_pem_);
    write_file(key_file_, key_pem_);
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    throw;
  }
}

test_certs::~test_certs() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

}  // namespace b24sync::test
