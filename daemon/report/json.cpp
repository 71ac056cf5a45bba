// report/json.cpp: the plan as versioned JSON (deterministic text) and its exact read-back.
#include "report/detail.hpp"
#include "report/report.hpp"

#include <boost/json.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace b24sync::report {
namespace {

namespace json = boost::json;

constexpr std::string_view schema_name = "b24sync.plan";

// ---------------------------------------------------------------------------------------------
// Writing. A hand-rolled emitter rather than json::serialize: keys in a fixed order, two-space
// indentation for people reviewing a plan, and doubles in their shortest round-trip form ("0.4",
// not "4E-1"), so equal plans give byte-identical files.

class writer {
 public:
  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void begin_array() { open('['); }
  void end_array() { close(']'); }

  void key(std::string_view k) {
    item();
    quoted(k);
    out_ += ": ";
    after_key_ = true;
  }
  void string(std::string_view s) {
    item();
    quoted(s);
  }
  void integer(std::int64_t v) {
    item();
    append_int(v);
  }
  void unsigned_integer(std::uint64_t v) {
    item();
    append_int(v);
  }
  void number(double v) {
    item();
    // JSON has no NaN/Infinity; a guard never measures one, but the file must stay valid.
    out_ += std::isfinite(v) ? fmt::format("{}", v) : "null";
  }
  void boolean(bool v) {
    item();
    out_ += v ? "true" : "false";
  }
  void null() {
    item();
    out_ += "null";
  }
  void optional_integer(const std::optional<std::int64_t>& v) { v ? integer(*v) : null(); }

  void field(std::string_view k, std::string_view v) {
    key(k);
    string(v);
  }
  void field_u(std::string_view k, std::uint64_t v) {
    key(k);
    unsigned_integer(v);
  }

  std::string take() {
    out_ += '\n';
    return std::move(out_);
  }

 private:
  struct level {
    bool empty = true;
  };

  void open(char c) {
    item();
    out_ += c;
    levels_.push_back({});
  }
  void close(char c) {
    const bool was_empty = levels_.back().empty;
    levels_.pop_back();
    if (!was_empty) newline();
    out_ += c;
  }
  // Separator and indentation before a value or a key (a value right after its key stays on the line).
  void item() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (levels_.empty()) return;
    if (!levels_.back().empty) out_ += ',';
    levels_.back().empty = false;
    newline();
  }
  void newline() {
    out_ += '\n';
    out_.append(levels_.size() * 2, ' ');
  }
  void quoted(std::string_view raw) {
    // Valid UTF-8 (the normal case) is escaped in place; anything else is repaired first.
    std::string repaired;
    if (!detail::is_valid_utf8(raw)) repaired = detail::valid_utf8(raw);
    const std::string_view s = repaired.empty() ? raw : std::string_view(repaired);
    out_ += '"';
    std::size_t run = 0;  // start of the current stretch of bytes copied as they are
    for (std::size_t i = 0; i < s.size(); ++i) {
      const auto u = static_cast<unsigned char>(s[i]);
      if (u >= 0x20 && u != '"' && u != '\\' && u != 0x7F) continue;
      out_.append(s.substr(run, i - run));
      run = i + 1;
      switch (u) {
        case '"': out_ += "\\\""; break;
        case '\\': out_ += "\\\\"; break;
        case '\n': out_ += "\\n"; break;
        case '\r': out_ += "\\r"; break;
        case '\t': out_ += "\\t"; break;
        default: out_ += fmt::format("\\u{:04x}", static_cast<unsigned>(u));
      }
    }
    out_.append(s.substr(run));
    out_ += '"';
  }
  template <typename Int>
  void append_int(Int v) {
    char buf[24];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, end);
  }

  std::string out_;
  std::vector<level> levels_;
  bool after_key_ = false;
};

void write_origin_fields(writer& w, const connectors::origin& o) {
  w.field("source", o.source);
  w.field("location", o.location);
  w.field_u("line", o.line);
  w.field("dn", o.dn);
}

