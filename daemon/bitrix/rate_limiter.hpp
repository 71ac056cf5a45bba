// Client-side leaky bucket mirroring the portal's request limit, with AIMD on 503s. Pure: clock injected.
#pragma once

#include <chrono>
#include <cstddef>

namespace b24sync::bitrix {

struct rate_limiter_config {
  double requests_per_second = 2.0;    ///< portal drain rate Y (enterprise: 5)
  double burst = 50.0;                 ///< portal bucket size X (enterprise: 250)
  double rate_margin = 0.01;           ///< fraction of the drain rate left unused (clock-rate differences)
  double burst_reserve = 2.0;          ///< bucket slots never used by us (latency jitter, off-by-one)
  double decrease_factor = 0.5;        ///< AIMD: effective rate and burst multiplied by this on a 503
  double min_rate_fraction = 0.1;      ///< effective rate never drops below this share of the rate
  double increase_per_success = 0.02;  ///< AIMD: share of the configured rate regained per success
  std::chrono::milliseconds decrease_holdoff{2000};  ///< 503s closer than this count as one event
};

/** A GCRA / leaky bucket in the portal's image: every request fills the bucket by one, it drains at
    the effective rate, and a request may go when it still fits under the effective burst.

    acquire() RESERVES a slot: call it once per HTTP request (a batch is one request) right before
    sending, wait the returned delay, then send. Use ONE instance per portal for everything the
    process sends (snapshot and writes), since the portal counts them all.

    AIMD: a 503 QUERY_LIMIT_EXCEEDED means the portal's bucket is full although ours was not
    (someone else shares the budget): the bucket is assumed full now and the effective rate and burst
    are cut by decrease_factor (once per holdoff). Each success adds increase_per_success × rate back
    to the rate (and burst proportionally), never above the configured limits.

    Not thread-safe; drive it from the client's single thread. */
class rate_limiter {
 public:
  using clock = std::chrono::steady_clock;

  explicit rate_limiter(const rate_limiter_config& cfg = {});

  /// Reserve a slot for a request sent at `now` + returned delay (zero: send now).
  clock::duration acquire(clock::time_point now);

  /// The request was answered with anything but 503 QUERY_LIMIT_EXCEEDED.
  void on_success(clock::time_point now);

  /// The request was answered 503 QUERY_LIMIT_EXCEEDED.
  void on_rate_limited(clock::time_point now);

  double effective_rate() const noexcept { return rate_; }    ///< requests per second in use
  double effective_burst() const noexcept { return burst_; }  ///< bucket size in use
  /// Bucket level (requests) at `now`, including reservations not yet sent.
  double level(clock::time_point now) const noexcept;
  const rate_limiter_config& config() const noexcept { return cfg_; }

 private:
  double seconds(clock::time_point t) const noexcept;

  rate_limiter_config cfg_;
  double max_rate_;
  double max_burst_;
  double rate_;
  double burst_;
  double empty_at_ = 0;  ///< seconds since origin_ at which the bucket drains to zero
  double last_decrease_ = -1e300;
  bool started_ = false;
  clock::time_point origin_{};
};

}  // namespace b24sync::bitrix
