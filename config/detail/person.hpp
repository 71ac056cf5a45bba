// Internal: building one desired person from its records (shared by map_records and explain).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/mapping.hpp"

namespace b24sync::config::detail {

// Records of one key, one slot per configured source (nullptr = the source has no record).
using person_records = std::vector<const connectors::source_record*>;

struct person_trace {
  std::vector<explain_field> fields;
  std::vector<explain_active> active;
};

struct build_output {
  std::optional<desired_person> person;     // set when valid
  std::vector<connectors::reject> rejects;  // why not
};

build_output build_person(const config& cfg, const std::string& key, const person_records& records,
                          std::chrono::year_month_day today, person_trace* trace);

// Bitrix24 length limit in characters for a field.
std::size_t default_max_length(std::string_view field);

}  // namespace b24sync::config::detail