void write_counts(writer& w, const sync::plan_counts& c) {
  w.key("counts");
  w.begin_object();
  w.field_u("create", c.create);
  w.field_u("update", c.update);
  w.field_u("reactivate", c.reactivate);
  w.field_u("deactivate", c.deactivate);
  w.field_u("unchanged", c.unchanged);
  w.field_u("skip", c.skip);
  w.field_u("departments", c.departments);
  w.field_u("field_changes", c.field_changes);
  w.field_u("source_people", c.source_people);
  w.field_u("source_rejects", c.source_rejects);
  w.field_u("portal_users", c.portal_users);
  w.field_u("managed_users", c.managed_users);
  w.end_object();
}

void write_user(writer& w, const sync::user_op& op) {
  w.begin_object();
  w.field("kind", to_string(op.kind));
  w.field("key", op.key);
  w.key("user_id");
  w.optional_integer(op.user_id);
  w.field("matched_by", to_string(op.matched_by));
  w.field("email", op.email);
  w.field("name", op.name);
  w.field("skip", to_string(op.skip));
  w.field("reason", op.reason);
  w.key("changes");
  w.begin_array();
  for (const auto& ch : op.changes) {
    w.begin_object();
    w.field("field", ch.field);
    w.field("before", ch.before);
    w.field("after", ch.after);
    w.key("value");
    if (const auto* scalar = std::get_if<std::string>(&ch.value)) {
      w.string(*scalar);
    } else {
      w.begin_array();
      for (const auto& item : std::get<std::vector<std::string>>(ch.value)) w.string(item);
      w.end_array();
    }
    w.end_object();
  }
  w.end_array();
  w.key("origins");
  w.begin_array();
  for (const auto& o : op.origins) {
    w.begin_object();
    write_origin_fields(w, o);
    w.end_object();
  }
  w.end_array();
  w.key("needs_departments");
  w.begin_array();
  for (const auto n : op.needs_departments) w.unsigned_integer(n);
  w.end_array();
  w.end_object();
}

void write_outcome(writer& w, const sync::op_outcome& o) {
  w.begin_object();
  w.field("status", to_string(o.status));
  w.key("id");
  w.optional_integer(o.user_id);
  w.field("error", o.error);
  w.field("error_description", o.error_description);
  w.field_u("attempts", o.attempts);
  w.end_object();
}

void write_outcomes(writer& w, const sync::run_result& r) {
  w.key("outcomes");
  w.begin_object();
  w.key("interrupted");
  w.boolean(r.interrupted);
  w.field_u("applied", r.applied());
  w.field_u("failed", r.failed());
  w.key("stats");
  w.begin_object();
  w.field_u("http_requests", r.stats.http_requests);
  w.field_u("http_503", r.stats.http_503);
  w.field_u("http_429", r.stats.http_429);
  w.field_u("retries", r.stats.retries);
  w.field_u("ambiguous", r.stats.ambiguous);
  w.field_u("lookups", r.stats.lookups);
  w.key("seconds");
  w.number(r.stats.seconds);
  w.end_object();
  for (const auto* name : {"departments", "users"}) {
    w.key(name);
    w.begin_array();
    for (const auto& o : std::string_view(name) == "users" ? r.users : r.departments) write_outcome(w, o);
    w.end_array();
  }
  w.end_object();
}

// ---------------------------------------------------------------------------------------------
// Reading. Boost.JSON 1.81 rounds some decimals to a neighbouring double (it scales by inexact
// powers of ten), which would break the exact round trip of guard figures; this handler builds the
// same DOM as json::parser but converts doubles itself with std::from_chars (correctly rounded).

