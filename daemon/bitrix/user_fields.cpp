// JSON rows of user.get / department.get -> portal_user / portal_department; portal dates.
#include "bitrix/user_fields.hpp"

#include "bitrix/envelope.hpp"
#include "bitrix/errors.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

namespace b24sync::bitrix {

namespace json = boost::json;

namespace detail {
// A field value: a scalar by view (the streaming reader), or a DOM value of any kind (`dom` set).
struct row_scalar {
  json::kind kind = json::kind::null;
  std::string_view str;
  std::int64_t i = 0;
  std::uint64_t u = 0;
  double d = 0;
  bool b = false;
  const json::value* dom = nullptr;
};
}  // namespace detail

namespace {

using detail::row_scalar;

row_scalar scalar_of(const json::value& v) noexcept {
  row_scalar s;
  s.kind = v.kind();
  s.dom = &v;
  switch (v.kind()) {
    case json::kind::string: s.str = v.get_string(); break;
    case json::kind::int64: s.i = v.get_int64(); break;
    case json::kind::uint64: s.u = v.get_uint64(); break;
    case json::kind::double_: s.d = v.get_double(); break;
    case json::kind::bool_: s.b = v.get_bool(); break;
    default: break;
  }
  return s;
}

// Same rules as json_to_int (envelope.cpp): ints, integral doubles, decimal strings.
std::optional<std::int64_t> int_of(const row_scalar& v) noexcept {
  switch (v.kind) {
    case json::kind::int64:
      return v.i;
    case json::kind::uint64:
      if (v.u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
      return static_cast<std::int64_t>(v.u);
    case json::kind::double_:
      if (!std::isfinite(v.d) || v.d != std::floor(v.d) || std::fabs(v.d) > 9.0e15) return std::nullopt;
      return static_cast<std::int64_t>(v.d);
    case json::kind::string: {
      std::int64_t out = 0;
      auto [p, ec] = std::from_chars(v.str.data(), v.str.data() + v.str.size(), out);
      if (v.str.empty() || ec != std::errc{} || p != v.str.data() + v.str.size()) return std::nullopt;
      return out;
    }
    default:
      return std::nullopt;
  }
}

std::optional<std::int64_t> id_of(const row_scalar& v) noexcept {
  auto n = int_of(v);
  if (!n || *n <= 0) return std::nullopt;
  return n;
}

// Text of a field: strings as they are, numbers as JSON writes them; null, {} (trap 8), arrays, bools: "".
std::string text(const row_scalar& v) {
  switch (v.kind) {
    case json::kind::string:
      return std::string(v.str);
    case json::kind::int64:
      return json::serialize(json::value(v.i));
    case json::kind::uint64:
      return json::serialize(json::value(v.u));
    case json::kind::double_:
      return json::serialize(json::value(v.d));
    default:
      return {};
  }
}

bool flag(const row_scalar& v, bool fallback) {
  if (v.kind == json::kind::bool_) return v.b;
  if (auto n = int_of(v)) return *n != 0;
  if (v.kind == json::kind::string) {
    std::string_view s = v.str;
    if (s == "Y" || s == "y" || s == "true") return true;
    if (s == "N" || s == "n" || s == "false" || s.empty()) return false;
  }
  return fallback;
}

// The value as portal_user::uf keeps it: in the default storage (not the answer's arena).
json::value owned_value(const row_scalar& v) {
  if (v.dom != nullptr) return json::value(*v.dom, json::storage_ptr());
  switch (v.kind) {
    case json::kind::string: return json::value(json::string_view(v.str.data(), v.str.size()));
    case json::kind::int64: return json::value(v.i);
    case json::kind::uint64: return json::value(v.u);
    case json::kind::double_: return json::value(v.d);
    case json::kind::bool_: return json::value(v.b);
    default: return json::value();
  }
}

template <class T>
bool read_number(std::string_view s, T& out) noexcept {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size();
}

// Fields that change without anyone editing the user (logins, presence, timestamps) or are not text
// (photos): they never go into portal_user::other.
bool is_volatile(std::string_view k) noexcept {
  static constexpr std::string_view skipped[] = {"LAST_LOGIN",         "DATE_REGISTER",  "IS_ONLINE", "TIMESTAMP_X",
                                                 "LAST_ACTIVITY_DATE", "PERSONAL_PHOTO", "WORK_LOGO", "TIME_ZONE_OFFSET"};
  return std::find(std::begin(skipped), std::end(skipped), k) != std::end(skipped);
}

std::string text(const json::object& row, std::string_view key) {
  const json::value* v = row.if_contains(key);
  return v != nullptr ? text(scalar_of(*v)) : std::string();
}

user_type type_of(std::string_view s) noexcept {
  if (s == "employee") return user_type::employee;
  if (s == "extranet") return user_type::extranet;
  if (s == "email") return user_type::email;
  return user_type::unknown;
}

}  // namespace

std::optional<std::int64_t> json_to_id(const json::value& v) noexcept {
  auto n = json_to_int(v);
  if (!n || *n <= 0) return std::nullopt;
  return n;
}

// ---- user_row_reader: every user field rule ----

namespace {
// The user_text a field name is kept in, if any.
std::optional<std::size_t> text_slot(std::string_view key) noexcept {
  static constexpr std::array<std::pair<std::string_view, user_text>, user_text_count> slots{{
      {field::email, user_text::email},
      {field::name, user_text::name},
      {field::last_name, user_text::last_name},
      {field::second_name, user_text::second_name},
      {field::xml_id, user_text::xml_id},
      {field::work_position, user_text::work_position},
      {field::personal_phone, user_text::personal_phone},
      {field::personal_mobile, user_text::personal_mobile},
      {field::work_phone, user_text::work_phone},
      {field::uf_phone_inner, user_text::phone_inner},
  }};
  for (const auto& [name, slot] : slots)
    if (key == name) return static_cast<std::size_t>(slot);
  return std::nullopt;
}
}  // namespace

void user_row_reader::apply(std::string_view key, const row_scalar& v) {
  portal_user& u = u_;
  if (key == field::id) {
    id_ = id_of(v);
  } else if (key == field::active) {
    u.active = flag(v, true);
  } else if (auto slot = text_slot(key)) {
    // Gathered end to end and committed as one block by finish(); a key given twice: the last wins.
    std::string t = text(v);
    spans_[*slot] = {static_cast<std::uint32_t>(texts_.size()), static_cast<std::uint32_t>(t.size())};
    texts_ += t;
  } else if (key == field::personal_birthday) {
    u.personal_birthday = parse_portal_date(text(v));
  } else if (key == field::uf_department) {
    // An array of IDs (ints or strings), or a single one; anything else adds nothing.
    has_departments_ = true;
    u.departments.clear();
    auto add = [&](const row_scalar& d) {
      if (auto id = id_of(d)) u.departments.push_back(department_id{*id});
    };
    if (v.kind == json::kind::array && v.dom != nullptr) {
      const auto& a = v.dom->get_array();
      u.departments.reserve(a.size());
      for (const auto& e : a) add(scalar_of(e));
    } else {
      add(v);
    }
  } else if (key == field::user_type) {
    u.type = type_of(text(v));
  } else if (key.starts_with(field::uf_usr_prefix)) {
    u.uf.insert_or_assign(std::string(key), owned_value(v));
  } else if (!is_volatile(key)) {
    // Every other non-empty scalar as text (a later empty duplicate removes an earlier value).
    if (std::string t = text(v); !t.empty()) {
      u.other.insert_or_assign(std::string(key), std::move(t));
    } else if (auto it = u.other.find(key); it != u.other.end()) {
      u.other.erase(it);
    }
  }
}

void user_row_reader::on_string(std::string_view key, std::string_view value) {
  row_scalar s;
  s.kind = json::kind::string;
  s.str = value;
  apply(key, s);
}

void user_row_reader::on_int64(std::string_view key, std::int64_t value) {
  row_scalar s;
  s.kind = json::kind::int64;
  s.i = value;
  apply(key, s);
}

void user_row_reader::on_uint64(std::string_view key, std::uint64_t value) {
  row_scalar s;
  s.kind = json::kind::uint64;
  s.u = value;
  apply(key, s);
}

void user_row_reader::on_double(std::string_view key, double value) {
  row_scalar s;
  s.kind = json::kind::double_;
  s.d = value;
  apply(key, s);
}

void user_row_reader::on_bool(std::string_view key, bool value) {
  row_scalar s;
  s.kind = json::kind::bool_;
  s.b = value;
  apply(key, s);
}

void user_row_reader::on_null(std::string_view key) { apply(key, row_scalar{}); }

void user_row_reader::on_value(std::string_view key, const json::value& value) { apply(key, scalar_of(value)); }

std::error_code user_row_reader::finish() {
  if (!id_) return errc::malformed_envelope;
  u_.id = user_id{*id_};
  std::array<std::string_view, user_text_count> all;
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = std::string_view{texts_}.substr(spans_[i].first, spans_[i].second);
  u_.texts.assign(all);
  if (has_departments_) {
    std::sort(u_.departments.begin(), u_.departments.end());
    u_.departments.erase(std::unique(u_.departments.begin(), u_.departments.end()), u_.departments.end());
  }
  return {};
}

std::optional<portal_user> user_from_json(const json::object& row, std::error_code& ec) {
  ec.clear();
  std::optional<portal_user> out(std::in_place);
  user_row_reader reader(*out);
  for (const auto& kv : row) reader.on_value(kv.key(), kv.value());
  if ((ec = reader.finish())) return std::nullopt;
  return out;
}

std::optional<portal_department> department_from_json(const json::object& row, std::error_code& ec) {
  ec.clear();
  const json::value* idv = row.if_contains(dept_field::id);
  auto id = idv ? json_to_id(*idv) : std::nullopt;
  if (!id) {
    ec = errc::malformed_envelope;
    return std::nullopt;
  }
  portal_department d;
  d.id = department_id{*id};
  d.name = text(row, dept_field::name);
  if (const auto* s = row.if_contains(dept_field::sort)) d.sort = json_to_int(*s).value_or(d.sort);
  if (const auto* p = row.if_contains(dept_field::parent))
    if (auto pid = json_to_id(*p)) d.parent = department_id{*pid};
  if (const auto* h = row.if_contains(dept_field::uf_head))
    if (auto hid = json_to_id(*h)) d.head = user_id{*hid};
  return d;
}

std::optional<std::chrono::year_month_day> parse_portal_date(std::string_view s) noexcept {
  using namespace std::chrono;
  int y = 0, mo = 0, d = 0;
  auto num = [&](std::size_t at, std::size_t len, int& out) {
    return at + len <= s.size() && read_number(s.substr(at, len), out) && s[at] != '-' && s[at] != '+';
  };
  if (s.size() >= 10 && s[2] == '.' && s[5] == '.') {  // DD.MM.YYYY[ HH:MM:SS]
    if (!num(0, 2, d) || !num(3, 2, mo) || !num(6, 4, y) || (s.size() > 10 && s[10] != ' '))
      return std::nullopt;
    year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
    return ymd.ok() ? std::optional(ymd) : std::nullopt;
  }
  if (s.size() < 10 || s[4] != '-' || s[7] != '-' || !num(0, 4, y) || !num(5, 2, mo) || !num(8, 2, d))
    return std::nullopt;
  const year_month_day local{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!local.ok()) return std::nullopt;
  if (s.size() == 10) return local;
  if (s[10] != 'T' && s[10] != ' ') return std::nullopt;
  int hh = 0, mm = 0, ss = 0;
  if (!num(11, 2, hh) || s.size() < 16 || s[13] != ':' || !num(14, 2, mm) || hh > 23 || mm > 59)
    return std::nullopt;
  std::size_t at = 16;
  if (at < s.size() && s[at] == ':') {
    if (!num(at + 1, 2, ss) || ss > 60) return std::nullopt;
    at += 3;
    if (at < s.size() && s[at] == '.') {
      ++at;
      while (at < s.size() && s[at] >= '0' && s[at] <= '9') ++at;
    }
  }
  const long local_seconds = hh * 3600L + mm * 60L + ss;
  if (at == s.size())  // no offset: a local date-time
    return local;
  long offset = 0;
  if (s[at] == 'Z' && at + 1 == s.size()) {
    offset = 0;
  } else if (s[at] == '+' || s[at] == '-') {
    int oh = 0, om = 0;
    const std::size_t rest = s.size() - at - 1;
    if (rest == 5 && s[at + 3] == ':' && num(at + 1, 2, oh) && num(at + 4, 2, om)) {
    } else if (rest == 4 && num(at + 1, 2, oh) && num(at + 3, 2, om)) {
    } else if (rest == 2 && num(at + 1, 2, oh)) {
    } else {
      return std::nullopt;
    }
    offset = (oh * 3600L + om * 60L) * (s[at] == '-' ? -1 : 1);
  } else {
    return std::nullopt;
  }
  // The portal renders a stored date as its UTC midnight in its own offset (trap 8).
  const auto utc = sys_days{local} + seconds{local_seconds - offset};
  if (utc == floor<days>(utc)) return year_month_day{floor<days>(utc)};
  return local;
}

std::string format_portal_date(std::chrono::year_month_day d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(d.year()),
                static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
  return buf;
}

}  // namespace b24sync::bitrix
