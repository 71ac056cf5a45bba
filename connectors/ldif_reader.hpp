// LDIF reader (RFC 2849): folded lines, base64 values and DNs, change records skipped, entry filtering.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/ldap_filter.hpp"
#include "connectors/source_record.hpp"

namespace b24sync::connectors {

struct ldif_options {
  std::string path;         // file to read (ignored by the *_buffer functions)
  std::string source_name;  // the source's name from the config, copied to origins
  // Keep entries having at least one of these objectClass values (ASCII case-insensitive); empty = all.
  std::vector<std::string> object_classes = {"person", "user", "inetOrgPerson"};
  std::string filter;                      // optional RFC 4515 filter, e.g. "(&(objectClass=user)(mail=*))"
  std::size_t chunk_size = 1 << 20;        // bytes read per refill (tests use tiny ones)
  std::size_t max_entry_bytes = 64 << 20;  // a longer entry is rejected and skipped
};

// An entry left out on purpose (not an error): change records other than add.
struct ldif_skip {
  origin where;
  std::string reason;
};

struct ldif_stats {
  std::size_t entries = 0;        // content and change records seen
  std::size_t records = 0;        // entries handed to the callback
  std::size_t rejected = 0;       // entries reported as rejects
  std::size_t filtered_out = 0;   // entries that did not match object_classes / filter
  std::size_t skipped = 0;        // change records (changetype modify/delete/modrdn/moddn)
  std::size_t binary_values = 0;  // base64 values that were not UTF-8 text, kept in base64 form
  std::size_t lines = 0;
  std::size_t bytes = 0;
};

struct ldif_result {
  std::vector<reject> rejects;
  std::vector<ldif_skip> skipped;
  ldif_stats stats;
};

// One parsed entry, valid only during the callback: views into the reader's buffers.
struct ldif_entry {
  std::size_t line = 0;                          // line of the "dn:" line
  std::string_view dn;                           // as written (escapes kept), base64 decoded
  std::span<const attribute_value_view> values;  // in file order; multi-valued names repeat
};

using ldif_record_handler = std::function<void(source_record&&)>;
using ldif_entry_handler = std::function<void(const ldif_entry&)>;

// Values: plain ones as written; "::" base64 ones decoded when they are UTF-8 text without NUL,
// otherwise (objectGUID, jpegPhoto) kept as their base64 text. Attribute names keep their options.
// Throws source_error when the file is unusable as a whole (missing, unreadable, empty, bad version);
// throws std::invalid_argument when options.filter does not parse.
ldif_result read_ldif(const ldif_options& options, const ldif_record_handler& on_record);
ldif_result read_ldif_buffer(std::string_view data, const ldif_options& options,
                             const ldif_record_handler& on_record);
ldif_result scan_ldif(const ldif_options& options, const ldif_entry_handler& on_entry);
ldif_result scan_ldif_buffer(std::string_view data, const ldif_options& options,
                             const ldif_entry_handler& on_entry);

// Active Directory: whether userAccountControl (decimal) has ACCOUNTDISABLE (0x2) set.
// Empty or non-numeric text counts as not disabled.
bool ad_account_disabled(std::string_view user_account_control) noexcept;

// Groups flat values into the uniform record (same names, ASCII case-insensitive, become one attribute).
source_record to_source_record(std::string_view dn, std::span<const attribute_value_view> values,
                               origin where);

}  // namespace b24sync::connectors
