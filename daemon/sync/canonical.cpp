// sync/canonical.cpp: reading portal values by field code and comparing them canonically.
#include "sync/canonical.hpp"

#include "config/phone.hpp"
#include "config/text.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>
#include <utility>

namespace b24sync::sync::detail {
namespace {

namespace json = boost::json;
namespace f = bitrix::field;

constexpr std::array<std::pair<std::string_view, portal_slot>, 13> slots{{
    {f::email, portal_slot::email},
    {f::name, portal_slot::name},
    {f::last_name, portal_slot::last_name},
    {f::second_name, portal_slot::second_name},
    {f::xml_id, portal_slot::xml_id},
    {f::work_position, portal_slot::work_position},
    {f::personal_phone, portal_slot::personal_phone},
    {f::personal_mobile, portal_slot::personal_mobile},
    {f::work_phone, portal_slot::work_phone},
    {f::uf_phone_inner, portal_slot::phone_inner},
    {f::personal_birthday, portal_slot::birthday},
    {f::uf_department, portal_slot::departments},
    {f::active, portal_slot::active},
}};

// One JSON scalar as text; null, objects ({} for empty dates, trap 8) and arrays read as "".
std::string_view json_text(const json::value& v, std::string& scratch) {
  switch (v.kind()) {
    case json::kind::string:
      return v.get_string();
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      scratch = json::serialize(v);
      return scratch;
    case json::kind::bool_:
      return v.get_bool() ? "Y" : "N";
    default:
      return {};
  }
}

const json::value* uf_value(const bitrix::portal_user& u, std::string_view field) {
  auto it = u.uf.find(field);
  return it == u.uf.end() ? nullptr : &it->second;
}

}  // namespace

portal_slot slot_of(std::string_view field) noexcept {
  for (const auto& [name, slot] : slots)
    if (name == field) return slot;
  return field.starts_with(f::uf_usr_prefix) ? portal_slot::uf : portal_slot::other;
}

std::string_view portal_text(const bitrix::portal_user& u, portal_slot slot, std::string_view field,
                             std::string& scratch) {
  switch (slot) {
    case portal_slot::email: return u.email();
    case portal_slot::name: return u.name();
    case portal_slot::last_name: return u.last_name();
    case portal_slot::second_name: return u.second_name();
    case portal_slot::xml_id: return u.xml_id();
    case portal_slot::work_position: return u.work_position();
    case portal_slot::personal_phone: return u.personal_phone();
    case portal_slot::personal_mobile: return u.personal_mobile();
    case portal_slot::work_phone: return u.work_phone();
    case portal_slot::phone_inner: return u.phone_inner();
    case portal_slot::birthday:
      if (!u.personal_birthday) return {};
      scratch = bitrix::format_portal_date(*u.personal_birthday);
      return scratch;
    case portal_slot::departments: return {};
    case portal_slot::active: return u.active ? "Y" : "N";
    case portal_slot::uf: {
      const json::value* v = uf_value(u, field);
      if (v == nullptr) return {};
      if (const auto* a = v->if_array()) {
        std::vector<std::string> parts;
        std::string one;
        for (const auto& e : *a)
          if (auto t = json_text(e, one); !t.empty()) parts.emplace_back(t);
        scratch = join(parts, ", ");
        return scratch;
      }
      return json_text(*v, scratch);
    }
    case portal_slot::other: {
      auto it = u.other.find(field);
      return it == u.other.end() ? std::string_view{} : std::string_view{it->second};
    }
  }
  return {};
}

std::vector<std::string> portal_list(const bitrix::portal_user& u, portal_slot slot, std::string_view field) {
  std::vector<std::string> out;
  std::string scratch;
  if (slot == portal_slot::uf) {
    if (const json::value* v = uf_value(u, field); v != nullptr && v->is_array()) {
      for (const auto& e : v->get_array())
        if (auto t = json_text(e, scratch); !trim_view(t).empty()) out.emplace_back(t);
      return out;
    }
  }
  if (auto t = portal_text(u, slot, field, scratch); !trim_view(t).empty()) out.emplace_back(t);
  return out;
}

std::optional<std::chrono::year_month_day> portal_date(const bitrix::portal_user& u, portal_slot slot,
                                                       std::string_view field) {
  if (slot == portal_slot::birthday) return u.personal_birthday;
  std::string scratch;
  return bitrix::parse_portal_date(trim_view(portal_text(u, slot, field, scratch)));
}

std::string_view trim_view(std::string_view s) noexcept {
  constexpr std::string_view ws = " \t\r\n\v\f";
  const auto b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

std::string canonical_text(std::string_view s) { return config::collapse_spaces(s); }

std::string canonical_email(std::string_view s) { return config::utf8_lower(config::collapse_spaces(s)); }

std::string canonical_phone(std::string_view s, std::string_view region) {
  if (auto e164 = config::normalize_phone(s, region)) return *e164;
  return canonical_text(s);
}

bool same_text(std::string_view a, std::string_view b) {
  return a == b || canonical_text(a) == canonical_text(b);
}

bool same_email(std::string_view a, std::string_view b) {
  return a == b || canonical_email(a) == canonical_email(b);
}

bool same_phone(std::string_view a, std::string_view b, std::string_view region) {
  if (a == b) return true;
  // The desired side is usually E.164 already (the mapping's phone transform): parse only the other.
  const bool e164 = a.size() >= 9 && a.size() <= 16 && a[0] == '+' &&
                    std::all_of(a.begin() + 1, a.end(), [](char c) { return c >= '0' && c <= '9'; });
  return (e164 ? std::string{a} : canonical_phone(a, region)) == canonical_phone(b, region);
}

std::string join(const std::vector<std::string>& values, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += sep;
    out += values[i];
  }
  return out;
}

std::string_view lower_view(std::string_view s, std::string& scratch) {
  const bool plain = std::none_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || static_cast<unsigned char>(c) >= 0x80;
  });
  if (plain) return s;
  scratch = config::utf8_lower(s);
  return scratch;
}

}  // namespace b24sync::sync::detail
