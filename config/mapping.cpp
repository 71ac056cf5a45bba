// map_records and explain: grouping records by key, duplicate-key and duplicate-e-mail conflicts, merging.
#include "config/mapping.hpp"

#include <algorithm>
#include <unordered_map>

#include "common/huge_pages.hpp"
#include "config/date.hpp"
#include "config/detail/person.hpp"
#include "config/text.hpp"

namespace b24sync::config {
namespace {

std::string where_of(const connectors::origin& o) {
  std::string s = o.location.empty() ? o.source : o.location;
  if (o.line) s += ":" + std::to_string(o.line);
  if (!o.dn.empty()) s += (o.line ? " " : ": ") + o.dn;
  return s;
}

struct keyed_reject {
  std::string key;  // empty when the row had no usable key
  connectors::reject reject;
};

struct mapping_run {
  std::vector<desired_person> people;
  std::vector<keyed_reject> rejects;
  std::size_t unmatched_enrichment = 0;
  std::vector<std::string> warnings;
  std::unordered_map<std::string, detail::person_records> groups;  // kept for explain only
};

// `keep_groups`: explain needs each key's records afterwards; a run of 10^6 people does not.
mapping_run run_mapping(const config& cfg, std::span<const connectors::source_record> records,
                        std::chrono::year_month_day today, bool keep_groups) {
  mapping_run run;
  const std::size_t n = cfg.sources.size();
  // Records by key, in order of first appearance: group g's record from source k is first[g * n + k];
  // further records of a key in one source (a conflict) wait in `dupes`, in record order. One hash
  // node per key, keys as views into the records: no vectors or key copies per person.
  std::unordered_map<std::string_view, std::uint32_t> group_of;
  group_of.reserve(records.size());
  std::vector<std::string_view> key_order;
  key_order.reserve(records.size());
  std::vector<const connectors::source_record*> first;
  std::vector<std::pair<std::size_t, const connectors::source_record*>> dupes;  // slot, record
  std::vector<std::vector<std::string>> seen_attrs(n);
  for (const auto& r : records) {
    std::size_t k = 0;
    while (k < n && cfg.sources[k].name != r.where.source) ++k;
    if (k == n) {
      run.rejects.push_back({{}, {r.where, "record of an unknown source \"" + r.where.source + "\""}});
      continue;
    }
    for (const auto& a : r.attributes)
      if (std::find(seen_attrs[k].begin(), seen_attrs[k].end(), a.name) == seen_attrs[k].end() &&
          seen_attrs[k].size() < 4096)
        seen_attrs[k].push_back(a.name);
    const std::string_view key = trim_view(r.first(cfg.sources[k].key));
    if (key.empty()) {
      run.rejects.push_back({{}, {r.where, "the key attribute \"" + cfg.sources[k].key + "\" is empty"}});
      continue;
    }
    auto [it, fresh] = group_of.try_emplace(key, static_cast<std::uint32_t>(key_order.size()));
    if (fresh) {
      key_order.push_back(key);
      first.resize(first.size() + n, nullptr);
    }
    const std::size_t slot = std::size_t{it->second} * n + k;
    if (first[slot] == nullptr)
      first[slot] = &r;
    else
      dupes.emplace_back(slot, &r);
  }
  std::stable_sort(dupes.begin(), dupes.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  // A mapped attribute that no record of any source carries: most likely a misspelt column header.
  for (const auto& rule : cfg.mapping.fields)
    for (const auto& attr : rule.value.attributes()) {
      if (!rule.alternatives.empty()) break;  // `from: [a, b]` expects some attributes to be missing
      bool found = false;
      std::vector<std::string> all;
      for (std::size_t k = 0; k < n && !found; ++k) {
        found = std::any_of(seen_attrs[k].begin(), seen_attrs[k].end(),
                            [&](const std::string& a) { return connectors::iequals_ascii(a, attr); });
        all.insert(all.end(), seen_attrs[k].begin(), seen_attrs[k].end());
      }
      if (!found && !records.empty())
        run.warnings.push_back("mapping.fields." + rule.field + ": no record has the attribute \"" + attr +
                               "\"" + did_you_mean(attr, all));
    }

  std::size_t next_dupe = 0;  // dupes are sorted by slot, and slots are visited in increasing order
  std::vector<const connectors::source_record*> same;
  for (std::size_t g = 0; g < key_order.size(); ++g) {
    const std::string key{key_order[g]};
    bool conflict = false;
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t slot = g * n + k;
      same.clear();
      for (; next_dupe < dupes.size() && dupes[next_dupe].first == slot; ++next_dupe)
        same.push_back(dupes[next_dupe].second);
      if (same.empty()) continue;
      same.insert(same.begin(), first[slot]);
      conflict = true;
      for (const auto* r : same) {
        std::string others;
        for (const auto* o : same)
          if (o != r) others += (others.empty() ? "" : ", ") + where_of(o->where);
        run.rejects.push_back({key,
                               {r->where, "duplicate key \"" + key + "\" in source \"" + cfg.sources[k].name +
                                              "\": also at " + others + "; neither row is used"}});
      }
    }
    if (conflict) continue;
    detail::person_records one(n, nullptr);
    bool listed = false;
    for (std::size_t k = 0; k < n; ++k)
      if (const auto* r = first[g * n + k]) {
        one[k] = r;
        listed = listed || !cfg.sources[k].enrich_only;
      }
    if (!listed) {
      ++run.unmatched_enrichment;
      continue;
    }
    if (keep_groups) run.groups[key] = one;
    detail::build_output built = detail::build_person(cfg, key, one, today, nullptr);
    for (auto& rj : built.rejects) run.rejects.push_back({key, std::move(rj)});
    if (built.person) {
      built.person->fields.shrink_to_fit();  // exactly its fields: 10^6 people are held at once
      run.people.push_back(std::move(*built.person));
    }
  }

  // Two people with one e-mail: Bitrix24 logins are e-mails, so neither can be applied.
  std::vector<std::pair<std::string, std::size_t>> by_email;
  for (std::size_t i = 0; i < run.people.size(); ++i)
    if (auto it = run.people[i].fields.find("EMAIL"); it != run.people[i].fields.end())
      if (std::string e = to_string(*it); !e.empty()) by_email.emplace_back(utf8_lower(e), i);
  std::sort(by_email.begin(), by_email.end());
  std::vector<bool> drop(run.people.size(), false);
  for (std::size_t a = 0; a < by_email.size();) {
    std::size_t b = a;
    while (b < by_email.size() && by_email[b].first == by_email[a].first) ++b;
    for (std::size_t i = a; b - a > 1 && i < b; ++i) {
      const desired_person& p = run.people[by_email[i].second];
      std::string others;
      for (std::size_t j = a; j < b; ++j)
        if (j != i) {
          const desired_person& o = run.people[by_email[j].second];
          others += (others.empty() ? "" : ", ") + std::string{"key "} + o.key +
                    (o.origins.empty() ? "" : " at " + where_of(o.origins.front()));
        }
      connectors::origin where = p.origins.empty() ? connectors::origin{} : p.origins.front();
      run.rejects.push_back({p.key,
                             {where, "key " + p.key + ": duplicate e-mail " + by_email[i].first +
                                         ", also used by " + others + "; neither is used"}});
      drop[by_email[i].second] = true;
    }
    a = b;
  }
  std::vector<desired_person> kept;
  common::reserve_huge(kept, run.people.size());  // the diff engine reads 10^6 of these several times
  for (std::size_t i = 0; i < run.people.size(); ++i)
    if (!drop[i]) kept.push_back(std::move(run.people[i]));
  run.people = std::move(kept);
  std::sort(run.people.begin(), run.people.end(), [](const auto& x, const auto& y) { return x.key < y.key; });
  return run;
}

}  // namespace

std::string to_string(const field_value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* d = std::get_if<std::chrono::year_month_day>(&v)) return to_iso(*d);
  std::string out;
  if (const auto* l = std::get_if<string_list>(&v))
    for (const auto& s : *l) out += (out.empty() ? "" : ", ") + s;
  if (const auto* paths = std::get_if<department_list>(&v))
    for (const auto& p : *paths) {
      if (!out.empty()) out += "; ";
      for (std::size_t i = 0; i < p.levels.size(); ++i) out += (i ? " / " : "") + p.levels[i];
    }
  return out;
}

