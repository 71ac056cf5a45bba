// Drives the connectors for each configured source and gathers records, rejects and a per-source summary.
#include "app/sources.hpp"

#include "connectors/csv_reader.hpp"
#include "connectors/ldap_reader.hpp"
#include "connectors/ldif_reader.hpp"

#include <fmt/core.h>

namespace b24sync::app {

namespace {

connectors::ldap_scope to_ldap_scope(config::ldap_scope s) {
  switch (s) {
    case config::ldap_scope::base: return connectors::ldap_scope::base;
    case config::ldap_scope::one: return connectors::ldap_scope::one;
    case config::ldap_scope::sub: break;
  }
  return connectors::ldap_scope::sub;
}

std::string delimiter_name(char d) {
  if (d == '\t') return "tab";
  return fmt::format("'{}'", d);
}

}  // namespace

loaded_sources read_sources(const config::config& cfg) {
  loaded_sources out;
  auto keep = [&out](connectors::source_record&& r) { out.records.push_back(std::move(r)); };
  // Every reader's result has rejects; they join the run's list and are counted per source.
  auto take_rejects = [&out](auto& result, source_summary& sum) {
    sum.rejected = result.rejects.size();
    for (auto& r : result.rejects) out.rejects.push_back(std::move(r));
  };
  for (const auto& src : cfg.sources) {
    source_summary sum{src.name, std::string{config::to_string(src.type)}, {}, 0, 0, {}};
    const std::size_t before = out.records.size();
    switch (src.type) {
      case config::source_type::csv: {
        connectors::csv_options o;
        o.path = src.path;
        o.source_name = src.name;
        o.encoding = src.encoding;
        o.delimiter = src.delimiter;
        auto res = connectors::read_csv(o, keep);
        sum.location = src.path;
        sum.detail = fmt::format("{}{}, delimiter {}", connectors::to_string(res.stats.encoding),
                                 res.stats.had_bom ? " with BOM" : "", delimiter_name(res.stats.delimiter));
        take_rejects(res, sum);
        break;
      }
      case config::source_type::ldif: {
        connectors::ldif_options o;
        o.path = src.path;
        o.source_name = src.name;
        if (!src.object_classes.empty()) o.object_classes = src.object_classes;
        o.filter = src.filter;
        auto res = connectors::read_ldif(o, keep);
        sum.location = src.path;
        sum.detail = fmt::format("{} entries, {} filtered out, {} change records skipped", res.stats.entries,
                                 res.stats.filtered_out, res.stats.skipped);
        take_rejects(res, sum);
        break;
      }
      case config::source_type::ldap: {
        connectors::ldap_options o;
        o.uri = src.uri;
        o.source_name = src.name;
        o.starttls = src.starttls;
        o.bind_dn = src.bind_dn;
        o.password = src.password.reveal();
        o.base = src.base;
        o.scope = to_ldap_scope(src.scope);
        if (!src.filter.empty()) o.filter = src.filter;
        o.attributes = src.attributes;
        o.page_size = src.page_size;
        auto res = connectors::read_ldap(o, keep);
        sum.location = src.uri;
        sum.detail = fmt::format("{} pages", res.stats.pages);
        take_rejects(res, sum);
        break;
      }
    }
    sum.records = out.records.size() - before;
    out.summaries.push_back(std::move(sum));
  }
  return out;
}

}  // namespace b24sync::app
