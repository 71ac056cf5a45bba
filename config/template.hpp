// Value templates of the mapping: "{givenName} {sn}", "{mail | trim | lower}", filters with arguments.
// Parsed once at config load (errors carry the byte offset), evaluated per record without I/O.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <regex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/source_record.hpp"

namespace b24sync::config {

// A value -> value table for the `map` filter (mapping.tables or a rule's inline `map`).
using value_table = std::map<std::string, std::string>;

enum class filter_kind {
  trim,
  lower,
  upper,
  collapse,
  title,
  default_value,
  replace,
  regex_replace,
  first,
  join,
  split,
  map
};

struct filter {
  filter_kind kind = filter_kind::trim;      // what the filter does
  std::vector<std::string> args;             // its arguments as written, unquoted
  std::shared_ptr<const std::regex> regex;   // regex_replace: compiled at load time
  std::shared_ptr<const value_table> table;  // map: the table it looks values up in
  std::size_t offset = 0;                    // byte offset of its name in the template text
};

// A literal run, or an expression `{attribute | filter | ...}`.
struct template_part {
  bool expression = false;      // false: `literal` is copied as is
  std::string literal;          // text between expressions ("{{" and "}}" already unescaped)
  std::string attribute;        // source attribute the expression reads (matched ASCII case-insensitively)
  std::vector<filter> filters;  // applied left to right
};

struct value_template {
  std::string text;                  // as written in the config, for messages and explain
  std::vector<template_part> parts;  // in order
  // Attributes the template reads, in order of appearance.
  std::vector<std::string> attributes() const;
};

// A template that does not parse; `offset` is the byte offset in the text where the problem is.
struct template_error : std::runtime_error {
  template_error(std::size_t at, const std::string& what) : std::runtime_error(what), offset(at) {}
  std::size_t offset;
};

// Names of the filters, for "did you mean" hints and documentation.
const std::vector<std::string>& filter_names();

// Parses a template. `tables` resolves map("name"). Throws template_error.
value_template parse_template(std::string_view text, const std::map<std::string, value_table>& tables);
// A template reading one attribute unchanged ("{attr}"), for the `from:` rule form.
value_template attribute_template(std::string_view attribute);

// One step of an evaluation for `explain`: what went in and what came out.
struct trace_step {
  std::string operation;            // "read Фамилия", "trim", "replace(\"a\", \"b\")", "template"
  std::vector<std::string> input;   // values before the step
  std::vector<std::string> output;  // values after it
};

// Applies one filter to a list of values (most filters work per value; first/join/split/default
// work on the list).
std::vector<std::string> apply_filter(const filter& f, std::vector<std::string> values);
// Human-readable form of a filter: `replace("a", "b")`.
std::string describe(const filter& f);

// Evaluates: each expression yields a list of values (LDAP attributes may hold several). A template
// that is exactly one expression returns that list; otherwise each expression contributes its first
// value (use join to combine several) and the result is the single concatenated string.
std::vector<std::string> evaluate(const value_template& t, const connectors::source_record& r,
                                  std::vector<trace_step>* trace = nullptr);

}  // namespace b24sync::config
