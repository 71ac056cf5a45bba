// user.get / user.search FILTER: operator prefixes, value coercion, LIKE semantics, unknown keys dropped.
#pragma once

#include "core/state.hpp"
#include "core/userstore.hpp"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace b24emu::detail {

enum class filter_op { like, eq, not_like, ne, gt, ge, lt, le, substr, not_substr, in, not_in };

struct filter_condition {
  std::string field;  // upper-case
  field_kind kind = field_kind::string;
  filter_op op = filter_op::like;
  std::vector<boost::json::value> values;  // raw values (a list means "any of")
  std::vector<std::string> folded;         // folded string forms of the values
  std::vector<std::int64_t> ints;          // ID / department / number forms
  std::vector<std::int64_t> times;         // date (days*86400) / datetime (unix s) forms
  bool never = false;                      // an unparseable date: matches nothing
};

class user_filter {
 public:
  // Compiles a filter object (keys: optional 1-2 char operator + field). Unknown or unsupported keys
  // are dropped silently, like the portal does. `search` enables user.search's prefix matching on
  // name fields and UF_DEPARTMENT_NAME.
  user_filter(const portal_data& d, const boost::json::object& filter, bool search = false);

  bool matches(const portal_data& d, const user_record& u) const;

  // ID bounds implied by the conditions (for range iteration over the ID-ordered store).
  std::int64_t min_id() const { return min_id_; }
  std::int64_t max_id() const { return max_id_; }
  const std::vector<filter_condition>& conditions() const { return conds_; }

 private:
  std::vector<filter_condition> conds_;
  std::int64_t min_id_ = std::numeric_limits<std::int64_t>::min();
  std::int64_t max_id_ = std::numeric_limits<std::int64_t>::max();
};

// Splits "!=EMAIL" into ("!=", "EMAIL"); nullopt when the prefix is not an operator the portal knows.
std::optional<std::pair<filter_op, std::string>> split_filter_key(std::string_view key);

}  // namespace b24emu::detail
