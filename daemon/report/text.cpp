// report/text.cpp: the text report — a summary read in five seconds, then changes, rejects, warnings.
#include "report/detail.hpp"
#include "report/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

namespace b24sync::report {
namespace {

using detail::pad;
using detail::printable;
using detail::shorten;
using detail::utf8_width;

// Longest before/after value shown in the table; the JSON and CSV reports carry the full text.
constexpr std::size_t value_width = 40;
constexpr std::size_t name_width = 28;
constexpr std::size_t email_width = 32;
constexpr std::size_t key_width = 16;
constexpr std::string_view arrow = "\xE2\x86\x92";  // "→"

// ANSI SGR codes; used only when report_options::color says the output is a terminal.
constexpr std::string_view sgr_bold = "1";
constexpr std::string_view sgr_alarm = "1;31";
constexpr std::string_view sgr_dim = "2";

class painter {
 public:
  explicit painter(bool on) : on_(on) {}
  [[nodiscard]] std::string operator()(std::string_view code, std::string_view text) const {
    if (!on_) return std::string(text);
    return fmt::format("\x1b[{}m{}\x1b[0m", code, text);
  }

 private:
  bool on_;
};

std::string_view kind_colour(sync::op_kind k) noexcept {
  switch (k) {
    case sync::op_kind::create: return "32";
    case sync::op_kind::update: return "33";
    case sync::op_kind::reactivate: return "36";
    case sync::op_kind::deactivate: return "31";
    case sync::op_kind::unchanged:
    case sync::op_kind::skip: return sgr_dim;
  }
  return sgr_bold;
}

// Cells of one table line; `note` (a reason) is printed after the leading `lead` columns and
// takes no part in the widths, so a long reason does not stretch the before column.
struct row {
  std::vector<std::string> cells;
  std::string note;
  std::size_t lead = 0;
  std::string colour;  // SGR code for the whole line when colour is on
};

// Prints rows aligned by code points; the last cell is never padded (no trailing spaces).
void print_table(std::string& out, const std::vector<std::string>& header, const std::vector<row>& rows,
                 std::size_t max_rows, const painter& paint) {
  std::vector<std::size_t> widths(header.size(), 0);
  for (std::size_t c = 0; c < header.size(); ++c) widths[c] = utf8_width(header[c]);
  const std::size_t shown = max_rows == 0 ? rows.size() : std::min(rows.size(), max_rows);
  for (std::size_t r = 0; r < shown; ++r) {
    const auto& cells = rows[r].cells;
    for (std::size_t c = 0; c < cells.size() && c < widths.size(); ++c) {
      widths[c] = std::max(widths[c], utf8_width(cells[c]));
    }
  }
  auto line = [&](const std::vector<std::string>& cells, std::size_t upto, const std::string& note) {
    std::string text = "  ";
    const std::size_t n = std::min(upto, cells.size());
    for (std::size_t c = 0; c < n; ++c) {
      const bool last = c + 1 == n && note.empty();
      text += last ? cells[c] : pad(cells[c], widths[c]);
      if (!last) text += "  ";
    }
    if (!note.empty()) {
      for (std::size_t c = n; c < upto; ++c) text += pad("", widths[c]) + "  ";
      text += note;
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    return text;
  };
  out += paint(sgr_bold, line(header, header.size(), "")) + "\n";
  for (std::size_t r = 0; r < shown; ++r) {
    const auto& rw = rows[r];
    const auto text = rw.note.empty() ? line(rw.cells, rw.cells.size(), "") : line(rw.cells, rw.lead, rw.note);
    out += (rw.colour.empty() ? text : paint(rw.colour, text)) + "\n";
  }
  if (shown < rows.size()) out += fmt::format("  ... and {} more\n", rows.size() - shown);
}

std::string id_text(const std::optional<std::int64_t>& id, sync::op_kind k) {
  if (id) return fmt::format("#{}", *id);
  return k == sync::op_kind::create ? "new" : "-";
}

std::string status_text(const sync::op_outcome* o) {
  if (o == nullptr) return "not run";
  switch (o->status) {
    case sync::op_status::not_run: return "not run";
    case sync::op_status::done: return "done";
    case sync::op_status::recovered: return "recovered";
    case sync::op_status::failed: return "FAILED";
  }
  return "?";
}

std::string why_text(const sync::user_op& op) {
  std::string why;
  if (op.kind == sync::op_kind::skip && op.skip != sync::skip_reason::none) why = std::string(to_string(op.skip));
  if (!op.reason.empty()) why += why.empty() ? op.reason : ": " + op.reason;
  return printable(why);
}

void header_block(std::string& out, const sync::plan& p, const sync::run_result* result, const painter& paint) {
  const auto& c = p.counts;
  out += paint(sgr_bold, fmt::format("b24sync {} for {}", result ? "run" : "plan",
                                     p.portal_url.empty() ? "(no portal)" : printable(p.portal_url))) +
         "\n";
  out += fmt::format("  snapshot {}, made {}\n",
                     p.snapshot_fingerprint.empty() ? "-" : printable(p.snapshot_fingerprint.substr(0, 12)),
                     p.created_at.empty() ? "-" : printable(p.created_at));
  out += fmt::format("  source: {} ({}) · portal: {}, {} managed by b24sync\n",
                     detail::plural(c.source_people, "person", "people"),
                     detail::plural(c.source_rejects, "rejected row", "rejected rows"),
                     detail::plural(c.portal_users, "user", "users"), c.managed_users);
  out += "\n" + paint(sgr_bold, detail::summary_line(p)) + "\n";
  if (result != nullptr) {
    const auto& s = result->stats;
    out += fmt::format("Run: {} applied, {} failed, {} not run · {} requests, {} × 503, {} × 429, {} retries · {} s\n",
                       result->applied(), result->failed(), detail::not_run_count(p, *result), s.http_requests,
                       s.http_503, s.http_429, s.retries, detail::seconds_text(s.seconds));
    if (result->interrupted) {
      out += paint(sgr_alarm, "Run INTERRUPTED before every operation ran: safe to run again.") + "\n";
    }
  }
  if (!p.guards.empty()) {
    const std::string bar(72, '!');
    std::string block = bar + "\n";
    block += fmt::format("!!! SAFETY GUARD TRIPPED: {} (exit 3)\n",
                         result ? "nothing was written" : "this plan will not be applied");
    for (const auto& g : p.guards) block += fmt::format("!!! {}: {}\n", printable(g.guard), printable(g.reason));
    block += bar;
    out += "\n" + paint(sgr_alarm, block) + "\n";
  }
  if (c.writes() == 0 && p.guards.empty() && result == nullptr) out += "\nNothing to change.\n";
}

void departments_block(std::string& out, const sync::plan& p, const sync::run_result* result,
                       const report_options& opts, const painter& paint) {
  if (p.departments.empty()) return;
  out += "\n" + paint(sgr_bold, fmt::format("Departments to create ({})", p.departments.size())) + "\n";
  std::vector<std::string> header{"PATH", "PARENT"};
  if (result) header.emplace_back("STATUS");
  std::vector<row> rows;
  for (std::size_t i = 0; i < p.departments.size(); ++i) {
    const auto& d = p.departments[i];
    std::string parent = "-";
    if (d.parent_op && *d.parent_op < p.departments.size()) {
      parent = "new: " + printable(shorten(p.departments[*d.parent_op].path, value_width));
    } else if (d.parent_id) {
      parent = fmt::format("#{}", *d.parent_id);
    }
    row r{{printable(shorten(d.path, value_width * 2)), parent}, {}, 0, {}};
    if (result) r.cells.push_back(status_text(detail::department_outcome(result, i)));
    rows.push_back(std::move(r));
  }
  print_table(out, header, rows, opts.max_rows, paint);
}

// One table per kind. Creates show only the new values, skips only the reason; the others show
// before → after with the reason (deactivations) on a `why:` line under the person.
void kind_block(std::string& out, const sync::plan& p, sync::op_kind kind, const sync::run_result* result,
                const report_options& opts, const painter& paint) {
  const bool creates = kind == sync::op_kind::create;
  const bool skips = kind == sync::op_kind::skip;
  std::vector<row> rows;
  std::size_t users = 0;
  std::vector<std::string> header{"KEY", "NAME", "E-MAIL", "ID"};
  if (result) header.emplace_back("STATUS");
  const std::size_t lead = header.size();
  if (skips) {
    header.emplace_back("WHY");
  } else if (creates) {
    header.insert(header.end(), {"FIELD", "VALUE"});
  } else {
    header.insert(header.end(), {"FIELD", "BEFORE", "", "AFTER"});
  }

  for (std::size_t i = 0; i < p.users.size(); ++i) {
    const auto& op = p.users[i];
    if (op.kind != kind) continue;
    ++users;
    const auto* outcome = detail::user_outcome(result, i);
    std::string id = id_text(op.user_id, op.kind);
    if (creates && outcome != nullptr && outcome->user_id) id = fmt::format("#{} (new)", *outcome->user_id);
    std::vector<std::string> who{printable(shorten(op.key, key_width)), printable(shorten(op.name, name_width)),
                                 printable(shorten(op.email, email_width)), id};
    // Skips are not writes: a status would only say "not run" for every one of them.
    if (result) who.push_back(detail::is_write(op.kind) ? status_text(outcome) : "-");
    const auto why = why_text(op);
    if (skips) {
      auto cells = who;
      cells.push_back(why.empty() ? "-" : why);
      rows.push_back({std::move(cells), {}, 0, {}});
      continue;
    }
    const std::vector<std::string> blank(who.size(), "");
    bool first = true;
    for (const auto& ch : op.changes) {
      auto cells = first ? who : blank;
      cells.push_back(printable(ch.field));
      if (!creates) {
        cells.push_back(printable(shorten(ch.before, value_width)));
        cells.emplace_back(arrow);
      }
      cells.push_back(printable(shorten(ch.after, value_width)));
      rows.push_back({std::move(cells), {}, 0, {}});
      first = false;
    }
    if (first) {
      rows.push_back({who, why.empty() ? "-" : "why: " + why, lead, {}});
    } else if (!why.empty()) {
      rows.push_back({blank, "why: " + why, lead, {}});
    }
  }
  if (users == 0) return;
  out += "\n" + paint(kind_colour(kind), fmt::format("{} ({})", detail::kind_heading(kind), users)) + "\n";
  print_table(out, header, rows, opts.max_rows, paint);
}

void failures_block(std::string& out, const sync::plan& p, const sync::run_result& result, const painter& paint) {
  std::vector<row> rows;
  for (std::size_t i = 0; i < p.departments.size(); ++i) {
    const auto* o = detail::department_outcome(&result, i);
    if (o == nullptr || o->status != sync::op_status::failed) continue;
    rows.push_back({{"department", printable(shorten(p.departments[i].path, value_width)), "-",
                     printable(detail::error_text(*o))},
                    {}, 0, {}});
  }
  for (std::size_t i = 0; i < p.users.size(); ++i) {
    const auto* o = detail::user_outcome(&result, i);
    if (o == nullptr || o->status != sync::op_status::failed) continue;
    const auto& op = p.users[i];
    rows.push_back({{std::string(to_string(op.kind)), printable(shorten(op.key, key_width)),
                     printable(shorten(op.email, email_width)), printable(detail::error_text(*o))},
                    {}, 0, {}});
  }
  if (rows.empty()) return;
  out += "\n" + paint(sgr_alarm, fmt::format("Failed ({})", rows.size())) + "\n";
  print_table(out, {"ACTION", "KEY", "E-MAIL", "ERROR"}, rows, 0, paint);
}

void rejects_block(std::string& out, const sync::plan& p, const painter& paint) {
  if (p.rejects.empty()) return;
  out += "\n" + paint(sgr_bold, fmt::format("Rejected rows ({})", p.rejects.size())) + "\n";
  std::vector<row> rows;
  for (const auto& r : p.rejects) {
    rows.push_back({{printable(detail::origin_text(r.where)), printable(r.reason)}, {}, 0, {}});
  }
  print_table(out, {"WHERE", "REASON"}, rows, 0, paint);
}

void warnings_block(std::string& out, const sync::plan& p, const painter& paint) {
  if (p.warnings.empty()) return;
  out += "\n" + paint(sgr_bold, fmt::format("Warnings ({})", p.warnings.size())) + "\n";
  for (const auto& w : p.warnings) out += "  - " + printable(w) + "\n";
}

}  // namespace

std::string render_text(const sync::plan& p, const sync::run_result* result, const report_options& opts) {
  const painter paint(opts.color);
  std::string out;
  header_block(out, p, result, paint);
  departments_block(out, p, result, opts, paint);
  for (const auto kind : detail::listed_kinds) kind_block(out, p, kind, result, opts, paint);
  if (result != nullptr) failures_block(out, p, *result, paint);
  rejects_block(out, p, paint);
  warnings_block(out, p, paint);
  return out;
}

}  // namespace b24sync::report
