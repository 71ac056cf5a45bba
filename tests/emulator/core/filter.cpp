// user.get / user.search FILTER: operator prefixes, value coercion, LIKE semantics, unknown keys dropped.
#include "core/filter.hpp"

#include "core/dates.hpp"
#include "core/php.hpp"

#include <algorithm>
#include <cstdlib>

namespace b24emu::detail {

namespace json = boost::json;

namespace {

bool is_word(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

bool negative(filter_op op) {
  return op == filter_op::not_like || op == filter_op::ne || op == filter_op::not_in ||
         op == filter_op::not_substr;
}

bool ordering(filter_op op) {
  return op == filter_op::gt || op == filter_op::ge || op == filter_op::lt || op == filter_op::le;
}

template <class T>
bool compare(filter_op op, const T& a, const T& b) {
  switch (op) {
    case filter_op::gt:
      return a > b;
    case filter_op::ge:
      return a >= b;
    case filter_op::lt:
      return a < b;
    case filter_op::le:
      return a <= b;
    default:
      return a == b;
  }
}

std::optional<double> as_number(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::string tmp(s);
  char* end = nullptr;
  double d = std::strtod(tmp.c_str(), &end);
  if (end != tmp.c_str() + tmp.size()) return std::nullopt;
  return d;
}

// Values of a condition: a list for equality-like operators ("@" also splits "1,2,3"), the whole
// value for ordering operators.
std::vector<json::value> condition_values(filter_op op, const json::value& v) {
  if (ordering(op)) return {v};
  if ((op == filter_op::in || op == filter_op::not_in) && v.is_string()) {
    std::vector<json::value> out;
    std::string_view s(v.get_string());
    for (std::size_t pos = 0; pos <= s.size();) {
      auto comma = s.find(',', pos);
      auto part = s.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
      out.emplace_back(json::string(part));
      if (comma == std::string_view::npos) break;
      pos = comma + 1;
    }
    return out;
  }
  if (v.is_array() || v.is_object()) return php_list(v);
  return {v};
}

// One stored scalar against the condition (string / number kinds).
bool match_text(const filter_condition& c, const std::string& folded_text) {
  for (std::size_t i = 0; i < c.folded.size(); ++i) {
    auto& p = c.folded[i];
    bool hit = false;
    switch (c.op) {
      case filter_op::like:
      case filter_op::not_like:
        hit = like_match(folded_text, p);
        break;
      case filter_op::eq:
      case filter_op::ne:
      case filter_op::in:
      case filter_op::not_in:
        hit = folded_text == p;
        break;
      case filter_op::substr:
      case filter_op::not_substr:
        hit = folded_text.find(p) != std::string::npos;
        break;
      default: {
        auto a = as_number(folded_text), b = as_number(p);
        hit = (c.kind == field_kind::number || (a && b)) && a && b ? compare(c.op, *a, *b)
                                                                   : compare(c.op, folded_text, p);
      }
    }
    if (hit) return true;
  }
  return false;
}

bool match_field(const filter_condition& c, const json::value* v) {
  // Absent / empty values: an empty pattern asks for "empty", negations match.
  bool empty_query = c.folded.size() == 1 && c.folded[0].empty() && !ordering(c.op);
  bool absent = !v || v->is_null() || (v->is_string() && v->get_string().empty()) ||
                (v->is_array() && v->get_array().empty());
  if (empty_query) return negative(c.op) ? !absent : absent;
  if (absent) return negative(c.op);
  bool any = false;
  auto test = [&](const json::value& x) {
    if (c.kind == field_kind::date || c.kind == field_kind::datetime) {
      if (!x.is_string()) return false;
      std::optional<std::int64_t> t;
      if (c.kind == field_kind::date) {
        if (auto d = parse_date_days(std::string_view(x.get_string()), 0)) t = *d * 86400;
      } else {
        t = parse_instant(std::string_view(x.get_string()), 0);
      }
      if (!t) return false;
      for (auto q : c.times)
        if (compare(negative(c.op) ? filter_op::eq : c.op, *t, q)) return true;
      return false;
    }
    return match_text(c, x.is_string() ? fold(std::string_view(x.get_string())) : fold(php_strval(x)));
  };
  if (v->is_array()) {
    for (auto& x : v->get_array()) any = any || test(x);
  } else {
    any = test(*v);
  }
  return negative(c.op) ? !any : any;
}

}  // namespace

std::optional<std::pair<filter_op, std::string>> split_filter_key(std::string_view key) {
  std::size_t n = 0;
  while (n < key.size() && !is_word(key[n])) ++n;
  if (n > 2 || n == key.size()) return std::nullopt;
  auto prefix = key.substr(0, n);
  filter_op op;
  if (prefix.empty())
    op = filter_op::like;
  else if (prefix == "=")
    op = filter_op::eq;
  else if (prefix == "!")
    op = filter_op::not_like;
  else if (prefix == "!=")
    op = filter_op::ne;
  else if (prefix == ">")
    op = filter_op::gt;
  else if (prefix == ">=")
    op = filter_op::ge;
  else if (prefix == "<")
    op = filter_op::lt;
  else if (prefix == "<=")
    op = filter_op::le;
  else if (prefix == "%")
    op = filter_op::substr;
  else if (prefix == "=%" || prefix == "%=")
    op = filter_op::like;
  else if (prefix == "!%")
    op = filter_op::not_substr;
  else if (prefix == "@")
    op = filter_op::in;
  else if (prefix == "!@")
    op = filter_op::not_in;
  else
    return std::nullopt;
  return std::make_pair(op, ascii_upper(key.substr(n)));
}

user_filter::user_filter(const portal_data& d, const json::object& filter, bool search) {
  for (auto& kv : filter) {
    auto split = split_filter_key(kv.key());
    if (!split) continue;
    auto kind = kind_of(d, split->second);
    if (!kind || *kind == field_kind::raw) continue;  // unknown keys are dropped silently (trap 2)
    if (*kind == field_kind::dept_name && !search) continue;
    filter_condition c;
    c.field = split->second;
    c.kind = *kind;
    c.op = split->first;
    c.values = condition_values(c.op, kv.value());
    switch (c.kind) {
      case field_kind::id:
        for (auto& v : c.values) c.ints.push_back(php_intval(v));
        if (c.ints.empty()) c.ints.push_back(0);
        if (c.op == filter_op::gt)
          min_id_ = std::max(min_id_, c.ints[0] + 1);
        else if (c.op == filter_op::ge)
          min_id_ = std::max(min_id_, c.ints[0]);
        else if (c.op == filter_op::lt)
          max_id_ = std::min(max_id_, c.ints[0] - 1);
        else if (c.op == filter_op::le)
          max_id_ = std::min(max_id_, c.ints[0]);
        else if (!negative(c.op)) {
          min_id_ = std::max(min_id_, *std::min_element(c.ints.begin(), c.ints.end()));
          max_id_ = std::min(max_id_, *std::max_element(c.ints.begin(), c.ints.end()));
        }
        break;
      case field_kind::active:
      case field_kind::online:
      case field_kind::has_dept:
        c.ints.push_back(yn_truthy(kv.value()) ? 1 : 0);
        break;
      case field_kind::departments:
        c.ints = department_list(kv.value());
        break;
      case field_kind::date:
      case field_kind::datetime:
        for (auto& v : c.values) {
          auto s = php_strval(v);
          std::optional<std::int64_t> t;
          if (c.kind == field_kind::date) {
            if (auto days = parse_date_days(s, d.settings.tz_offset_s)) t = *days * 86400;
          } else {
            t = parse_instant(s, d.settings.tz_offset_s);
          }
          if (t)
            c.times.push_back(*t);
          else
            c.never = true;
        }
        break;
      default:
        for (auto& v : c.values) {
          auto f = fold(php_strval(v));
          if (search && c.op == filter_op::like &&
              (c.field == "NAME" || c.field == "LAST_NAME" || c.field == "SECOND_NAME" ||
               c.field == "WORK_POSITION" || c.kind == field_kind::dept_name) &&
              !f.empty())
            f += "%";  // user.search: right-LIKE on name fields
          c.folded.push_back(std::move(f));
        }
    }
    conds_.push_back(std::move(c));
  }
}

bool user_filter::matches(const portal_data& d, const user_record& u) const {
  if (u.id < min_id_ || u.id > max_id_) return false;
  for (auto& c : conds_) {
    if (c.never) return false;
    bool ok = true;
    switch (c.kind) {
      case field_kind::id: {
        bool any = false;
        for (auto v : c.ints)
          any = any || compare(negative(c.op) || !ordering(c.op) ? filter_op::eq : c.op, u.id, v);
        ok = negative(c.op) ? !any : any;
        break;
      }
      case field_kind::active:
      case field_kind::online:
      case field_kind::has_dept: {
        bool value = c.kind == field_kind::active   ? u.active
                     : c.kind == field_kind::online ? u.online
                                                    : !u.departments.empty();
        ok = (value == (c.ints[0] == 1)) != negative(c.op);
        break;
      }
      case field_kind::departments: {
        bool any = false;
        for (auto v : c.ints)
          any = any || std::find(u.departments.begin(), u.departments.end(), v) != u.departments.end();
        ok = c.ints.empty() ? (u.departments.empty() != negative(c.op)) : (any != negative(c.op));
        break;
      }
      case field_kind::user_type: {
        std::string t = u.extranet ? "EXTRANET" : "EMPLOYEE";
        ok = match_text(c, t) != negative(c.op);
        break;
      }
      case field_kind::name_search: {
        ok = true;
        for (auto& q : c.folded) {
          std::string_view rest(q);
          while (ok && !rest.empty()) {
            auto sp = rest.find(' ');
            auto token = rest.substr(0, sp);
            rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
            if (token.empty()) continue;
            bool hit = false;
            for (const char* f : {"NAME", "LAST_NAME", "SECOND_NAME", "EMAIL"}) {
              auto it = u.fields.find(f);
              if (it != u.fields.end() && it->value().is_string() &&
                  fold(std::string_view(it->value().get_string())).starts_with(token))
                hit = true;
            }
            ok = hit;
          }
        }
        break;
      }
      case field_kind::dept_name: {
        bool any = false;
        for (auto id : u.departments)
          if (auto it = d.departments.find(id);
              it != d.departments.end() && match_text(c, fold(it->second.name)))
            any = true;
        ok = any != negative(c.op);
        break;
      }
      default: {
        auto it = u.fields.find(c.field);
        ok = match_field(c, it == u.fields.end() ? nullptr : &it->value());
      }
    }
    if (!ok) return false;
  }
  return true;
}

}  // namespace b24emu::detail
