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

namespace {

// A 64-bit finalizer (MurmurHash3's fmix64): every input bit reaches every output bit, so sums of
// finished user digests do not cancel out the way sums of raw lanes could.
constexpr std::uint64_t fmix64(std::uint64_t k) noexcept {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

void digest_user(fingerprint& f, const bitrix::portal_user& u) {
  f.u64(static_cast<std::uint64_t>(u.id));
  f.u64(u.active ? 1 : 0);
  u.texts.each([&](std::string_view t) { f.bytes(t); });  // email ... phone_inner, in user_text order
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

}  // namespace

void snapshot_digest::add_user(const bitrix::portal_user& u) {
  fingerprint f;
  digest_user(f, u);
  a_ += fmix64(f.lane_a());
  b_ += fmix64(f.lane_b() ^ 0x9E3779B97F4A7C15ULL);
}

std::string snapshot_digest::finish(std::size_t users,
                                    const std::vector<bitrix::portal_department>& departments) const {
  fingerprint f;
  f.u64(users);
  f.u64(a_);
  f.u64(b_);
  digest_departments(f, departments);
  return f.hex();
}

}  // namespace detail

std::string snapshot_fingerprint(const bitrix::snapshot& s) {
  detail::snapshot_digest d;  // users in any order: the same portal read twice gives the same digest
  for (const auto& u : s.users) d.add_user(u);
  return d.finish(s.users.size(), s.departments);
}

}  // namespace b24sync::sync
