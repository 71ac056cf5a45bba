// report/csv.cpp: the plan (or run) as a spreadsheet — one row per field change; Excel-safe.
#include "report/detail.hpp"
#include "report/report.hpp"

#include <fmt/format.h>

#include <vector>

namespace b24sync::report {
namespace {

// Excel reads a file with this mark as UTF-8; without it Cyrillic turns into mojibake.
constexpr std::string_view bom = "\xEF\xBB\xBF";

// RFC 4180 field, with formula injection neutralised: a spreadsheet evaluates a cell starting with
// = + - @ (or a TAB/CR that it strips first) as a formula, so such a cell gets a leading quote and
// is shown as the text it is.
std::string cell(std::string_view raw) {
  std::string s = detail::valid_utf8(raw);
  if (!s.empty()) {
    const char c = s.front();
    if (c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r') s.insert(s.begin(), '\'');
  }
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string quoted = "\"";
  for (const char c : s) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

void line(std::string& out, const std::vector<std::string>& cells) {
  bool first = true;
  for (const auto& c : cells) {
    if (!first) out += ',';
    out += cell(c);
    first = false;
  }
  out += "\r\n";
}

std::string status_of(const sync::op_outcome* o) {
  return o == nullptr ? std::string("not_run") : std::string(to_string(o->status));
}

}  // namespace

std::string render_csv(const sync::plan& p, const sync::run_result* result) {
  std::string out(bom);
  std::vector<std::string> header{"action", "key", "user_id", "email", "name", "field", "before", "after", "reason"};
  if (result != nullptr) {
    header.emplace_back("status");
    header.emplace_back("error");
  }
  line(out, header);

  for (std::size_t i = 0; i < p.departments.size(); ++i) {
    const auto& d = p.departments[i];
    std::vector<std::string> cells{"create_department", "", "", "", d.name, "department", "", d.path, ""};
    if (result != nullptr) {
      const auto* o = detail::department_outcome(result, i);
      cells.push_back(status_of(o));
      cells.push_back(o == nullptr ? std::string() : detail::error_text(*o));
    }
    line(out, cells);
  }

  for (std::size_t i = 0; i < p.users.size(); ++i) {
    const auto& op = p.users[i];
    if (op.kind == sync::op_kind::unchanged) continue;
    std::string reason = op.reason;
    if (op.kind == sync::op_kind::skip && op.skip != sync::skip_reason::none) {
      reason = reason.empty() ? std::string(to_string(op.skip)) : fmt::format("{}: {}", to_string(op.skip), reason);
    }
    // A run report fills in the ID a create got, so the sheet can be matched against the portal.
    const auto* created = op.kind == sync::op_kind::create ? detail::user_outcome(result, i) : nullptr;
    std::string id = op.user_id ? fmt::format("{}", *op.user_id) : std::string();
    if (created != nullptr && created->user_id) id = fmt::format("{}", *created->user_id);
    auto row = [&](std::string_view field, std::string_view before, std::string_view after) {
      std::vector<std::string> cells{std::string(to_string(op.kind)), op.key, id, op.email, op.name,
                                     std::string(field), std::string(before), std::string(after), reason};
      if (result != nullptr) {
        const auto* o = detail::user_outcome(result, i);
        cells.push_back(status_of(o));
        cells.push_back(o == nullptr ? std::string() : detail::error_text(*o));
      }
      line(out, cells);
    };
    if (op.changes.empty()) row("", "", "");
    for (const auto& ch : op.changes) row(ch.field, ch.before, ch.after);
  }
  return out;
}

}  // namespace b24sync::report