class exact_handler {
 public:
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  json::value_stack st;

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) { return true; }
  bool on_object_end(std::size_t n, json::error_code&) {
    st.push_object(n);
    return true;
  }
  bool on_array_begin(json::error_code&) { return true; }
  bool on_array_end(std::size_t n, json::error_code&) {
    st.push_array(n);
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    st.push_key(s);
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, json::error_code&) {
    st.push_string(s);
    return true;
  }
  bool on_number_part(json::string_view s, json::error_code&) {
    number_.append(s.data(), s.size());
    return true;
  }
  bool on_int64(std::int64_t i, json::string_view, json::error_code&) {
    number_.clear();
    st.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, json::string_view, json::error_code&) {
    number_.clear();
    st.push_uint64(u);
    return true;
  }
  bool on_double(double d, json::string_view s, json::error_code&) {
    number_.append(s.data(), s.size());
    double exact = 0;
    const auto* first = number_.data();
    const auto* last = first + number_.size();
    const auto [end, ec] = std::from_chars(first, last, exact);
    st.push_double(ec == std::errc() && end == last ? exact : d);
    number_.clear();
    return true;
  }
  bool on_bool(bool b, json::error_code&) {
    st.push_bool(b);
    return true;
  }
  bool on_null(json::error_code&) {
    st.push_null();
    return true;
  }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

 private:
  std::string number_;
};

// Where in the document a value sits ("users[3].changes[0]"), for error messages.
class reader {
 public:
  explicit reader(std::string_view name) : name_(name) {}

  [[noreturn]] void fail(const std::string& path, const std::string& what) const {
    if (path.empty()) throw plan_file_error(fmt::format("{}: {}", name_, what));
    throw plan_file_error(fmt::format("{}: {}: {}", name_, path, what));
  }

  static std::string_view type_name(const json::value& v) noexcept {
    switch (v.kind()) {
      case json::kind::null: return "null";
      case json::kind::bool_: return "a boolean";
      case json::kind::int64:
      case json::kind::uint64: return "an integer";
      case json::kind::double_: return "a number";
      case json::kind::string: return "a string";
      case json::kind::array: return "an array";
      case json::kind::object: return "an object";
    }
    return "a value";
  }

  static std::string join(const std::string& path, std::string_view k) {
    return path.empty() ? std::string(k) : path + "." + std::string(k);
  }
  static std::string index(const std::string& path, std::size_t i) { return fmt::format("{}[{}]", path, i); }

  const json::object& object(const json::value& v, const std::string& path) const {
    if (!v.is_object()) fail(path, fmt::format("expected an object, got {}", type_name(v)));
    return v.get_object();
  }
  const json::value& member(const json::object& o, const std::string& path, std::string_view k) const {
    const auto* v = o.if_contains(k);
    if (v == nullptr) fail(path, fmt::format("missing \"{}\"", k));
    return *v;
  }
  const json::array& array(const json::object& o, const std::string& path, std::string_view k) const {
    const auto& v = member(o, path, k);
    if (!v.is_array()) fail(join(path, k), fmt::format("expected an array, got {}", type_name(v)));
    return v.get_array();
  }
  std::string string(const json::value& v, const std::string& path) const {
    if (!v.is_string()) fail(path, fmt::format("expected a string, got {}", type_name(v)));
    return std::string(v.get_string());
  }
  std::string string(const json::object& o, const std::string& path, std::string_view k) const {
    return string(member(o, path, k), join(path, k));
  }
  std::uint64_t count(const json::value& v, const std::string& path) const {
    if (v.is_uint64()) return v.get_uint64();
    if (v.is_int64() && v.get_int64() >= 0) return static_cast<std::uint64_t>(v.get_int64());
    fail(path, fmt::format("expected a non-negative integer, got {}", type_name(v)));
  }
  std::uint64_t count(const json::object& o, const std::string& path, std::string_view k) const {
    return count(member(o, path, k), join(path, k));
  }
  std::size_t size(const json::object& o, const std::string& path, std::string_view k) const {
    const auto n = count(o, path, k);
    if (n > std::numeric_limits<std::size_t>::max()) fail(join(path, k), "number too large");
    return static_cast<std::size_t>(n);
  }
  std::optional<std::int64_t> optional_id(const json::object& o, const std::string& path, std::string_view k) const {
    const auto& v = member(o, path, k);
    if (v.is_null()) return std::nullopt;
    if (v.is_int64()) return v.get_int64();
    fail(join(path, k), fmt::format("expected an integer or null, got {}", type_name(v)));
  }
  std::optional<std::size_t> optional_index(const json::object& o, const std::string& path, std::string_view k) const {
    const auto& v = member(o, path, k);
    if (v.is_null()) return std::nullopt;
    return static_cast<std::size_t>(count(v, join(path, k)));
  }
  double number(const json::object& o, const std::string& path, std::string_view k) const {
    const auto& v = member(o, path, k);
    if (v.is_double()) return v.get_double();
    if (v.is_int64()) return static_cast<double>(v.get_int64());
    if (v.is_uint64()) return static_cast<double>(v.get_uint64());
    if (v.is_null()) return std::numeric_limits<double>::quiet_NaN();  // written for a non-finite figure
    fail(join(path, k), fmt::format("expected a number, got {}", type_name(v)));
  }
  template <typename Enum>
  Enum enumerated(const json::object& o, const std::string& path, std::string_view k,
                  std::optional<Enum> (*from)(std::string_view) noexcept) const {
    const auto s = string(o, path, k);
    const auto e = from(s);
    if (!e) fail(join(path, k), fmt::format("unknown value \"{}\"", s));
    return *e;
  }

