// Template parsing (a hand-written scanner with byte offsets for errors) and evaluation with tracing.
#include "config/template.hpp"

#include <algorithm>

#include "config/text.hpp"

namespace b24sync::config {
namespace {

struct filter_spec {
  std::string_view name;
  filter_kind kind;
  std::size_t min_args;
  std::size_t max_args;
};

constexpr filter_spec specs[] = {
    {"trim", filter_kind::trim, 0, 0},       {"lower", filter_kind::lower, 0, 0},
    {"upper", filter_kind::upper, 0, 0},     {"collapse", filter_kind::collapse, 0, 0},
    {"title", filter_kind::title, 0, 0},     {"default", filter_kind::default_value, 1, 1},
    {"replace", filter_kind::replace, 2, 2}, {"regex_replace", filter_kind::regex_replace, 2, 2},
    {"first", filter_kind::first, 0, 0},     {"join", filter_kind::join, 0, 1},
    {"split", filter_kind::split, 0, 1},     {"map", filter_kind::map, 1, 2},
};

constexpr std::size_t max_regex_length =
    256;  // keeps std::regex's recursive compiler far from the stack limit

const filter_spec& spec_of(filter_kind k) {
  for (const auto& s : specs)
    if (s.kind == k) return s;
  return specs[0];
}

class scanner {
 public:
  scanner(std::string_view text, const std::map<std::string, value_table>& tables)
      : s_(text), tables_(tables) {}

  value_template run() {
    value_template t;
    t.text = std::string{s_};
    std::string literal;
    auto flush = [&] {
      if (!literal.empty()) t.parts.push_back(template_part{false, std::move(literal), {}, {}});
      literal.clear();
    };
    while (i_ < s_.size()) {
      char c = s_[i_];
      if ((c == '{' || c == '}') && i_ + 1 < s_.size() && s_[i_ + 1] == c) {
        literal += c;
        i_ += 2;
      } else if (c == '{') {
        flush();
        t.parts.push_back(expression());
      } else if (c == '}') {
        throw template_error(i_, "unmatched '}' (write '}}' for a literal brace)");
      } else {
        literal += c;
        ++i_;
      }
    }
    flush();
    return t;
  }

 private:
  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t')) ++i_;
  }

  std::string quoted() {
    char q = s_[i_];
    std::size_t start = i_++;
    std::string out;
    while (i_ < s_.size() && s_[i_] != q) {
      if (s_[i_] == '\\' && i_ + 1 < s_.size()) {
        char e = s_[++i_];
        out += e == 'n' ? '\n' : e == 't' ? '\t' : e;
      } else {
        out += s_[i_];
      }
      ++i_;
    }
    if (i_ >= s_.size()) throw template_error(start, "unterminated quoted string");
    ++i_;
    return out;
  }

  template_part expression() {
    std::size_t open = i_++;
    template_part p;
    p.expression = true;
    skip_ws();
    if (i_ < s_.size() && (s_[i_] == '"' || s_[i_] == '\'')) {
      p.attribute = quoted();
    } else {
      std::size_t start = i_;
      while (i_ < s_.size() && s_[i_] != '|' && s_[i_] != '}' && s_[i_] != '{') ++i_;
      p.attribute = trim(s_.substr(start, i_ - start));
    }
    if (p.attribute.empty()) throw template_error(open, "empty attribute name in '{...}'");
    for (;;) {
      skip_ws();
      if (i_ >= s_.size()) throw template_error(open, "unterminated '{' (missing '}')");
      if (s_[i_] == '}') {
        ++i_;
        return p;
      }
      if (s_[i_] != '|')
        throw template_error(i_, std::string{"unexpected '"} + s_[i_] + "' (expected '|' or '}')");
      ++i_;
      skip_ws();
      p.filters.push_back(parse_filter());
    }
  }

  filter parse_filter() {
    filter f;
    f.offset = i_;
    std::size_t start = i_;
    while (i_ < s_.size() &&
           ((s_[i_] >= 'a' && s_[i_] <= 'z') || (s_[i_] >= 'A' && s_[i_] <= 'Z') || s_[i_] == '_'))
      ++i_;
    std::string name{s_.substr(start, i_ - start)};
    if (name.empty()) throw template_error(start, "expected a transform name after '|'");
    const filter_spec* spec = nullptr;
    for (const auto& s : specs)
      if (s.name == name) spec = &s;
    if (!spec)
      throw template_error(start, "unknown transform \"" + name + "\"" + did_you_mean(name, filter_names()));
    f.kind = spec->kind;
    skip_ws();
    if (i_ < s_.size() && s_[i_] == '(') {
      ++i_;
      for (;;) {
        skip_ws();
        if (i_ >= s_.size()) throw template_error(start, "unterminated argument list of " + name);
        if (s_[i_] == ')' && f.args.empty()) break;
        if (s_[i_] == '"' || s_[i_] == '\'') {
          f.args.push_back(quoted());
        } else {
          std::size_t a = i_;
          while (i_ < s_.size() && s_[i_] != ',' && s_[i_] != ')' && s_[i_] != '}') ++i_;
          f.args.push_back(trim(s_.substr(a, i_ - a)));
        }
        skip_ws();
        if (i_ >= s_.size()) throw template_error(start, "unterminated argument list of " + name);
        if (s_[i_] == ')') break;
        if (s_[i_] != ',') throw template_error(i_, "expected ',' or ')' in the arguments of " + name);
        ++i_;
      }
      ++i_;
    }
    if (f.args.size() < spec->min_args || f.args.size() > spec->max_args) {
      std::string n = spec->min_args == spec->max_args
                          ? std::to_string(spec->min_args)
                          : std::to_string(spec->min_args) + " or " + std::to_string(spec->max_args);
      throw template_error(start,
                           name + " takes " + n + " argument(s), got " + std::to_string(f.args.size()));
    }
    check(f, name, start);
    return f;
  }

