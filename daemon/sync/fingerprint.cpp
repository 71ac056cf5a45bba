// sync/fingerprint.cpp: snapshot_fingerprint — a 128-bit digest of every snapshot field the engine
// reads, so a reviewed plan can tell whether the portal changed since. Pure.
#include "sync/diff.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstring>
#include <string_view>
#include <type_traits>
#include <vector>

namespace b24sync::sync {
namespace {

// Fingerprint: two independent 64-bit lanes over a canonical stream of the snapshot's fields, fed
// 8 bytes at a time (little-endian by arithmetic, so every platform gets the same digest).
class fingerprint {
  static constexpr std::uint64_t byteswap(std::uint64_t v) noexcept {
    std::uint64_t r = 0;
    for (int k = 0; k < 8; ++k) r = (r << 8) | ((v >> (8 * k)) & 0xFF);
    return r;
  }

 public:
  void bytes(std::string_view s) {
    u64(s.size());
    std::size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
      std::uint64_t w = 0;
      std::memcpy(&w, s.data() + i, 8);
      if constexpr (std::endian::native == std::endian::big) w = byteswap(w);
      u64(w);
    }
    std::uint64_t w = 0;
    for (std::size_t k = 0; i + k < s.size(); ++k)
      w |= std::uint64_t{static_cast<unsigned char>(s[i + k])} << (8 * k);
    u64(w);
  }
  void u64(std::uint64_t v) {
    a_ = (a_ ^ v) * 0x100000001b3ULL;
    a_ ^= a_ >> 32;
    b_ = (b_ + v) * 0x9E3779B97F4A7C15ULL;
    b_ ^= b_ >> 29;
  }
  void json(const boost::json::value& v) {
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
  std::string hex() const {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (std::uint64_t lane : {a_, b_})
      for (int i = 15; i >= 0; --i) out += digits[(lane >> (4 * i)) & 0xF];
    return out;
  }

 private:
  std::uint64_t a_ = 0xcbf29ce484222325ULL;
  std::uint64_t b_ = 0x84222325cbf29ce4ULL;
};

}  // namespace

std::string snapshot_fingerprint(const bitrix::snapshot& s) {
  // In ID order whatever the vectors' order: the same portal read twice gives the same digest.
  auto by_id = [](const auto& items) {
    std::vector<const std::remove_cvref_t<decltype(items.front())>*> v;
    v.reserve(items.size());
    for (const auto& x : items) v.push_back(&x);
    if (!std::is_sorted(v.begin(), v.end(), [](auto a, auto b) { return a->id < b->id; }))
      std::sort(v.begin(), v.end(), [](auto a, auto b) { return a->id < b->id; });
    return v;
  };
  fingerprint f;
  f.u64(s.users.size());
  for (const auto* up : by_id(s.users)) {
    const auto& u = *up;
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
  f.u64(s.departments.size());
  for (const auto* dp : by_id(s.departments)) {
    const auto& d = *dp;
    f.u64(static_cast<std::uint64_t>(d.id));
    f.u64(d.parent ? static_cast<std::uint64_t>(*d.parent) : 0);
    f.bytes(d.name);
  }
  return f.hex();
}

}  // namespace b24sync::sync