 private:
  std::string name_;
};

connectors::origin read_origin(const reader& rd, const json::object& o, const std::string& path) {
  connectors::origin out;
  out.source = rd.string(o, path, "source");
  out.location = rd.string(o, path, "location");
  out.line = rd.size(o, path, "line");
  out.dn = rd.string(o, path, "dn");
  return out;
}

sync::field_change read_change(const reader& rd, const json::value& v, const std::string& path) {
  const auto& o = rd.object(v, path);
  sync::field_change ch;
  ch.field = rd.string(o, path, "field");
  ch.before = rd.string(o, path, "before");
  ch.after = rd.string(o, path, "after");
  const auto& value = rd.member(o, path, "value");
  const auto value_path = reader::join(path, "value");
  if (value.is_string()) {
    ch.value = std::string(value.get_string());
  } else if (value.is_array()) {
    std::vector<std::string> list;
    const auto& a = value.get_array();
    for (std::size_t i = 0; i < a.size(); ++i) list.push_back(rd.string(a[i], reader::index(value_path, i)));
    ch.value = std::move(list);
  } else {
    rd.fail(value_path, fmt::format("expected a string or an array of strings, got {}", reader::type_name(value)));
  }
  return ch;
}

sync::user_op read_user(const reader& rd, const json::value& v, const std::string& path, std::size_t departments) {
  const auto& o = rd.object(v, path);
  sync::user_op op;
  op.kind = rd.enumerated<sync::op_kind>(o, path, "kind", &sync::op_kind_from_string);
  op.key = rd.string(o, path, "key");
  op.user_id = rd.optional_id(o, path, "user_id");
  op.matched_by = rd.enumerated<sync::match_kind>(o, path, "matched_by", &sync::match_kind_from_string);
  op.email = rd.string(o, path, "email");
  op.name = rd.string(o, path, "name");
  op.skip = rd.enumerated<sync::skip_reason>(o, path, "skip", &sync::skip_reason_from_string);
  op.reason = rd.string(o, path, "reason");
  const auto& changes = rd.array(o, path, "changes");
  for (std::size_t i = 0; i < changes.size(); ++i) {
    op.changes.push_back(read_change(rd, changes[i], reader::index(reader::join(path, "changes"), i)));
  }
  const auto& origins = rd.array(o, path, "origins");
  for (std::size_t i = 0; i < origins.size(); ++i) {
    const auto p = reader::index(reader::join(path, "origins"), i);
    op.origins.push_back(read_origin(rd, rd.object(origins[i], p), p));
  }
  const auto& needs = rd.array(o, path, "needs_departments");
  for (std::size_t i = 0; i < needs.size(); ++i) {
    const auto p = reader::index(reader::join(path, "needs_departments"), i);
    const auto n = rd.count(needs[i], p);
    if (n >= departments) rd.fail(p, fmt::format("department {} does not exist ({} in the plan)", n, departments));
    op.needs_departments.push_back(static_cast<std::size_t>(n));
  }
  return op;
}

