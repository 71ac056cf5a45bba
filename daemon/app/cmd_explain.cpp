// `b24sync explain KEY`: one person's journey from source values through each transform to Bitrix24 fields.
#include "app/commands.hpp"

#include "app/exit_codes.hpp"
#include "app/run_context.hpp"
#include "config/mapping.hpp"

#include <fmt/core.h>

namespace b24sync::app {

namespace {

std::string list(const std::vector<std::string>& v) {
  std::string out = "[";
  for (const auto& s : v) out += (out.size() > 1 ? ", \"" : "\"") + s + "\"";
  return out + "]";
}

std::string where(const connectors::origin& o) {
  std::string s = o.source + " " + o.location;
  if (o.line > 0) s += ":" + std::to_string(o.line);
  if (!o.dn.empty()) s += " (" + o.dn + ")";
  return s;
}

}  // namespace

int run_explain(const explain_options& options, const log_options& log_opts) {
  auto log = make_logger(log_opts);
  int exit = to_int(exit_code::ok);
  auto loaded = load_config_or_report(options.config_path, *log, exit);
  if (!loaded) return exit;
  auto sources = read_sources_or_report(loaded->cfg, *log, exit);
  if (!sources) return exit;

  auto ex = config::explain(loaded->cfg, sources->records, today_local(), options.key);
  if (ex.records.empty()) {
    fmt::print("no source record has the key \"{}\"\n", options.key);
    return to_int(exit_code::usage);
  }
  fmt::print("key {}: {} record(s)\n", ex.key, ex.records.size());
  for (const auto& r : ex.records) {
    fmt::print("  from {}\n", where(r.where));
    for (const auto& a : r.attributes) fmt::print("    {} = {}\n", a.name, list(a.values));
  }
  for (const auto& f : ex.fields) {
    fmt::print("{} <- {}\n", f.field, f.rule);
    for (const auto& c : f.candidates) {
      fmt::print("  {} {}{}\n", c.chosen ? "*" : " ", c.source, c.chosen ? " (used)" : "");
      for (const auto& s : c.steps) fmt::print("      {}: {} -> {}\n", s.operation, list(s.input), list(s.output));
    }
    for (const auto& s : f.transform_steps) fmt::print("    {}: {} -> {}\n", s.operation, list(s.input), list(s.output));
    if (!f.problem.empty()) fmt::print("    PROBLEM: {}\n", f.problem);
    fmt::print("    = {}\n", f.value ? config::to_string(*f.value) : std::string{"(left untouched)"});
  }
  for (const auto& a : ex.active)
    fmt::print("active rule {}: {}{}{}\n", a.rule, a.source.empty() ? "no value" : a.source + " \"" + a.value + "\"",
               a.fired ? " -> INACTIVE" : " -> no effect", a.problem.empty() ? "" : " (" + a.problem + ")");
  if (ex.person) {
    fmt::print("result: {} with {} field(s)\n", ex.person->active ? "active" : "inactive (" + ex.person->inactive_reason + ")",
               ex.person->fields.size());
    for (const config::field_ref f : ex.person->fields) fmt::print("  {} = {}\n", f.name(), config::to_string(f));
  } else {
    fmt::print("result: rejected\n");
  }
  for (const auto& r : ex.rejects) fmt::print("  rejected {}: {}\n", where(r.where), r.reason);
  return exit;
}

}  // namespace b24sync::app
