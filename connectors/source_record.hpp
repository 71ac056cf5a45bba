// The uniform record every source (CSV, LDIF, live LDAP) yields, and the reject it reports instead.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace b24sync::connectors {

// Where a record (or a reject) came from: "file:line" for files, the entry's DN for LDAP.
struct origin {
  std::string source;      // the source's name from the config (e.g. "hr")
  std::string location;    // file path, or LDAP URI
  std::size_t line = 0;    // 1-based line of the row/entry start; 0 when not file-based
  std::string dn;          // LDIF/LDAP: the entry's DN; empty for CSV
  bool operator==(const origin&) const = default;
};

struct attribute {
  std::string name;                 // as written in the source (CSV header, LDAP attribute type)
  std::vector<std::string> values;  // UTF-8; CSV fields have exactly one value (possibly empty)
};

struct source_record {
  origin where;
  std::vector<attribute> attributes;

  // Attribute lookup, ASCII case-insensitive (LDAP attribute types are case-insensitive; HR headers
  // are matched the same way so "Email" and "EMAIL" find each other). nullptr when absent.
  const attribute* find(std::string_view name) const noexcept;
  // First value or empty when absent.
  std::string_view first(std::string_view name) const noexcept;
};

// A row that could not be used, with the reason in plain language. Never dropped silently.
struct reject {
  origin where;
  std::string reason;
  bool operator==(const reject&) const = default;
};

bool iequals_ascii(std::string_view a, std::string_view b) noexcept;

// Why a source is unusable as a whole (the app maps every one of these to exit 65).
enum class source_errc {
  not_found = 1,   // the file does not exist
  unreadable,      // exists but cannot be opened or read (permissions, a directory, I/O error)
  empty,           // no data at all (zero bytes, only blank lines, an LDIF without entries)
  no_header,       // CSV: has_header is set but no usable header line was found
  bad_format,      // the file cannot be interpreted at all (e.g. BOM vs. declared encoding)
  connect_failed,  // LDAP: server unreachable, TLS handshake or StartTLS failed
  auth_failed,     // LDAP: bind rejected (wrong DN or password)
  search_failed,   // LDAP: the search itself failed (bad base, filter, size limit, timeout)
};

const char* to_string(source_errc code) noexcept;

// Thrown by the readers when a source cannot be used at all (as opposed to a per-row reject).
// The message is plain language, names the file or URI, and never contains a password.
class source_error : public std::runtime_error {
 public:
  source_error(source_errc code, const std::string& message) : std::runtime_error(message), code_(code) {}
  source_errc code() const noexcept { return code_; }

 private:
  source_errc code_;
};

}  // namespace b24sync::connectors
