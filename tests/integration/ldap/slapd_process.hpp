// A throwaway slapd for tests: temp dir, slapd.conf (back-mdb), slapadd, start on free ports, stop.
#pragma once

#include <sys/types.h>

#include <string>

namespace b24sync::test {

struct slapd_config {
  std::string suffix = "dc=example,dc=test";
  std::string root_dn = "cn=admin,dc=example,dc=test";
  std::string root_password = "root-secret";
  std::string extra_conf;                                // appended to the global section (limits, ACLs)
  std::string tls_ca_file, tls_cert_file, tls_key_file;  // all set: also listen on ldaps://, allow StartTLS
};

class slapd_process {
 public:
  // Writes the config, loads `ldif` offline with slapadd, starts slapd and waits (bounded) until it
  // accepts connections. Throws std::runtime_error with slapd's log on failure.
  slapd_process(const slapd_config& config, const std::string& ldif);
  ~slapd_process();  // stops slapd (SIGTERM, then SIGKILL) and removes the directory
  slapd_process(const slapd_process&) = delete;
  slapd_process& operator=(const slapd_process&) = delete;

  std::string ldap_uri() const { return "ldap://127.0.0.1:" + std::to_string(port_); }
  std::string ldaps_uri() const { return "ldaps://127.0.0.1:" + std::to_string(tls_port_); }
  std::string localhost_ldaps_uri() const { return "ldaps://localhost:" + std::to_string(tls_port_); }
  const std::string& dir() const { return dir_; }
  std::string log() const;

 private:
  void stop() noexcept;
  std::string dir_;
  int port_ = 0;
  int tls_port_ = 0;
  pid_t pid_ = -1;
};

// A loopback TCP port nobody listens on right now.
int free_loopback_port();

}  // namespace b24sync::test
