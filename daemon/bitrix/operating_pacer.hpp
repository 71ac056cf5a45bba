// Per-method pacing under the portal's operating-time limit (10 one-minute baskets), in PORTAL time.
#pragma once

#include "bitrix/envelope.hpp"

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace b24sync::bitrix {

struct operating_pacer_config {
  double limit_seconds = 480.0;      ///< refusal once a method's sum is > this (self-hosted: 420)
  double window_seconds = 600.0;     ///< a basket lives from its first call + this
  double basket_seconds = 60.0;      ///< basket width (basket = floor(portal_time / this))
  double min_recorded = 0.1;         ///< calls this short are not recorded by the portal
  double safety_seconds = 4.0;       ///< headroom kept below the limit at each call's start
  double initial_cost = 1.0;         ///< assumed cost of a call before any has been observed
  std::size_t cost_history = 16;     ///< expected cost = max of the last N observed durations
  double hold_without_reset = 60.0;  ///< hold after a 429 that came without operating_reset_at
};

/// What admit() allows: `calls` of the method may start now; when 0, ask again at `not_before`.
struct pacing_grant {
  std::size_t calls = 0;
  double not_before = 0;        ///< portal Unix seconds
  double reserved_seconds = 0;  ///< operating time reserved for the calls until settle()
};

/** Keeps each method's recent operating time as the portal does (10 baskets of 60 s, each expiring
    600 s after its first call) and lets through only as many calls as fit under the limit:
    a batch of k calls of one method runs them back to back, and every one of them must start with
    the method's sum (baskets still alive + calls in flight + the earlier calls of the batch) at or
    below limit − safety.

    Everything is in PORTAL time (the `time.start/finish` the portal reports), so a skewed local clock
    or a time-scaled emulator are fine: convert with portal_clock.

    Per call (or per batch sub-command) that ran: observe(method, time), all of one request's calls
    before its settle(). The portal's `operating` corrects the model: excess that our reservations in
    flight do not explain is booked to the newest basket; a shortfall is dropped (first from baskets
    the portal may already have expired, then from the oldest) only net of the seconds of our requests
    that reached the portal after this one, since the sum may have been taken before them. So the
    model errs towards over-counting. `operating_reset_at` moves every earlier-expiring basket to
    that instant.
    After an OPERATION_TIME_LIMIT: on_refused(); the method is held until operating_reset_at, and if
    the portal refused below the configured limit (a self-hosted 420 vs 480), the lower limit it
    must have (the last reported sum minus that call) is used from then on.
    Not thread-safe. */
class operating_pacer {
 public:
  explicit operating_pacer(const operating_pacer_config& cfg = {});

  /// How many of `wanted` calls of `method` may start at `portal_now`; reserves their cost.
  pacing_grant admit(std::string_view method, double portal_now, std::size_t wanted);

  /// One executed call of `method` (top-level `time` or a batch's `result_time[cmd]`).
  void observe(std::string_view method, const time_info& t);

  /// The request that carried `grant` has been answered or has failed: drop its reservation.
  /// Call after the observe() calls for its commands.
  void settle(std::string_view method, const pacing_grant& grant);

  /// The portal refused `method` with OPERATION_TIME_LIMIT at `portal_now`.
  void on_refused(std::string_view method, double portal_now, std::optional<double> reset_at);

  /// The model's sum for `method` at `portal_now` (baskets alive + reservations).
  double operating_at(std::string_view method, double portal_now) const;
  /// The expected cost of one call of `method` (max of recent durations).
  double expected_cost(std::string_view method) const;
  const operating_pacer_config& config() const noexcept { return cfg_; }

 private:
  struct basket {
    long long minute = 0;  ///< floor(first / basket_seconds)
    double first = 0;      ///< portal time of the first call recorded in it
    double seconds = 0;
  };
  struct method_state {
    std::vector<basket> baskets;  ///< ordered by minute
    std::deque<double> recent_costs;
    double reserved = 0;
    double observed_unsettled = 0;  ///< charged seconds observed since the last settle()
    bool request_open = false;      ///< observe() has seen a call of a request not settled yet
    double request_first_start = 0;  ///< that request's earliest call start
    double request_last_start = 0;   ///< and its latest
    struct settled_request {
      double last_start = 0;  ///< its latest call start
      double seconds = 0;     ///< charged seconds it recorded
    };
    std::deque<settled_request> settled;  ///< requests settled within the window, oldest first
    double hold_until = 0;
    std::optional<double> limit;           ///< learned from a refusal below the configured limit
    std::optional<double> last_operating;  ///< portal's sum after the latest observed call
    double last_cost = 0;                  ///< duration of that call
  };

  method_state& state(std::string_view method);
  double alive_sum(const method_state& m, double at) const;
  void expire(method_state& m, double now) const;
  void record(method_state& m, double at, double seconds) const;
  void drop_surplus(method_state& m, double surplus, double at) const;
  double cost_of(const method_state& m) const;
  double budget_of(const method_state& m) const;

  operating_pacer_config cfg_;
  std::map<std::string, method_state, std::less<>> methods_;
};

/** Maps local steady time to the portal's clock from (local receive time, time.finish) pairs, so
    waits computed in portal time become local timer deadlines. Anchored on the latest observation;
    the portal-to-local speed ratio is 1 unless configured, or measured over a long enough span and
    clearly different from 1 (a time-scaled emulator). Pure: the caller supplies both clocks. */
class portal_clock {
 public:
  using clock = std::chrono::steady_clock;

  explicit portal_clock(std::optional<double> fixed_scale = std::nullopt) : fixed_scale_(fixed_scale) {}

  /// A response carrying `portal_finish` was received at `local_received`.
  void observe(clock::time_point local_received, double portal_finish);

  bool synced() const noexcept { return have_; }
  /// Portal seconds per local second currently in use.
  double scale() const noexcept { return scale_; }
  /// Estimated portal time at `local`; nullopt before the first observation.
  std::optional<double> to_portal(clock::time_point local) const;
  /// Local deadline at which the portal's clock reaches `portal_time` (now when not synced).
  clock::time_point to_local(double portal_time, clock::time_point now) const;

 private:
  std::optional<double> fixed_scale_;
  bool have_ = false;
  clock::time_point first_local_{}, last_local_{};
  double first_portal_ = 0, last_portal_ = 0;
  double scale_ = 1.0;
};

}  // namespace b24sync::bitrix
