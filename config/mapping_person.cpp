// One person: field rules over the person's records (precedence), typed transforms, active rules, validation.
#include <algorithm>
#include <charconv>

#include "config/date.hpp"
#include "config/detail/person.hpp"
#include "config/phone.hpp"
#include "config/text.hpp"

namespace b24sync::config::detail {
namespace {

// Source indices in the order a field's value is looked for.
std::vector<std::size_t> source_order(const config& cfg, const field_rule& rule) {
  auto index_of = [&](const std::string& name) {
    for (std::size_t k = 0; k < cfg.sources.size(); ++k)
      if (cfg.sources[k].name == name) return k;
    return cfg.sources.size();
  };
  std::vector<std::size_t> order;
  auto add = [&](const std::vector<std::string>& names) {
    for (const auto& n : names)
      if (std::size_t k = index_of(n);
          k < cfg.sources.size() && std::find(order.begin(), order.end(), k) == order.end())
        order.push_back(k);
  };
  if (!rule.sources.empty()) {
    add(rule.sources);  // an explicit list restricts the field to those sources
    return order;
  }
  if (auto it = cfg.mapping.field_precedence.find(rule.field); it != cfg.mapping.field_precedence.end())
    add(it->second);
  add(cfg.mapping.precedence);
  for (std::size_t k = 0; k < cfg.sources.size(); ++k)
    if (std::find(order.begin(), order.end(), k) == order.end()) order.push_back(k);
  return order;
}

bool has_any(const connectors::source_record& r, const value_template& t) {
  std::vector<std::string> attrs = t.attributes();
  return attrs.empty() ||
         std::any_of(attrs.begin(), attrs.end(), [&](const std::string& a) { return r.find(a) != nullptr; });
}

// The template to evaluate for a record: the first of `from: [a, b, ...]` the record has. A CSV row
// always has every column, so a missing attribute means the source does not provide the field
// (nullptr); an LDAP entry simply omits empty attributes, so it falls back to the first template.
const value_template* template_for(const source_config& s, const connectors::source_record& r,
                                   const field_rule& rule) {
  if (has_any(r, rule.value)) return &rule.value;
  for (const auto& alt : rule.alternatives)
    if (has_any(r, alt)) return &alt;
  return s.type == source_type::csv ? nullptr : &rule.value;
}

bool all_empty(const std::vector<std::string>& v) {
  return std::all_of(v.begin(), v.end(), [](const std::string& s) { return s.empty(); });
}

std::string describe_rule(const field_rule& rule) {
  std::string s = rule.value.text;
  for (const auto& alt : rule.alternatives) s += " or " + alt.text;
  if (rule.map) s += " | map(inline)";
  if (rule.transform != transform_kind::none) s += " -> " + std::string{to_string(rule.transform)};
  if (rule.transform == transform_kind::phone) s += " (" + rule.region + ")";
  return s;
}

}  // namespace

std::size_t default_max_length(std::string_view field) {
  // b_user columns: NAME, LAST_NAME, SECOND_NAME are varchar(50); most others varchar(255).
  if (field == "NAME" || field == "LAST_NAME" || field == "SECOND_NAME") return 50;
  return 255;
}

build_output build_person(const config& cfg, const std::string& key, const person_records& records,
                          std::chrono::year_month_day today, person_trace* trace) {
  build_output out;
  desired_person p;
  p.key = key;
  const connectors::source_record* primary = nullptr;
  for (const auto* r : records)
    if (r) {
      p.origins.push_back(r->where);
      if (!primary) primary = r;
    }
  auto reject = [&](const connectors::origin& where, std::string reason) {
    out.rejects.push_back({where, "key " + key + ": " + std::move(reason)});
  };

  std::vector<std::string> failed_fields;
  for (std::size_t rule_index = 0; rule_index < cfg.mapping.fields.size(); ++rule_index) {
    const field_rule& rule = cfg.mapping.fields[rule_index];
    explain_field ef;  // filled only for explain: a run builds 10^6 people and needs none of it
    if (trace) {
      ef.field = rule.field;
      ef.rule = describe_rule(rule);
    }
    std::optional<std::vector<std::string>> chosen;
    std::optional<std::size_t> chosen_source;
    std::optional<std::size_t> empty_source;
    for (std::size_t k : source_order(cfg, rule)) {
      const connectors::source_record* r = records[k];
      const value_template* t = r ? template_for(cfg.sources[k], *r, rule) : nullptr;
      if (!t) continue;
      explain_candidate c;
      if (trace) {
        c.source = cfg.sources[k].name;
        c.where = r->where;
      }
      std::vector<std::string> values = evaluate(*t, *r, trace ? &c.steps : nullptr);
      if (rule.map) {
        filter f;
        f.kind = filter_kind::map;
        f.table = rule.map;
        f.args = {"inline"};
        std::vector<std::string> in = trace ? values : std::vector<std::string>{};
        values = apply_filter(f, std::move(values));
        if (trace) c.steps.push_back({"map (inline table)", std::move(in), values});
      }
      if (trace) c.values = values;
      bool empty = all_empty(values);
      if (!chosen && !empty) {
        chosen = std::move(values);
        chosen_source = k;
        c.chosen = true;
      } else if (!empty_source && empty) {
        empty_source = k;
      }
      if (trace) ef.candidates.push_back(std::move(c));
      if (chosen && !trace) break;  // explain shows every source; a run needs only the winner
    }
    if (!chosen && empty_source) {
      chosen = std::vector<std::string>{};
      chosen_source = empty_source;
      if (trace)
        for (auto& c : ef.candidates)
          if (c.source == cfg.sources[*empty_source].name) c.chosen = true;
    }
    if (!chosen) {  // no record of this person carries the field: leave the portal's value alone
      if (trace) trace->fields.push_back(std::move(ef));
      continue;
    }
    const connectors::origin& where = records[*chosen_source]->where;
    std::vector<std::string> values;
    for (auto& v : *chosen)
      if (std::string c = collapse_spaces(v); !c.empty()) values.push_back(std::move(c));
    if (!rule.multiple && values.size() > 1) values.resize(1);
    auto step = [&](std::string op, const std::vector<std::string>& in, const std::vector<std::string>& o) {
      if (trace) ef.transform_steps.push_back({std::move(op), in, o});
    };
    if (trace)
      step("canonical (trim, collapse spaces" + std::string{rule.multiple ? "" : ", first value"} + ")",
           *chosen, values);
    field_value value = std::string{};
    std::string problem;
    switch (rule.transform) {
      case transform_kind::none:
      case transform_kind::phone: {
        std::vector<std::string> result;
        for (const auto& v : values) {
          if (rule.transform == transform_kind::none) {
            result.push_back(v);
            continue;
          }
          if (auto e164 = normalize_phone(v, rule.region)) {
            result.push_back(*e164);
          } else if (rule.on_invalid == invalid_action::keep) {
            result.push_back(v);
          } else if (rule.on_invalid == invalid_action::reject) {
            problem = "\"" + v + "\" is not a phone number (region " + rule.region + ")";
          }
        }
        if (trace && rule.transform == transform_kind::phone) step("phone " + rule.region, values, result);
        if (rule.field == "EMAIL") {
          for (auto& v : result) v = utf8_lower(v);
          if (trace) step("e-mail lower-case", values, result);
        }
        if (rule.multiple)
          value = std::move(result);
        else
          value = result.empty() ? std::string{} : std::move(result.front());
        break;
      }
      case transform_kind::date: {
        if (values.empty()) break;
        if (auto d = parse_date(values.front(), rule.formats, rule.excel_serial)) {
          value = *d;
          if (trace) step("date", {values.front()}, {to_iso(*d)});
        } else if (rule.on_invalid == invalid_action::keep) {
          value = values.front();
          if (trace) step("date (unreadable, kept)", {values.front()}, {values.front()});
        } else if (rule.on_invalid == invalid_action::reject) {
          problem = "\"" + values.front() + "\" is not a date in any of the formats";
        } else {
          if (trace) step("date (unreadable, dropped)", {values.front()}, {});
        }
        break;
      }
      case transform_kind::department: {
        department_list paths;
        std::vector<std::string> shown;
        for (const auto& v : values) {
          department_path dp;
          for (auto& level : split(v, rule.path_separator))
            if (std::string t = collapse_spaces(level); !t.empty()) dp.levels.push_back(std::move(t));
          if (!dp.levels.empty()) {
            if (trace) shown.push_back(to_string(field_value{department_list{dp}}));
            paths.push_back(std::move(dp));
          }
        }
        if (trace) step("department (separator \"" + rule.path_separator + "\")", values, shown);
        value = std::move(paths);
        break;
      }
    }
    std::size_t limit = rule.max_length ? rule.max_length : default_max_length(rule.field);
    auto check_length = [&](const std::string& s) {
      if (problem.empty() && utf8_length(s) > limit)
        problem = "value is " + std::to_string(utf8_length(s)) + " characters long; the limit is " +
                  std::to_string(limit);
    };
    if (const auto* s = std::get_if<std::string>(&value)) check_length(*s);
    if (const auto* l = std::get_if<string_list>(&value))
      for (const auto& s : *l) check_length(s);
    if (!problem.empty()) {
      reject(where, rule.field + ": " + problem);
      failed_fields.push_back(rule.field);
      ef.problem = problem;
    } else {
      if (trace) ef.value = value;
      const auto source = static_cast<std::uint16_t>(std::min<std::size_t>(*chosen_source, max_sources));
      p.fields.set(rule.field, value, source);
    }
    if (trace) trace->fields.push_back(std::move(ef));
  }

  for (const auto& a : cfg.mapping.active) {
    explain_active ea;
    ea.rule = a.from + " " + std::string{to_string(a.when)};
    const connectors::source_record* r = nullptr;
    for (std::size_t k = 0; k < cfg.sources.size() && !r; ++k) {
      if (!records[k] || (!a.source.empty() && cfg.sources[k].name != a.source)) continue;
      if (records[k]->find(a.from) || !a.source.empty()) {
        r = records[k];
        ea.source = cfg.sources[k].name;
      }
    }
    if (r) {
      ea.value = trim(r->first(a.from));
      switch (a.when) {
        case inactive_condition::disabled_bit: {
          std::uint64_t flags = 0;
          auto [end, ec] = std::from_chars(ea.value.data(), ea.value.data() + ea.value.size(), flags);
          if (ea.value.empty()) break;
          if (ec != std::errc{} || end != ea.value.data() + ea.value.size())
            ea.problem = a.from + " \"" + ea.value + "\" is not a number";
          else
            ea.fired = (flags & a.disabled_bit) != 0;
          break;
        }
        case inactive_condition::nonempty:
          ea.fired = !ea.value.empty();
          break;
        case inactive_condition::past_date: {
          if (ea.value.empty()) break;
          if (auto d = parse_date(ea.value, a.formats, false))
            ea.fired = *d < today;
          else
            ea.problem = a.from + " \"" + ea.value + "\" is not a date in any of the formats";
          break;
        }
        case inactive_condition::equals:
        case inactive_condition::not_equals: {
          bool listed = std::find(a.values.begin(), a.values.end(), utf8_lower(ea.value)) != a.values.end();
          ea.fired = a.when == inactive_condition::equals ? listed : !listed;
          break;
        }
      }
      if (!ea.problem.empty()) reject(r->where, "active: " + ea.problem);
      if (ea.fired && p.active) {
        p.active = false;
        p.inactive_reason = a.from + " = \"" + ea.value + "\" (" + std::string{to_string(a.when)} + ")";
      }
    }
    if (trace) trace->active.push_back(std::move(ea));
  }

  // Required fields. An inactive person is never created, so it may lack them.
  auto text_of = [&](const char* f) -> std::string {
    auto it = p.fields.find(f);
    return it == p.fields.end() ? std::string{} : to_string(*it);
  };
  const connectors::origin& where = primary ? primary->where : connectors::origin{};
  // A field already rejected above is not reported a second time as missing.
  auto failed = [&](const char* f) {
    return std::find(failed_fields.begin(), failed_fields.end(), f) != failed_fields.end();
  };
  std::string email = text_of("EMAIL");
  if (!email.empty() && !is_valid_email(email))
    reject(where, "EMAIL \"" + email + "\" is not a valid e-mail address");
  if (p.active && email.empty() && !failed("EMAIL")) reject(where, "EMAIL is empty");
  if (p.active && text_of("NAME").empty() && text_of("LAST_NAME").empty() && !failed("NAME") &&
      !failed("LAST_NAME"))
    reject(where, "NAME and LAST_NAME are both empty");
  // The HR key itself is desired state too: written to identity_field so later runs find the account.
  p.fields.set(cfg.mapping.identity_field, key);
  if (out.rejects.empty()) out.person = std::move(p);
  return out;
}

}  // namespace b24sync::config::detail
