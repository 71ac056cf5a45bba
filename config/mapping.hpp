// The mapping: source records -> desired Bitrix24 users. Pure (no I/O, no clock: "today" is passed in).
// Several sources are merged by HR key with a per-field precedence; conflicts and invalid rows become
// rejects.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/config.hpp"
#include "config/field_map.hpp"
#include "config/origin_list.hpp"
#include "config/template.hpp"
#include "connectors/source_record.hpp"

namespace b24sync::config {

struct desired_person {
  std::string key;                            // the HR key (value of the sources' `key` attribute)
  field_map fields;                           // Bitrix24 field -> value, identity_field = key included;
                                              // a field absent here is not touched (field_map.hpp)
  bool active = true;                         // false when an active rule fired
  std::string inactive_reason;                // which rule fired and on what value; empty when active
  origin_list origins;                        // every record merged into this person, in source order
  // Each field records the index in cfg.sources of the source its value came from (field_ref::source();
  // no_source for the identity field). Read it by name with field_source().
};

// The name of the source `field`'s value came from; "" when none (or `field` has no rule).
std::string_view field_source(const config& cfg, const desired_person& p, std::string_view field);

struct mapping_result {
  std::vector<desired_person> people;       // sorted by key
  std::vector<connectors::reject> rejects;  // rows not used, with reasons (conflicts name both rows)
  // Keys that appeared in a source but produced no person (rejected, conflicting): the sync must
  // neither create nor deactivate their portal users.
  std::vector<std::string> rejected_keys;  // sorted, unique
  // Rejected rows whose HR key is unknown (a reader could not read the row at all; the caller sets
  // it). Any of them may be someone still employed, so nobody is deactivated as "missing" meanwhile.
  std::size_t unattributed_rejects = 0;
  std::size_t unmatched_enrichment = 0;    // records of enrich_only sources whose key no other source has
  std::vector<std::string> warnings;       // e.g. an attribute no record of a source carries (a typo?)
};

// Maps all records of all sources (grouped by record.where.source). Never throws on bad data:
// every problem becomes a reject.
mapping_result map_records(const config& cfg, std::span<const connectors::source_record> records,
                           std::chrono::year_month_day today);

// --- explain: how one person's fields came to be -------------------------------------------------

struct explain_candidate {
  std::string source;               // source name
  connectors::origin where;         // the record read
  std::vector<trace_step> steps;    // read, each filter, template, map table
  std::vector<std::string> values;  // what the rule produced from this record
  bool chosen = false;              // this source's value was used
};

struct explain_field {
  std::string field;                          // Bitrix24 field
  std::string rule;                           // the template text and transform, as configured
  std::vector<explain_candidate> candidates;  // in precedence order
  std::vector<trace_step> transform_steps;    // phone/date/department/canonicalisation steps
  std::optional<field_value> value;           // final value; nullopt when the field is left untouched
  std::string problem;                        // why the person is rejected because of this field, if so
};

struct explain_active {
  std::string rule;     // "Дата увольнения past_date"
  std::string source;   // source whose value was tested; empty when no record has the attribute
  std::string value;    // the value tested
  bool fired = false;   // the rule made the person inactive
  std::string problem;  // unreadable value
};

struct explain_result {
  std::string key;                                 // as asked
  std::vector<connectors::source_record> records;  // every record carrying the key, all attributes
  std::vector<explain_field> fields;               // in mapping order
  std::vector<explain_active> active;              // each active rule
  std::optional<desired_person> person;            // the final desired user, unless rejected
  std::vector<connectors::reject> rejects;         // why there is no person (conflicts included)
};

// Everything map_records would do for `key`, step by step. `records` as for map_records.
explain_result explain(const config& cfg, std::span<const connectors::source_record> records,
                       std::chrono::year_month_day today, std::string_view key);

}  // namespace b24sync::config
