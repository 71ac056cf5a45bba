// report/report.cpp: format names, the render() dispatch, and the helpers the renderers share.
#include "report/report.hpp"

#include "report/detail.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdint>

namespace b24sync::report {

std::optional<format> format_from_string(std::string_view s) noexcept {
  if (s == "text") return format::text;
  if (s == "json") return format::json;
  if (s == "csv") return format::csv;
  if (s == "html") return format::html;
  return std::nullopt;
}

std::string render(format f, const sync::plan& p, const sync::run_result* result, const report_options& opts) {
  switch (f) {
    case format::text: return render_text(p, result, opts);
    case format::json: return render_json(p, result);
    case format::csv: return render_csv(p, result);
    case format::html: return render_html(p, result, opts);
  }
  return render_text(p, result, opts);
}

namespace detail {
namespace {

constexpr std::string_view replacement = "\xEF\xBF\xBD";  // U+FFFD

struct decoded {
  char32_t cp = 0;
  std::size_t len = 1;
  bool valid = false;
};

// One code point at s[i] (strict: no overlongs, no surrogates, nothing above U+10FFFF).
decoded decode(std::string_view s, std::size_t i) noexcept {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return {b0, 1, true};
  std::size_t len = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return {};
  }
  if (i + len > s.size()) return {};
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return {};
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return {};
  return {cp, len, true};
}

}  // namespace

std::size_t utf8_width(std::string_view s) noexcept {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++n) i += decode(s, i).len;
  return n;
}

bool is_valid_utf8(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const auto d = decode(s, i);
    if (!d.valid) return false;
    i += d.len;
  }
  return true;
}

std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const auto d = decode(s, i);
    if (d.valid) {
      out.append(s.substr(i, d.len));
    } else {
      out.append(replacement);
    }
    i += d.len;
  }
  return out;
}

std::string printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const auto d = decode(s, i);
    if (!d.valid) {
      out.append(replacement);
    } else if (d.cp < 0x20 || d.cp == 0x7F || (d.cp >= 0x80 && d.cp < 0xA0)) {
      out.append(fmt::format("\\x{:02x}", static_cast<unsigned>(d.cp)));
    } else {
      out.append(s.substr(i, d.len));
    }
    i += d.len;
  }
  return out;
}

std::string shorten(std::string_view s, std::size_t max_cp) {
  if (max_cp == 0 || utf8_width(s) <= max_cp) return std::string(s);
  std::size_t i = 0;
  for (std::size_t n = 0; n + 1 < max_cp && i < s.size(); ++n) i += decode(s, i).len;
  return std::string(s.substr(0, i)) + "\xE2\x80\xA6";  // "…"
}

std::string pad(std::string_view s, std::size_t width) {
  std::string out(s);
  const auto w = utf8_width(s);
  if (w < width) out.append(width - w, ' ');
  return out;
}

std::string wire_text(const sync::wire_value& v) {
  if (const auto* scalar = std::get_if<std::string>(&v)) return *scalar;
  const auto& list = std::get<std::vector<std::string>>(v);
  std::string out;
  for (const auto& item : list) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

std::string origin_text(const connectors::origin& o) {
  if (!o.location.empty() && o.line > 0) return fmt::format("{}:{}", o.location, o.line);
  if (!o.dn.empty()) return o.location.empty() ? o.dn : fmt::format("{} ({})", o.location, o.dn);
  if (!o.location.empty()) return o.location;
  return o.source;
}

std::size_t update_field_count(const sync::plan& p) noexcept {
  std::size_t n = 0;
  for (const auto& op : p.users) {
    if (op.kind == sync::op_kind::update) n += op.changes.size();
  }
  return n;
}

std::string plural(std::size_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

std::string summary_line(const sync::plan& p) {
  const auto& c = p.counts;
  std::string line = fmt::format("{} to create, {} to update ({}), {} to reactivate, {} to deactivate, {} unchanged, {} skipped; {}",
                                 c.create, c.update, plural(update_field_count(p), "field", "fields"),
                                 c.reactivate, c.deactivate, c.unchanged, c.skip,
                                 plural(c.source_rejects, "rejected row", "rejected rows"));
  if (c.departments > 0) line += fmt::format("; {} to create", plural(c.departments, "department", "departments"));
  return line;
}

const sync::op_outcome* user_outcome(const sync::run_result* r, std::size_t i) noexcept {
  return r != nullptr && i < r->users.size() ? &r->users[i] : nullptr;
}

const sync::op_outcome* department_outcome(const sync::run_result* r, std::size_t i) noexcept {
  return r != nullptr && i < r->departments.size() ? &r->departments[i] : nullptr;
}

std::size_t not_run_count(const sync::plan& p, const sync::run_result& r) noexcept {
  std::size_t n = 0;
  for (std::size_t i = 0; i < p.departments.size(); ++i) {
    const auto* o = department_outcome(&r, i);
    n += (o == nullptr || o->status == sync::op_status::not_run) ? 1 : 0;
  }
  for (std::size_t i = 0; i < p.users.size(); ++i) {
    if (!is_write(p.users[i].kind)) continue;
    const auto* o = user_outcome(&r, i);
    n += (o == nullptr || o->status == sync::op_status::not_run) ? 1 : 0;
  }
  return n;
}

std::string error_text(const sync::op_outcome& o) {
  if (o.error.empty()) return o.error_description;
  if (o.error_description.empty()) return o.error;
  return o.error + ": " + o.error_description;
}

std::string seconds_text(double s) {
  if (!std::isfinite(s)) return "?";
  return fmt::format("{:.1f}", s);
}

std::string_view kind_heading(sync::op_kind k) noexcept {
  switch (k) {
    case sync::op_kind::create: return "To create";
    case sync::op_kind::update: return "To update";
    case sync::op_kind::reactivate: return "To reactivate";
    case sync::op_kind::deactivate: return "To deactivate";
    case sync::op_kind::unchanged: return "Unchanged";
    case sync::op_kind::skip: return "Skipped";
  }
  return "Other";
}

}  // namespace detail
}  // namespace b24sync::report
