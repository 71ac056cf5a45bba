// Live LDAP reader (OpenLDAP libldap): simple bind over ldap://, StartTLS or ldaps://, paged search.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/source_record.hpp"

namespace b24sync::connectors {

enum class ldap_scope { base, one, sub };

struct ldap_options {
  std::string uri;          // "ldap://host[:port]" or "ldaps://host[:port]"
  std::string source_name;  // the source's name from the config, copied to origins
  bool starttls = false;    // ldap:// only: upgrade with StartTLS before binding (failure is an error)
  std::string bind_dn;      // empty = anonymous bind
  std::string password;     // read from a file by config; never logged or put in messages
  std::string base;         // search base DN
  ldap_scope scope = ldap_scope::sub;
  std::string filter = "(objectClass=*)";
  std::vector<std::string> attributes;  // empty = all user attributes
  int page_size = 500;                  // RFC 2696 page size; 0 = no paging control
  std::chrono::seconds timeout{30};     // connect timeout and per-operation (each page) limit; 0 = none
  std::string ca_file;                  // PEM bundle for TLS; empty = the system's default
  bool tls_verify = true;               // false = accept any server certificate (testing only)
};

struct ldap_stats {
  std::size_t entries = 0;        // entries received
  std::size_t records = 0;        // entries handed to the callback
  std::size_t pages = 0;          // search requests sent (one per page)
  std::size_t binary_values = 0;  // values that were not UTF-8 text, kept as base64
};

struct ldap_result {
  std::vector<reject> rejects;  // reserved for per-entry problems; a live search has had none so far
  ldap_stats stats;
};

using ldap_record_handler = std::function<void(source_record&&)>;

// Connects, binds, runs the paged search and calls on_record per entry (origin: location = uri,
// dn = entry DN, line = 0). Values that are not UTF-8 text (objectGUID, photos) arrive as base64.
// Throws source_error: connect_failed (unreachable, TLS/StartTLS), auth_failed (bind rejected),
// search_failed (bad base/filter, limits, timeout). Messages carry libldap's error string and the
// server's diagnostic text, never the password. Exceptions thrown by on_record propagate.
ldap_result read_ldap(const ldap_options& options, const ldap_record_handler& on_record);

const char* to_string(ldap_scope scope) noexcept;  // "base", "one", "sub"
// Accepts "base", "one"/"onelevel", "sub"/"subtree" (ASCII case-insensitive).
std::optional<ldap_scope> parse_ldap_scope(std::string_view name) noexcept;

}  // namespace b24sync::connectors
