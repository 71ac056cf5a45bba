// sync/fingerprint.cpp: snapshot_fingerprint — a 128-bit digest of every snapshot field the engine
// reads, so a reviewed plan can tell whether the portal changed since. Pure.
#include "sync/fingerprint.hpp"

#include "sync/diff.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <chrono>
#include <type_traits>

namespace b24sync::sync {
namespace detail {

void fingerprint::json(const boost::json::value& v) {
  u64(static_cast<std::uint64_t>(v.kind()));
  if (const auto* a = v.if_array()) {
    u64(a->size());
    for (const auto& e : *a) json(e);
  } else if (const auto* s = v.if_string()) {
    bytes(*s);
  } else if (v.is_number() || v.is_bool()) {
    bytes(boost::json::serialize(v));
  }
}

std::string fingerprint::hex() const {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (std::uint64_t lane : {a_, b_})
    for (int i = 15; i >= 0; --i) out += digits[(lane >> (4 * i)) & 0xF];
  return out;
}

void digest_user(fingerprint& f, const bitrix::portal_user& u) {
  f.u64(static_cast<std::uint64_t>(u.id));
  f.u64(u.active ? 1 : 0);
  for (const std::string* t : {&u.email, &u.name, &u.last_name, &u.second_name, &u.xml_id, &u.work_position,
                               &u.phones.personal_phone, &u.phones.personal_mobile, &u.phones.work_phone,
                               &u.phones.inner})
    f.bytes(*t);
  f.u64(u.personal_birthday ? 1 : 0);
  if (const auto& b = u.personal_birthday)
    f.u64(static_cast<std::uint64_t>(static_cast<std::int64_t>(std::chrono::sys_days{*b}.time_since_epoch().count())));
  f.u64(u.departments.size());
  for (auto d : u.departments) f.u64(static_cast<std::uint64_t>(d));
  f.u64(u.uf.size());
  for (const auto& [k, v] : u.uf) {
    f.bytes(k);
    f.json(v);
  }
  f.u64(u.other.size());
  for (const auto& [k, v] : u.other) {
    f.bytes(k);
    f.bytes(v);
  }
}

void digest_departments(fingerprint& f, const std::vector<bitrix::portal_department>& departments) {
  std::vector<const bitrix::portal_department*> v;
  v.reserve(departments.size());
  for (const auto& d : departments) v.push_back(&d);
  std::sort(v.begin(), v.end(), [](auto a, auto b) { return a->id < b->id; });
  f.u64(v.size());
  for (const auto* dp : v) {
    f.u64(static_cast<std::uint64_t>(dp->id));
    f.u64(dp->parent ? static_cast<std::uint64_t>(*dp->parent) : 0);
    f.bytes(dp->name);
  }
}

}  // namespace detail

std::string snapshot_fingerprint(const bitrix::snapshot& s) {
  // In ID order whatever the vector's order: the same portal read twice gives the same digest.
  std::vector<const bitrix::portal_user*> users;
  users.reserve(s.users.size());
  for (const auto& u : s.users) users.push_back(&u);
  if (!std::is_sorted(users.begin(), users.end(), [](auto a, auto b) { return a->id < b->id; }))
    std::sort(users.begin(), users.end(), [](auto a, auto b) { return a->id < b->id; });
  detail::fingerprint f;
  f.u64(users.size());
  for (const auto* u : users) detail::digest_user(f, *u);
  detail::digest_departments(f, s.departments);
  return f.hex();
}

}  // namespace b24sync::sync