std::string_view field_source(const config& cfg, const desired_person& p, std::string_view field) {
  auto it = p.fields.find(field);
  if (it == p.fields.end() || it->source() >= cfg.sources.size()) return {};
  return cfg.sources[it->source()].name;
}

mapping_result map_records(const config& cfg, std::span<const connectors::source_record> records,
                           std::chrono::year_month_day today) {
  mapping_run run = run_mapping(cfg, records, today, false);
  mapping_result out;
  out.people = std::move(run.people);
  out.unmatched_enrichment = run.unmatched_enrichment;
  out.warnings = std::move(run.warnings);
  for (auto& r : run.rejects) {
    if (!r.key.empty()) out.rejected_keys.push_back(r.key);
    out.rejects.push_back(std::move(r.reject));
  }
  std::sort(out.rejected_keys.begin(), out.rejected_keys.end());
  out.rejected_keys.erase(std::unique(out.rejected_keys.begin(), out.rejected_keys.end()),
                          out.rejected_keys.end());
  return out;
}

explain_result explain(const config& cfg, std::span<const connectors::source_record> records,
                       std::chrono::year_month_day today, std::string_view key) {
  explain_result out;
  out.key = std::string{key};
  std::string wanted = trim(key);
  for (const auto& r : records)
    for (const auto& s : cfg.sources)
      if (s.name == r.where.source && trim(r.first(s.key)) == wanted) out.records.push_back(r);
  mapping_run run = run_mapping(cfg, records, today, true);
  for (auto& rj : run.rejects)
    if (rj.key == wanted) out.rejects.push_back(std::move(rj.reject));
  for (auto& p : run.people)
    if (p.key == wanted) out.person = std::move(p);
  if (auto it = run.groups.find(wanted); it != run.groups.end()) {
    detail::person_trace trace;
    detail::build_person(cfg, wanted, it->second, today, &trace);
    out.fields = std::move(trace.fields);
    out.active = std::move(trace.active);
  }
  return out;
}

}  // namespace b24sync::config