sync::plan read_plan(const reader& rd, const json::value& root) {
  const auto& top = rd.object(root, "");
  const auto schema = rd.string(top, "", "schema");
  if (schema != schema_name) {
    rd.fail("schema", fmt::format("\"{}\" is not a b24sync plan (expected \"{}\")", schema, schema_name));
  }
  const auto& version = rd.member(top, "", "schema_version");
  // Version 1 listed unchanged people among "users"; it still reads (they move to `unchanged`).
  const bool v1 = version.is_int64() && version.get_int64() == 1;
  if (!version.is_int64() || (!v1 && version.get_int64() != sync::plan_schema_version)) {
    rd.fail("schema_version", fmt::format("unsupported version {} (this b24sync reads versions 1 to {})",
                                          json::serialize(version), sync::plan_schema_version));
  }
  sync::plan p;
  p.schema_version = sync::plan_schema_version;
  p.portal_url = rd.string(top, "", "portal_url");
  p.snapshot_fingerprint = rd.string(top, "", "snapshot_fingerprint");
  p.created_at = rd.string(top, "", "created_at");

  const auto& counts = rd.object(rd.member(top, "", "counts"), "counts");
  auto& c = p.counts;
  c.create = rd.size(counts, "counts", "create");
  c.update = rd.size(counts, "counts", "update");
  c.reactivate = rd.size(counts, "counts", "reactivate");
  c.deactivate = rd.size(counts, "counts", "deactivate");
  c.unchanged = rd.size(counts, "counts", "unchanged");
  c.skip = rd.size(counts, "counts", "skip");
  c.departments = rd.size(counts, "counts", "departments");
  c.field_changes = rd.size(counts, "counts", "field_changes");
  c.source_people = rd.size(counts, "counts", "source_people");
  c.source_rejects = rd.size(counts, "counts", "source_rejects");
  c.portal_users = rd.size(counts, "counts", "portal_users");
  c.managed_users = rd.size(counts, "counts", "managed_users");

  const auto& guards = rd.array(top, "", "guards");
  for (std::size_t i = 0; i < guards.size(); ++i) {
    const auto path = reader::index("guards", i);
    const auto& o = rd.object(guards[i], path);
    p.guards.push_back({rd.string(o, path, "guard"), rd.string(o, path, "reason"), rd.number(o, path, "value"),
                        rd.number(o, path, "limit")});
  }

  const auto& departments = rd.array(top, "", "departments");
  for (std::size_t i = 0; i < departments.size(); ++i) {
    const auto path = reader::index("departments", i);
    const auto& o = rd.object(departments[i], path);
    sync::department_op d;
    d.path = rd.string(o, path, "path");
    d.name = rd.string(o, path, "name");
    d.parent_id = rd.optional_id(o, path, "parent_id");
    d.parent_op = rd.optional_index(o, path, "parent_op");
    if (d.parent_op && *d.parent_op >= i) {
      rd.fail(reader::join(path, "parent_op"),
              fmt::format("{} is not an earlier department (parents come first)", *d.parent_op));
    }
    p.departments.push_back(std::move(d));
  }

  const auto& users = rd.array(top, "", "users");
  p.users.reserve(users.size());
  for (std::size_t i = 0; i < users.size(); ++i) {
    sync::user_op op = read_user(rd, users[i], reader::index("users", i), p.departments.size());
    if (v1 && op.kind == sync::op_kind::unchanged && op.user_id) {
      p.unchanged.push_back({std::move(op.key), *op.user_id, op.matched_by});
      continue;
    }
    p.users.push_back(std::move(op));
  }
  if (!v1) {
    const auto& unchanged = rd.array(top, "", "unchanged");
    p.unchanged.reserve(unchanged.size());
    for (std::size_t i = 0; i < unchanged.size(); ++i) {
      const auto path = reader::index("unchanged", i);
      const auto& o = rd.object(unchanged[i], path);
      const auto id = rd.optional_id(o, path, "user_id");
      if (!id) rd.fail(reader::join(path, "user_id"), "an unchanged person needs the portal user it matched");
      p.unchanged.push_back({rd.string(o, path, "key"), *id,
                             rd.enumerated<sync::match_kind>(o, path, "matched_by", &sync::match_kind_from_string)});
    }
  }

  const auto& rejects = rd.array(top, "", "rejects");
  for (std::size_t i = 0; i < rejects.size(); ++i) {
    const auto path = reader::index("rejects", i);
    const auto& o = rd.object(rejects[i], path);
    p.rejects.push_back({read_origin(rd, o, path), rd.string(o, path, "reason")});
  }

  const auto& warnings = rd.array(top, "", "warnings");
  for (std::size_t i = 0; i < warnings.size(); ++i) {
    p.warnings.push_back(rd.string(warnings[i], reader::index("warnings", i)));
  }
  return p;
}

