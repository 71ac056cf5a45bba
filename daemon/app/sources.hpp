// Reads every configured source (CSV, LDIF, live LDAP) into uniform records, with rejects and a summary.
#pragma once

#include "config/config.hpp"
#include "connectors/source_record.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace b24sync::app {

struct source_summary {
  std::string name;      // the source's name from the config
  std::string type;      // csv | ldif | ldap
  std::string location;  // file path or LDAP URI
  std::size_t records = 0;
  std::size_t rejected = 0;
  std::string detail;    // what the reader chose or skipped ("cp1251, ';'", "3 change records skipped")
};

struct loaded_sources {
  std::vector<connectors::source_record> records;  // all sources, in config order
  std::vector<connectors::reject> rejects;         // every unusable row, in source order
  std::vector<source_summary> summaries;           // one per source
};

// Throws connectors::source_error when a source is unusable as a whole (missing file, no header,
// LDAP unreachable or bind rejected): the caller maps that to exit 65.
loaded_sources read_sources(const config::config& cfg);

}  // namespace b24sync::app
