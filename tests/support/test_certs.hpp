// A throwaway certificate authority and a server certificate for 127.0.0.1 / localhost / ::1, made with
// the OpenSSL API into a fresh temporary directory (removed again by the destructor). For TLS tests of
// the emulator and of b24sync's HTTPS client.
#pragma once

#include <string>

namespace b24sync::test {

class test_certs {
public:
  // Generates a new CA (P-256, valid one day) and a server certificate it signs, with subjectAltName
  // DNS:localhost, IP:127.0.0.1, IP:::1. Throws std::runtime_error on failure.
  test_certs();
  ~test_certs();  // removes the directory
  test_certs(const test_certs&) = delete;
  test_certs& operator=(const test_certs&) = delete;

  const std::string& dir() const { return dir_; }
  const std::string& ca_file() const { return ca_file_; }          // CA certificate (PEM): trust this
  const std::string& cert_file() const { return cert_file_; }      // server certificate chain (PEM)
  const std::string& key_file() const { return key_file_; }        // server private key (PEM, unencrypted)
  const std::string& ca_pem() const { return ca_pem_; }
  const std::string& cert_pem() const { return cert_pem_; }
  const std::string& key_pem() const { return key_pem_; }

private:
  std::string dir_, ca_file_, cert_file_, key_file_;
  std::string ca_pem_, cert_pem_, key_pem_;
};

}  // namespace b24sync::test
