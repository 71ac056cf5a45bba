// A credential held in memory: redacted at construction, so printing, formatting or logging it shows "***".
#pragma once

#include <fmt/format.h>

#include <ostream>
#include <string>
#include <string_view>
#include <utility>

namespace b24sync::config {

// The webhook code, OAuth client secret, LDAP bind password. The value is reachable only through
// reveal(), which the HTTP/LDAP layer calls at the moment it builds a request.
class secret {
 public:
  secret() = default;
  explicit secret(std::string value) : value_(std::move(value)) {}

  const std::string& reveal() const noexcept { return value_; }
  bool empty() const noexcept { return value_.empty(); }
  bool operator==(const secret&) const = default;

  // Always "***" (also for an empty secret, so a log line does not tell whether one is set).
  static constexpr std::string_view redacted = "***";
  friend std::ostream& operator<<(std::ostream& os, const secret&) { return os << redacted; }

 private:
  std::string value_;
};

inline std::string to_string(const secret&) {
  return std::string{secret::redacted};
}

}  // namespace b24sync::config

template <>
struct fmt::formatter<b24sync::config::secret> : fmt::formatter<std::string_view> {
  template <typename Context>
  auto format(const b24sync::config::secret&, Context& ctx) const {
    return fmt::formatter<std::string_view>::format(b24sync::config::secret::redacted, ctx);
  }
};
