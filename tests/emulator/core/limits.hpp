// The portal's two limiters as pure state machines over an injected clock: leaky bucket and operating time.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>

namespace b24emu::detail {

// Request-rate limit: the level drains `rate_per_s` per second; a request is refused while the level
// is >= burst (a refused request adds nothing), otherwise it adds 1. A batch is one request.
class rate_bucket {
 public:
  // Returns false when the request must be answered 503 QUERY_LIMIT_EXCEEDED.
  bool try_acquire(double rate_per_s, double burst, double now);
  double level(double rate_per_s, double now) const;  // level drained up to `now`, without changing state
  double max_level() const { return max_level_; }
  void reset_max() { max_level_ = level_; }

 private:
  void drain(double rate_per_s, double now);
  double level_ = 0;
  double last_ = 0;
  bool started_ = false;
  double max_level_ = 0;
};

// Operating-time limit per key (auth identity + method): 10 one-minute baskets floor(t/60). A basket
// expires 600 s after its first recorded call. Calls costing <= free_below_s are not recorded.
class operating_limiter {
 public:
  struct report {
    double operating = 0;                  // stored sum (after recording the current call)
    std::optional<std::int64_t> reset_at;  // first call of the oldest basket + 600; none if empty
  };

  // True when the stored sum is > limit: the call must be refused before it runs.
  bool blocked(const std::string& key, double limit_s, double now);
  // Records a finished call (if cost > free_below_s) and reports the state afterwards.
  report charge(const std::string& key, double cost_s, double free_below_s, double now);
  report peek(const std::string& key, double now);
  void clear() { baskets_.clear(); }

 private:
  struct basket {
    std::int64_t minute = 0;
    double first = 0;
    double sum = 0;
  };
  std::deque<basket>& baskets(const std::string& key, double now);
  static report summarize(const std::deque<basket>& b);
  std::map<std::string, std::deque<basket>> baskets_;
};

}  // namespace b24emu::detail
