// report/html.cpp: one self-contained HTML page (inline CSS and SVG, no scripts, no external assets).
#include "report/detail.hpp"
#include "report/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <vector>

namespace b24sync::report {
namespace {

// Every piece of source or portal data goes through here: a surname may be `<script>`.
std::string esc(std::string_view raw) {
  const auto s = detail::printable(raw);
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

constexpr std::string_view css = R"css(
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em;color:#1d2330;background:#fff}
h1{font-size:1.5em;margin:0 0 .2em}h2{font-size:1.2em;margin:1.6em 0 .4em;border-bottom:1px solid #dde}
h3{font-size:1em;margin:1.2em 0 .3em}.meta{color:#667;margin:0}
.line{font-size:1.1em;font-weight:600}
table{border-collapse:collapse;margin:.3em 0}th,td{border:1px solid #dde;padding:.2em .5em;text-align:left;vertical-align:top}
th{background:#f3f4f8}td.num{text-align:right;font-variant-numeric:tabular-nums}
.before{color:#a33;text-decoration:line-through}.after{color:#1b6e2a}.arrow{color:#999}
.guards{border:2px solid #c00;background:#fff0f0;padding:.6em 1em;margin:1em 0}
.guards h2{color:#c00;border:0;margin-top:0}.failed{color:#c00;font-weight:600}
.k-create{color:#1b6e2a}.k-update{color:#8a6d00}.k-reactivate{color:#00798a}.k-deactivate{color:#c00}.k-skip{color:#667}
svg text{font:12px system-ui,sans-serif;fill:#1d2330}
)css";

struct bar {
  std::string_view id;     // data-* name and element id suffix
  std::string_view label;  // shown to people
  std::size_t value;
  std::string_view colour;
};

std::vector<bar> bars_of(const sync::plan& p) {
  const auto& c = p.counts;
  return {{"create", "to create", c.create, "#2e9e44"},
          {"update", "to update", c.update, "#d4a900"},
          {"reactivate", "to reactivate", c.reactivate, "#1aa3b8"},
          {"deactivate", "to deactivate", c.deactivate, "#d33"},
          {"unchanged", "unchanged", c.unchanged, "#b8bccc"},
          {"skip", "skipped", c.skip, "#8a8fa3"},
          {"rejects", "rejected rows", c.source_rejects, "#7a4fbf"},
          {"departments", "departments to create", c.departments, "#3b6fd4"}};
}

// A horizontal bar per count; bar lengths are relative to the largest count.
std::string chart(const std::vector<bar>& bars) {
  constexpr int label_w = 170, bar_w = 300, row_h = 22, bar_h = 16;
  std::size_t max = 1;
  for (const auto& b : bars) max = std::max(max, b.value);
  const auto height = static_cast<int>(bars.size()) * row_h;
  std::string svg = fmt::format(
      "<svg id=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "role=\"img\" aria-label=\"counts\">\n",
      label_w + bar_w + 80, height);
  int y = 0;
  for (const auto& b : bars) {
    auto w = static_cast<int>(static_cast<double>(b.value) / static_cast<double>(max) * bar_w);
    if (b.value > 0 && w < 2) w = 2;
    svg += fmt::format(
        "<g><text x=\"0\" y=\"{0}\">{1}</text><rect x=\"{2}\" y=\"{3}\" width=\"{4}\" height=\"{5}\" fill=\"{6}\"/>"
        "<text x=\"{7}\" y=\"{0}\">{8}</text></g>\n",
        y + 13, b.label, label_w, y + 2, w, bar_h, b.colour, label_w + w + 6, b.value);
    y += row_h;
  }
  svg += "</svg>\n";
  return svg;
}

std::string status_cell(const sync::op_outcome* o) {
  if (o == nullptr) return "<td>not run</td>";
  switch (o->status) {
    case sync::op_status::not_run: return "<td>not run</td>";
    case sync::op_status::done: return "<td>done</td>";
    case sync::op_status::recovered: return "<td>recovered</td>";
    case sync::op_status::failed: return "<td class=\"failed\">failed</td>";
  }
  return "<td></td>";
}

void summary(std::string& out, const sync::plan& p, const sync::run_result* result) {
  const auto bars = bars_of(p);
  out += "<section id=\"summary\"";
  for (const auto& b : bars) out += fmt::format(" data-{}=\"{}\"", b.id, b.value);
  out += fmt::format(" data-field-changes=\"{}\"", p.counts.field_changes);
  out += fmt::format(" data-guards=\"{}\"", p.guards.size());
  if (result != nullptr) {
    out += fmt::format(" data-applied=\"{}\" data-failed=\"{}\" data-not-run=\"{}\"", result->applied(),
                       result->failed(), detail::not_run_count(p, *result));
  }
  out += ">\n<h2>Summary</h2>\n";
  out += "<p class=\"line\" id=\"summary-line\">" + esc(detail::summary_line(p)) + "</p>\n";
  out += "<table class=\"counts\">\n";
  for (const auto& b : bars) {
    out += fmt::format("<tr><th>{}</th><td class=\"num\" id=\"count-{}\">{}</td></tr>\n", b.label, b.id, b.value);
  }
  out += "</table>\n" + chart(bars);
  if (result != nullptr) {
    const auto& s = result->stats;
    out += fmt::format(
        "<p id=\"run\">Run: <b id=\"run-applied\">{}</b> applied, <b id=\"run-failed\">{}</b> failed, {} not run; "
        "{} requests, {} answered 503, {} answered 429, {} retries; {} s.{}</p>\n",
        result->applied(), result->failed(), detail::not_run_count(p, *result), s.http_requests, s.http_503,
        s.http_429, s.retries, detail::seconds_text(s.seconds),
        result->interrupted ? " <b class=\"failed\">Interrupted before every operation ran: safe to run again.</b>"
                            : "");
  }
  out += "</section>\n";
}

void guards(std::string& out, const sync::plan& p, const sync::run_result* result) {
  if (p.guards.empty()) return;
  out += "<section id=\"guards\" class=\"guards\">\n";
  out += fmt::format("<h2>Safety guard tripped: {} (exit 3)</h2>\n<ul>\n",
                     result ? "nothing was written" : "this plan will not be applied");
  for (const auto& g : p.guards) {
    out += fmt::format("<li><b>{}</b>: {}</li>\n", esc(g.guard), esc(g.reason));
  }
  out += "</ul>\n</section>\n";
}

void departments(std::string& out, const sync::plan& p, const sync::run_result* result) {
  if (p.departments.empty()) return;
  out += fmt::format("<h3>Departments to create ({})</h3>\n<table>\n<tr><th>Path</th><th>Parent</th>{}</tr>\n",
                     p.departments.size(), result ? "<th>Status</th>" : "");
  for (std::size_t i = 0; i < p.departments.size(); ++i) {
    const auto& d = p.departments[i];
    std::string parent = "-";
    if (d.parent_op && *d.parent_op < p.departments.size()) {
      parent = "new: " + esc(p.departments[*d.parent_op].path);
    } else if (d.parent_id) {
      parent = fmt::format("#{}", *d.parent_id);
    }
    out += fmt::format("<tr><td>{}</td><td>{}</td>{}</tr>\n", esc(d.path), parent,
                       result ? status_cell(detail::department_outcome(result, i)) : "");
  }
  out += "</table>\n";
}

void changes(std::string& out, const sync::plan& p, const sync::run_result* result) {
  out += "<section id=\"changes\">\n<h2>Changes</h2>\n";
  departments(out, p, result);
  bool any = !p.departments.empty();
  for (const auto kind : detail::listed_kinds) {
    std::string rows;
    std::size_t users = 0;
    for (std::size_t i = 0; i < p.users.size(); ++i) {
      const auto& op = p.users[i];
      if (op.kind != kind) continue;
      ++users;
      std::string why;
      if (op.kind == sync::op_kind::skip && op.skip != sync::skip_reason::none) why = std::string(to_string(op.skip));
      if (!op.reason.empty()) why += why.empty() ? op.reason : ": " + op.reason;
      const auto* outcome = detail::user_outcome(result, i);
      std::string id = op.user_id ? fmt::format("#{}", *op.user_id) : (kind == sync::op_kind::create ? "new" : "-");
      if (kind == sync::op_kind::create && outcome != nullptr && outcome->user_id) {
        id = fmt::format("#{} (new)", *outcome->user_id);
      }
      // Skips are not writes: their status column stays empty rather than "not run".
      const std::string status = !result ? "" : detail::is_write(kind) ? status_cell(outcome) : "<td>-</td>";
      const auto who = fmt::format("<td>{}</td><td>{}</td><td>{}</td><td>{}</td>{}", esc(op.key), esc(op.name),
                                   esc(op.email), id, status);
      const auto blank = fmt::format("<td></td><td></td><td></td><td></td>{}", result ? "<td></td>" : "");
      if (op.changes.empty()) {
        rows += fmt::format("<tr>{}<td></td><td></td><td></td><td>{}</td></tr>\n", who, esc(why));
      }
      for (std::size_t c = 0; c < op.changes.size(); ++c) {
        const auto& ch = op.changes[c];
        rows += fmt::format("<tr>{}<td>{}</td><td class=\"before\">{}</td><td class=\"after\">{}</td><td>{}</td></tr>\n",
                            c == 0 ? who : blank, esc(ch.field), esc(ch.before), esc(ch.after),
                            c == 0 ? esc(why) : "");
      }
    }
    if (users == 0) continue;
    any = true;
    const auto name = to_string(kind);
    out += fmt::format("<h3 class=\"k-{}\">{} ({})</h3>\n<table id=\"changes-{}\">\n", name, detail::kind_heading(kind),
                       users, name);
    out += fmt::format("<tr><th>Key</th><th>Name</th><th>E-mail</th><th>ID</th>{}<th>Field</th><th>Before</th>"
                       "<th>After</th><th>Why</th></tr>\n",
                       result ? "<th>Status</th>" : "");
    out += rows + "</table>\n";
  }
  if (!any) out += "<p>Nothing to change.</p>\n";
  out += "</section>\n";
}

void failures(std::string& out, const sync::plan& p, const sync::run_result& result) {
  std::string rows;
  std::size_t n = 0;
  for (std::size_t i = 0; i < p.departments.size(); ++i) {
    const auto* o = detail::department_outcome(&result, i);
    if (o == nullptr || o->status != sync::op_status::failed) continue;
    ++n;
    rows += fmt::format("<tr><td>create department</td><td>{}</td><td></td><td>{}</td><td class=\"num\">{}</td></tr>\n",
                        esc(p.departments[i].path), esc(detail::error_text(*o)), o->attempts);
  }
  for (std::size_t i = 0; i < p.users.size(); ++i) {
    const auto* o = detail::user_outcome(&result, i);
    if (o == nullptr || o->status != sync::op_status::failed) continue;
    ++n;
    const auto& op = p.users[i];
    rows += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>\n",
                        to_string(op.kind), esc(op.key), esc(op.email), esc(detail::error_text(*o)), o->attempts);
  }
  out += fmt::format("<section id=\"failures\" data-count=\"{}\">\n<h2>Failures ({})</h2>\n", n, n);
  if (n == 0) {
    out += "<p>None.</p>\n";
  } else {
    out += "<table>\n<tr><th>Action</th><th>Key / path</th><th>E-mail</th><th>Error</th><th>Attempts</th></tr>\n" +
           rows + "</table>\n";
  }
  out += "</section>\n";
}

void rejects(std::string& out, const sync::plan& p) {
  out += fmt::format("<section id=\"rejects\" data-count=\"{}\">\n<h2>Rejected rows ({})</h2>\n", p.rejects.size(),
                     p.rejects.size());
  if (p.rejects.empty()) {
    out += "<p>None.</p>\n";
  } else {
    out += "<table>\n<tr><th>Where</th><th>Reason</th></tr>\n";
    for (const auto& r : p.rejects) {
      out += fmt::format("<tr><td>{}</td><td>{}</td></tr>\n", esc(detail::origin_text(r.where)), esc(r.reason));
    }
    out += "</table>\n";
  }
  out += "</section>\n";
}

void warnings(std::string& out, const sync::plan& p) {
  if (p.warnings.empty()) return;
  out += fmt::format("<section id=\"warnings\">\n<h2>Warnings ({})</h2>\n<ul>\n", p.warnings.size());
  for (const auto& w : p.warnings) out += "<li>" + esc(w) + "</li>\n";
  out += "</ul>\n</section>\n";
}

}  // namespace

std::string render_html(const sync::plan& p, const sync::run_result* result, const report_options& opts) {
  const std::string title =
      opts.title.empty() ? std::string(result ? "b24sync run" : "b24sync plan") : opts.title;
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<title>" + esc(title) + "</title>\n<style>" + std::string(css) + "</style>\n</head>\n<body>\n";
  out += "<h1>" + esc(title) + "</h1>\n";
  out += fmt::format("<p class=\"meta\">Portal <b>{}</b> · snapshot <code>{}</code> · made {}</p>\n",
                     esc(p.portal_url), esc(p.snapshot_fingerprint), esc(p.created_at));
  out += fmt::format("<p class=\"meta\">Source: {} · portal: {}, {} managed by b24sync</p>\n",
                     detail::plural(p.counts.source_people, "person", "people"),
                     detail::plural(p.counts.portal_users, "user", "users"), p.counts.managed_users);
  guards(out, p, result);
  summary(out, p, result);
  if (result != nullptr) failures(out, p, *result);
  changes(out, p, result);
  rejects(out, p);
  warnings(out, p);
  out += "</body>\n</html>\n";
  return out;
}

}  // namespace b24sync::report
