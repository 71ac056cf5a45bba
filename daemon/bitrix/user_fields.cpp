// JSON rows of user.get / department.get -> portal_user / portal_department; portal dates.
#include "bitrix/user_fields.hpp"

#include "bitrix/envelope.hpp"
#include "bitrix/errors.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace b24sync::bitrix {
namespace {

namespace json = boost::json;

std::string text(const json::object& row, std::string_view key) {
  const json::value* v = row.if_contains(key);
  if (v == nullptr) return {};
  switch (v->kind()) {
    case json::kind::string:
      return std::string(v->get_string());
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return json::serialize(*v);
    default:
      return {};  // null, {} (trap 8), arrays: no text value
  }
}

bool flag(const json::value* v, bool fallback) {
  if (v == nullptr) return fallback;
  if (v->is_bool()) return v->get_bool();
  if (auto n = json_to_int(*v)) return *n != 0;
  if (v->is_string()) {
    std::string_view s = v->get_string();
    if (s == "Y" || s == "y" || s == "true") return true;
    if (s == "N" || s == "n" || s == "false" || s.empty()) return false;
  }
  return fallback;
}

template <class T>
bool read_number(std::string_view s, T& out) noexcept {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size();
}

// Fields portal_user holds in typed members, and fields that change without anyone editing the user
// (logins, presence, timestamps) or are not text (photos): none of them goes into portal_user::other.
bool kept_elsewhere(std::string_view k) noexcept {
  static constexpr std::string_view skipped[] = {
      field::id, field::active, field::email, field::name, field::last_name, field::second_name,
      field::xml_id, field::work_position, field::personal_phone, field::personal_mobile,
      field::work_phone, field::uf_phone_inner, field::personal_birthday, field::uf_department,
      field::user_type, "LAST_LOGIN", "DATE_REGISTER", "IS_ONLINE", "TIMESTAMP_X",
      "LAST_ACTIVITY_DATE", "PERSONAL_PHOTO", "WORK_LOGO", "TIME_ZONE_OFFSET"};
  return k.starts_with(field::uf_usr_prefix) ||
         std::find(std::begin(skipped), std::end(skipped), k) != std::end(skipped);
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

std::optional<portal_user> user_from_json(const json::object& row, std::error_code& ec) {
  ec.clear();
  const json::value* idv = row.if_contains(field::id);
  auto id = idv ? json_to_id(*idv) : std::nullopt;
  if (!id) {
    ec = errc::malformed_envelope;
    return std::nullopt;
  }
  portal_user u;
  u.id = user_id{*id};
  u.active = flag(row.if_contains(field::active), true);
  u.email = text(row, field::email);
  u.name = text(row, field::name);
  u.last_name = text(row, field::last_name);
  u.second_name = text(row, field::second_name);
  u.xml_id = text(row, field::xml_id);
  u.work_position = text(row, field::work_position);
  u.phones.personal_phone = text(row, field::personal_phone);
  u.phones.personal_mobile = text(row, field::personal_mobile);
  u.phones.work_phone = text(row, field::work_phone);
  u.phones.inner = text(row, field::uf_phone_inner);
  u.personal_birthday = parse_portal_date(text(row, field::personal_birthday));
  if (const json::value* deps = row.if_contains(field::uf_department)) {
    auto add = [&](const json::value& v) {
      if (auto d = json_to_id(v)) u.departments.push_back(department_id{*d});
    };
    if (const auto* a = deps->if_array())
      std::for_each(a->begin(), a->end(), add);
    else
      add(*deps);
    std::sort(u.departments.begin(), u.departments.end());
    u.departments.erase(std::unique(u.departments.begin(), u.departments.end()), u.departments.end());
  }
  u.type = type_of(text(row, field::user_type));
  for (const auto& kv : row)
    if (kv.key().starts_with(field::uf_usr_prefix)) {
      u.uf.emplace(std::string(kv.key()), json::value(kv.value(), json::storage_ptr()));  // not the answer's arena
    } else if (!kept_elsewhere(kv.key())) {
      if (std::string t = text(row, kv.key()); !t.empty()) u.other.emplace(std::string(kv.key()), std::move(t));
    }
  return u;
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
