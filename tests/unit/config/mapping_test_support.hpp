// Helpers for the mapping tests: a config from a YAML mapping section, records built from literals.
#pragma once

#include <chrono>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "config/mapping.hpp"
#include "config_test_support.hpp"

namespace b24sync::config::test {

inline constexpr std::chrono::year_month_day today{std::chrono::year{2024}, std::chrono::month{6},
                                                   std::chrono::day{15}};

// A config with the given sources and mapping sections (YAML, indented as top-level keys).
inline config make_config(const std::string& sources, const std::string& mapping) {
  return parse("portal:\n  webhook: ${HOOK}\n" + sources + mapping, hook_env).cfg;
}

inline const std::string hr_only = "sources:\n  - {name: hr, type: csv, path: hr.csv, key: id}\n";

// A CSV-like record: location "<source>.csv", the given line, single-valued attributes.
inline connectors::source_record rec(const std::string& source, std::size_t line,
                                     std::initializer_list<std::pair<std::string, std::string>> attrs) {
  connectors::source_record r;
  r.where.source = source;
  r.where.location = source + ".csv";
  r.where.line = line;
  for (const auto& [k, v] : attrs) r.attributes.push_back({k, {v}});
  return r;
}

inline const desired_person* find_person(const mapping_result& m, const std::string& key) {
  for (const auto& p : m.people)
    if (p.key == key) return &p;
  return nullptr;
}

inline std::string text(const desired_person& p, const std::string& field) {
  auto it = p.fields.find(field);
  return it == p.fields.end() ? "(absent)" : to_string(*it);
}

inline std::vector<std::string> reasons(const mapping_result& m) {
  std::vector<std::string> out;
  for (const auto& r : m.rejects)
    out.push_back(r.where.location + ":" + std::to_string(r.where.line) + ": " + r.reason);
  return out;
}

}  // namespace b24sync::config::test
