// The portal's two limiters as pure state machines over an injected clock: leaky bucket and operating time.
#include "core/limits.hpp"

#include <algorithm>
#include <cmath>

namespace b24emu::detail {

void rate_bucket::drain(double rate_per_s, double now) {
  if (!started_) {
    started_ = true;
    last_ = now;
    return;
  }
  if (now > last_) {
    level_ = std::max(0.0, level_ - (now - last_) * rate_per_s);
    last_ = now;
  }
}

bool rate_bucket::try_acquire(double rate_per_s, double burst, double now) {
  drain(rate_per_s, now);
  if (level_ >= burst) return false;
  level_ += 1;
  max_level_ = std::max(max_level_, level_);
  return true;
}

double rate_bucket::level(double rate_per_s, double now) const {
  if (!started_ || now <= last_) return level_;
  return std::max(0.0, level_ - (now - last_) * rate_per_s);
}

std::deque<operating_limiter::basket>& operating_limiter::baskets(const std::string& key, double now) {
  auto& b = baskets_[key];
  while (!b.empty() && b.front().first + 600.0 <= now) b.pop_front();
  return b;
}

operating_limiter::report operating_limiter::summarize(const std::deque<basket>& b) {
  report r;
  for (auto& x : b) r.operating += x.sum;
  if (!b.empty()) r.reset_at = static_cast<std::int64_t>(std::floor(b.front().first)) + 600;
  return r;
}

bool operating_limiter::blocked(const std::string& key, double limit_s, double now) {
  return summarize(baskets(key, now)).operating > limit_s;
}

operating_limiter::report operating_limiter::charge(const std::string& key, double cost_s,
                                                    double free_below_s, double now) {
  auto& b = baskets(key, now);
  if (cost_s > free_below_s) {
    auto minute = static_cast<std::int64_t>(std::floor(now / 60.0));
    if (b.empty() || b.back().minute != minute) b.push_back({minute, now, 0.0});
    b.back().sum += cost_s;
  }
  return summarize(b);
}

operating_limiter::report operating_limiter::peek(const std::string& key, double now) {
  return summarize(baskets(key, now));
}

}  // namespace b24emu::detail
