// sync/fingerprint.hpp: the snapshot digest behind snapshot_fingerprint(), fed one user at a time so
// the engine can fold it into the passes over the users it makes anyway (internal to daemon/sync).
#pragma once

#include "bitrix/portal_snapshot.hpp"

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

namespace b24sync::sync::detail {

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
  void json(const boost::json::value& v);
  std::string hex() const;
  std::uint64_t lane_a() const noexcept { return a_; }
  std::uint64_t lane_b() const noexcept { return b_; }

 private:
  std::uint64_t a_ = 0xcbf29ce484222325ULL;
  std::uint64_t b_ = 0x84222325cbf29ce4ULL;
};

/// The snapshot digest, fed one user at a time in ANY order, so that the engine folds it into the
/// passes it makes anyway (a user's fields are digested while the diff has them in cache): each
/// user's fields get a digest of their own, and the users' digests are summed, lane by lane.
class snapshot_digest {
 public:
  /// Adds one user (every field the engine reads); each user once.
  void add_user(const bitrix::portal_user& u);
  /// The hex fingerprint of `users` users added and these departments (any order).
  std::string finish(std::size_t users, const std::vector<bitrix::portal_department>& departments) const;

 private:
  std::uint64_t a_ = 0, b_ = 0;
};

}  // namespace b24sync::sync::detail
