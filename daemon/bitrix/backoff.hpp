// Exponential backoff with full jitter, bounded attempts and total delay; RNG injected. Pure.
#pragma once

#include <chrono>
#include <optional>
#include <random>

namespace b24sync::bitrix {

struct backoff_config {
  std::chrono::milliseconds initial{500};       ///< cap of the first delay
  std::chrono::milliseconds max_delay{30000};   ///< cap of any single delay
  double multiplier = 2.0;                      ///< cap growth per attempt
  unsigned max_attempts = 8;                    ///< retries allowed (0: none)
  std::chrono::milliseconds max_total{300000};  ///< sum of all delays allowed (0: unbounded)
};

/** delay_n = uniform(floor, min(max_delay, initial × multiplier^n)) ("full jitter"), where floor
    is the caller's minimum (e.g. the rate limiter's or the pacer's own wait). Stops (nullopt) after
    max_attempts delays, or when the next delay would push the sum past max_total. */
class backoff {
 public:
  using duration = std::chrono::milliseconds;

  explicit backoff(const backoff_config& cfg = {}) : cfg_(cfg) {}

  /// Next delay from a uniform draw `u01` in [0, 1); nullopt when the budget is spent.
  std::optional<duration> next(double u01, duration floor = duration::zero());

  /// Same, drawing from any uniform random bit generator (tests pass a seeded engine).
  template <class URBG>
  std::optional<duration> next_from(URBG& rng, duration floor = duration::zero()) {
    return next(std::uniform_real_distribution<double>(0.0, 1.0)(rng), floor);
  }

  void reset() noexcept {
    attempts_ = 0;
    total_ = duration::zero();
  }
  unsigned attempts() const noexcept { return attempts_; }
  duration total() const noexcept { return total_; }
  /// The cap for attempt `n` (0-based) before jitter: min(max_delay, initial × multiplier^n).
  duration cap(unsigned n) const noexcept;

 private:
  backoff_config cfg_;
  unsigned attempts_ = 0;
  duration total_ = duration::zero();
};

}  // namespace b24sync::bitrix