  void check(filter& f, const std::string& name, std::size_t at) {
    if (f.kind == filter_kind::replace && f.args[0].empty())
      throw template_error(at, "replace needs a non-empty text to search for");
    if ((f.kind == filter_kind::split) && !f.args.empty() && f.args[0].empty())
      throw template_error(at, "split needs a non-empty separator");
    if (f.kind == filter_kind::regex_replace) {
      if (f.args[0].size() > max_regex_length)
        throw template_error(at,
                             "regular expression longer than " + std::to_string(max_regex_length) + " bytes");
      try {
        f.regex = std::make_shared<const std::regex>(f.args[0], std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        throw template_error(at, "bad regular expression in " + name + ": " + e.what());
      }
    }
    if (f.kind == filter_kind::map) {
      auto it = tables_.find(f.args[0]);
      if (it == tables_.end()) {
        std::vector<std::string> names;
        for (const auto& [k, v] : tables_) names.push_back(k);
        throw template_error(
            at, "map: no table \"" + f.args[0] + "\" in mapping.tables" + did_you_mean(f.args[0], names));
      }
      f.table = std::make_shared<const value_table>(it->second);
    }
  }

  std::string_view s_;
  const std::map<std::string, value_table>& tables_;
  std::size_t i_ = 0;
};

bool all_empty(const std::vector<std::string>& v) {
  return std::all_of(v.begin(), v.end(), [](const std::string& s) { return s.empty(); });
}

}  // namespace

const std::vector<std::string>& filter_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& s : specs) n.emplace_back(s.name);
    return n;
  }();
  return names;
}

std::vector<std::string> value_template::attributes() const {
  std::vector<std::string> out;
  for (const auto& p : parts)
    if (p.expression && std::find(out.begin(), out.end(), p.attribute) == out.end())
      out.push_back(p.attribute);
  return out;
}

value_template parse_template(std::string_view text, const std::map<std::string, value_table>& tables) {
  return scanner{text, tables}.run();
}

value_template attribute_template(std::string_view attribute) {
  value_template t;
  t.text = "{" + std::string{attribute} + "}";
  t.parts.push_back(template_part{true, {}, std::string{attribute}, {}});
  return t;
}

std::string describe(const filter& f) {
  std::string out{spec_of(f.kind).name};
  if (f.args.empty()) return out;
  out += '(';
  for (std::size_t k = 0; k < f.args.size(); ++k) out += (k ? ", \"" : "\"") + f.args[k] + "\"";
  return out + ')';
}

std::vector<std::string> apply_filter(const filter& f, std::vector<std::string> values) {
  auto each = [&](auto&& fn) {
    for (auto& v : values) v = fn(v);
    return std::move(values);
  };
  switch (f.kind) {
    case filter_kind::trim:
      return each([](const std::string& v) { return trim(v); });
    case filter_kind::lower:
      return each([](const std::string& v) { return utf8_lower(v); });
    case filter_kind::upper:
      return each([](const std::string& v) { return utf8_upper(v); });
    case filter_kind::collapse:
      return each([](const std::string& v) { return collapse_spaces(v); });
    case filter_kind::title:
      return each([](const std::string& v) { return utf8_title(v); });
    case filter_kind::replace:
      return each([&](const std::string& v) { return replace_all(v, f.args[0], f.args[1]); });
    case filter_kind::regex_replace:
      return each([&](const std::string& v) { return std::regex_replace(v, *f.regex, f.args[1]); });
    case filter_kind::default_value:
      return all_empty(values) ? std::vector<std::string>{f.args[0]} : std::move(values);
    case filter_kind::first:
      if (values.size() > 1) values.resize(1);
      return values;
    case filter_kind::join: {
      std::string sep = f.args.empty() ? ", " : f.args[0];
      std::string out;
      for (const auto& v : values)
        if (!v.empty()) out += (out.empty() ? "" : sep) + v;
      return {out};
    }
    case filter_kind::split: {
      std::vector<std::string> out;
      for (const auto& v : values)
        for (auto& piece : split(v, f.args.empty() ? std::string_view{","} : std::string_view{f.args[0]}))
          if (!piece.empty()) out.push_back(std::move(piece));
      return out;
    }
    case filter_kind::map:
      return each([&](const std::string& v) {
        auto it = f.table->find(v);
        if (it != f.table->end()) return it->second;
        return f.args.size() > 1 ? f.args[1] : v;
      });
  }
  return values;
}

std::vector<std::string> evaluate(const value_template& t, const connectors::source_record& r,
                                  std::vector<trace_step>* trace) {
  bool single = t.parts.size() == 1 && t.parts.front().expression;
  std::string joined;
  std::vector<std::string> first_values;
  for (const auto& p : t.parts) {
    if (!p.expression) {
      joined += p.literal;
      continue;
    }
    const connectors::attribute* a = r.find(p.attribute);
    std::vector<std::string> values = a ? a->values : std::vector<std::string>{};
    if (trace) trace->push_back({"read " + p.attribute + (a ? "" : " (absent)"), {}, values});
    for (const auto& f : p.filters) {
      std::vector<std::string> in = trace ? values : std::vector<std::string>{};
      values = apply_filter(f, std::move(values));
      if (trace) trace->push_back({describe(f), std::move(in), values});
    }
    if (single) return values;
    std::string first = values.empty() ? std::string{} : values.front();
    first_values.push_back(first);
    joined += first;
  }
  if (trace && !single && t.parts.size() > 1)
    trace->push_back({"template " + t.text, first_values, {joined}});
  return {joined};
}

}  // namespace b24sync::config
