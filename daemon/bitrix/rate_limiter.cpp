// Leaky bucket (GCRA form) mirroring the portal's request limit, with AIMD after 503s.
#include "bitrix/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace b24sync::bitrix {

rate_limiter::rate_limiter(const rate_limiter_config& cfg)
    : cfg_(cfg),
      max_rate_(std::max(1e-3, cfg.requests_per_second * (1.0 - std::clamp(cfg.rate_margin, 0.0, 0.9)))),
      max_burst_(std::max(1.0, cfg.burst - std::max(0.0, cfg.burst_reserve))),
      rate_(max_rate_),
      burst_(max_burst_) {}

double rate_limiter::seconds(clock::time_point t) const noexcept {
  return std::chrono::duration<double>(t - origin_).count();
}

double rate_limiter::level(clock::time_point now) const noexcept {
  if (!started_) return 0;
  return std::max(0.0, (empty_at_ - seconds(now)) * rate_);
}

rate_limiter::clock::duration rate_limiter::acquire(clock::time_point now) {
  if (!started_) {
    started_ = true;
    origin_ = now;
  }
  const double t = seconds(now);
  const double lvl = std::max(0.0, (empty_at_ - t) * rate_);
  const double capacity = std::max(1.0, burst_);
  // Send when the bucket has drained to capacity - 1, so this request fits.
  constexpr double slack = 1e-9;  // float noise must not turn "fits" into a 1 ns wait
  const double send = lvl + 1.0 <= capacity + slack ? t : t + (lvl + 1.0 - capacity) / rate_;
  empty_at_ = std::max(empty_at_, send) + 1.0 / rate_;
  return std::chrono::round<clock::duration>(std::chrono::duration<double>(send - t));
}

void rate_limiter::on_success(clock::time_point now) {
  if (!started_) return;
  const double t = seconds(now);
  const double lvl = std::max(0.0, (empty_at_ - t) * rate_);
  rate_ = std::min(max_rate_, rate_ + cfg_.increase_per_success * max_rate_);
  burst_ = std::min(max_burst_, burst_ + cfg_.increase_per_success * max_burst_);
  empty_at_ = t + lvl / rate_;  // same level, drained at the new rate
}

void rate_limiter::on_rate_limited(clock::time_point now) {
  if (!started_) {
    started_ = true;
    origin_ = now;
  }
  const double t = seconds(now);
  // The portal's bucket is full: ours is at least as full.
  double lvl = std::max(std::max(0.0, (empty_at_ - t) * rate_), std::max(1.0, burst_));
  if (t - last_decrease_ >= std::chrono::duration<double>(cfg_.decrease_holdoff).count()) {
    last_decrease_ = t;
    const double floor_rate = std::max(1e-3, max_rate_ * std::clamp(cfg_.min_rate_fraction, 0.0, 1.0));
    rate_ = std::max(floor_rate, rate_ * cfg_.decrease_factor);
    burst_ = std::max(1.0, burst_ * cfg_.decrease_factor);
    lvl = std::max(lvl, burst_);
  }
  empty_at_ = t + lvl / rate_;
}

}  // namespace b24sync::bitrix