// 1-based line and column of a byte offset, for "not valid JSON" messages.
std::pair<std::size_t, std::size_t> line_column(std::string_view text, std::size_t offset) {
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line, column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

}  // namespace

std::string render_json(const sync::plan& p, const sync::run_result* result) {
  writer w;
  w.begin_object();
  w.field("schema", schema_name);
  w.key("schema_version");
  w.integer(p.schema_version);
  w.field("portal_url", p.portal_url);
  w.field("snapshot_fingerprint", p.snapshot_fingerprint);
  w.field("created_at", p.created_at);
  write_counts(w, p.counts);
  w.key("guards");
  w.begin_array();
  for (const auto& g : p.guards) {
    w.begin_object();
    w.field("guard", g.guard);
    w.field("reason", g.reason);
    w.key("value");
    w.number(g.value);
    w.key("limit");
    w.number(g.limit);
    w.end_object();
  }
  w.end_array();
  w.key("departments");
  w.begin_array();
  for (const auto& d : p.departments) {
    w.begin_object();
    w.field("path", d.path);
    w.field("name", d.name);
    w.key("parent_id");
    w.optional_integer(d.parent_id);
    w.key("parent_op");
    d.parent_op ? w.unsigned_integer(*d.parent_op) : w.null();
    w.end_object();
  }
  w.end_array();
  w.key("users");
  w.begin_array();
  for (const auto& op : p.users) write_user(w, op);
  w.end_array();
  w.key("unchanged");
  w.begin_array();
  for (const auto& u : p.unchanged) {
    w.begin_object();
    w.field("key", u.key);
    w.key("user_id");
    w.integer(u.user_id);
    w.field("matched_by", to_string(u.matched_by));
    w.end_object();
  }
  w.end_array();
  w.key("rejects");
  w.begin_array();
  for (const auto& r : p.rejects) {
    w.begin_object();
    write_origin_fields(w, r.where);
    w.field("reason", r.reason);
    w.end_object();
  }
  w.end_array();
  w.key("warnings");
  w.begin_array();
  for (const auto& s : p.warnings) w.string(s);
  w.end_array();
  if (result != nullptr) write_outcomes(w, *result);
  w.end_object();
  return w.take();
}

sync::plan parse_plan_json(std::string_view text) { return parse_plan_json(text, "plan.json"); }

sync::plan parse_plan_json(std::string_view text, std::string_view source_name) {
  const reader rd(source_name);
  json::basic_parser<exact_handler> parser(json::parse_options{});
  parser.handler().st.reset();
  json::error_code ec;
  const auto used = parser.write_some(false, text.data(), text.size(), ec);
  if (!ec && used < text.size()) ec = json::error::extra_data;
  if (ec) {
    const auto [line, column] = line_column(text, used);
    rd.fail("", fmt::format("not valid JSON at line {}, column {}: {}", line, column, ec.message()));
  }
  const auto root = parser.handler().st.release();
  return read_plan(rd, root);
}

}  // namespace b24sync::report
