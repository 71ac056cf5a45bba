// Exponential backoff with full jitter and bounded attempts / total delay.
#include "bitrix/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace b24sync::bitrix {

backoff::duration backoff::cap(unsigned n) const noexcept {
  const double initial = static_cast<double>(cfg_.initial.count());
  const double limit = static_cast<double>(cfg_.max_delay.count());
  const double grown = initial * std::pow(std::max(1.0, cfg_.multiplier), static_cast<double>(n));
  return duration(static_cast<duration::rep>(std::min(limit, grown)));
}

std::optional<backoff::duration> backoff::next(double u01, duration floor) {
  if (attempts_ >= cfg_.max_attempts) return std::nullopt;
  const duration top = std::max(cap(attempts_), floor);
  const double u = std::clamp(u01, 0.0, 1.0);
  const double span = static_cast<double>((top - floor).count());
  const duration d = floor + duration(static_cast<duration::rep>(std::llround(u * span)));
  if (cfg_.max_total.count() > 0 && total_ + d > cfg_.max_total) return std::nullopt;
  ++attempts_;
  total_ += d;
  return d;
}

}  // namespace b24sync::bitrix
