// report/report.hpp: plan and run reports — text (for people), JSON (versioned; the input of
// `sync --plan`), CSV (Excel-safe), HTML (one self-contained page). Pure: values in, text out.
#pragma once

#include "sync/outcome.hpp"
#include "sync/plan.hpp"

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace b24sync::report {

enum class format { text, json, csv, html };
std::optional<format> format_from_string(std::string_view s) noexcept;  ///< "text", "json", "csv", "html"

struct report_options {
  bool color = false;           ///< text: ANSI colours (only on a TTY)
  std::size_t max_rows = 0;     ///< text: change rows shown before "... and N more"; 0 = all
  std::string title;            ///< html: page title; empty = "b24sync plan" / "b24sync run"
};

/// `result` null: a plan report; set: a run report with per-operation outcomes.
std::string render(format f, const sync::plan& p, const sync::run_result* result = nullptr,
                   const report_options& opts = {});

std::string render_text(const sync::plan& p, const sync::run_result* result, const report_options& opts);
std::string render_json(const sync::plan& p, const sync::run_result* result);
std::string render_csv(const sync::plan& p, const sync::run_result* result);
std::string render_html(const sync::plan& p, const sync::run_result* result, const report_options& opts);

/// A plan file that cannot be used (bad JSON, wrong schema_version, missing keys). what() says where.
class plan_file_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Reads a JSON plan written by render_json back (outcomes, if any, are ignored): round-trips exactly
/// (parse_plan_json(render_json(p, nullptr)) == p). Throws plan_file_error.
sync::plan parse_plan_json(std::string_view text);
/// The same; messages start with `source_name` (the file's path) instead of "plan.json".
sync::plan parse_plan_json(std::string_view text, std::string_view source_name);

}  // namespace b24sync::report
