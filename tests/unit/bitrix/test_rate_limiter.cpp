// Leaky-bucket limiter: step by step with a fake clock, and event simulations against a portal bucket.
#include "bitrix/rate_limiter.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <functional>
#include <queue>
#include <random>
#include <vector>

using namespace b24sync::bitrix;
using clock_type = std::chrono::steady_clock;

namespace {

clock_type::time_point at(double s) {
  return clock_type::time_point{} +
         std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(s));
}
double secs(clock_type::duration d) {
  return std::chrono::duration<double>(d).count();
}

// The portal's counter: +1 per accepted request, drains at `rate`; refuses once it would pass `cap`.
struct portal_bucket {
  double rate = 2, cap = 50, level = 0, last = 0;
  bool arrive(double t) {
    level = std::max(0.0, level - rate * (t - last));
    last = t;
    if (level + 1 > cap) return false;
    level += 1;
    return true;
  }
};

struct sim_result {
  double last_send = 0;
  double last_answer = 0;
  int refused = 0;
  int sent = 0;
};

// Discrete-event run: `n` requests, at most `in_flight` outstanding, random network latency and
// processing time; refused requests are resent. `competitor_period` > 0 adds a foreign client that
// sends one request every period seconds into the same portal bucket.
sim_result simulate(rate_limiter& limiter, int n, int in_flight, unsigned seed, double competitor_period = 0,
                    portal_bucket portal = {}) {
  struct event {
    double t;
    int kind;  // 0 slot free, 1 arrival, 2 answer ok, 3 answer 503, 4 competitor
    bool operator>(const event& o) const { return t > o.t || (t == o.t && kind > o.kind); }
  };
  std::priority_queue<event, std::vector<event>, std::greater<>> q;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> latency(0.02, 0.3), processing(0.05, 1.5);
  sim_result r;
  int to_send = n, done = 0;
  for (int i = 0; i < in_flight; ++i) q.push({0.0, 0});
  if (competitor_period > 0) q.push({0.0, 4});
  while (!q.empty() && done < n) {
    event e = q.top();
    q.pop();
    switch (e.kind) {
      case 0:
        if (to_send > 0) {
          --to_send;
          const double send = e.t + secs(limiter.acquire(at(e.t)));
          r.last_send = std::max(r.last_send, send);
          ++r.sent;
          q.push({send + latency(rng), 1});
        }
        break;
      case 1:
        if (portal.arrive(e.t))
          q.push({e.t + processing(rng) + latency(rng), 2});
        else
          q.push({e.t + 0.01 + latency(rng), 3});
        break;
      case 2:
        limiter.on_success(at(e.t));
        ++done;
        r.last_answer = e.t;
        q.push({e.t, 0});
        break;
      case 3:
        limiter.on_rate_limited(at(e.t));
        ++r.refused;
        ++to_send;  // resend
        q.push({e.t, 0});
        break;
      case 4:
        portal.arrive(e.t);
        q.push({e.t + competitor_period, 4});
        break;
    }
  }
  return r;
}

}  // namespace

TEST_CASE("rate_limiter: burst goes at once, then exactly the (margined) drain rate") {
  rate_limiter l;  // 2/s, burst 50, 1% margin, 2 slots reserve
  for (int i = 0; i < 48; ++i) CHECK(l.acquire(at(0)) == clock_type::duration::zero());
  CHECK(secs(l.acquire(at(0))) == doctest::Approx(1 / 1.98).epsilon(1e-6));
  CHECK(secs(l.acquire(at(0))) == doctest::Approx(2 / 1.98).epsilon(1e-6));
  // Idle for a minute: the bucket is empty again.
  for (int i = 0; i < 48; ++i) CHECK(l.acquire(at(120)) == clock_type::duration::zero());
  CHECK(l.acquire(at(120)) > clock_type::duration::zero());
}

TEST_CASE("rate_limiter: a 503 fills the bucket and halves rate and burst; successes restore them") {
  rate_limiter l;
  CHECK(l.acquire(at(0)) == clock_type::duration::zero());
  l.on_rate_limited(at(1));
  CHECK(l.effective_rate() == doctest::Approx(0.99));
  CHECK(l.effective_burst() == doctest::Approx(24));
  l.on_rate_limited(at(1.5));  // same episode: no second cut
  CHECK(l.effective_rate() == doctest::Approx(0.99));
  CHECK(l.acquire(at(1.5)) > std::chrono::seconds(1));  // bucket assumed full
  for (int i = 0; i < 100; ++i) l.on_success(at(2 + i));
  CHECK(l.effective_rate() == doctest::Approx(1.98));  // back, never above the configured limit
  CHECK(l.effective_burst() == doctest::Approx(48));
  for (int i = 0; i < 10; ++i) l.on_rate_limited(at(1000 + 10 * i));
  CHECK(l.effective_rate() >= 0.198 - 1e-9);  // floor: 10% of the rate
  CHECK(l.effective_burst() >= 1);
}

TEST_CASE("rate_limiter: 200 batch requests at 2/s burst 50 finish within 1.05x the minimum, zero 503s") {
  const int n = 200;
  const double minimum = (n - 50) / 2.0;  // 75 s
  for (unsigned seed : {1u, 2u, 3u, 4u, 5u, 6u, 7u, 8u, 9u, 10u}) {
    CAPTURE(seed);
    rate_limiter l;
    auto r = simulate(l, n, 8, seed);
    CHECK(r.refused == 0);
    CHECK(r.last_send <= 1.05 * minimum);
    if (seed == 1)
      std::printf("rate_limiter: %d requests, last sent at %.2f s (minimum %.1f s, ratio %.3f), %d refused\n",
                  n, r.last_send, minimum, r.last_send / minimum, r.refused);
  }
}

TEST_CASE("rate_limiter: enterprise limits 5/s burst 250") {
  rate_limiter l(rate_limiter_config{.requests_per_second = 5, .burst = 250});
  auto r = simulate(l, 1000, 16, 42, 0, portal_bucket{.rate = 5, .cap = 250});
  CHECK(r.refused == 0);
  CHECK(r.last_send <= 1.05 * (1000 - 250) / 5.0);
}

TEST_CASE("rate_limiter: a foreign client sharing the budget - AIMD keeps 503s rare and still finishes") {
  rate_limiter l;
  auto r = simulate(l, 400, 8, 7, 2.0);  // competitor takes 0.5/s of the 2/s
  CHECK(r.sent - r.refused == 400);
  const double share = static_cast<double>(r.refused) / r.sent;
  std::printf("rate_limiter shared: %d sent, %d refused (%.1f%%), last answer %.1f s (ideal %.1f s)\n",
              r.sent, r.refused, 100 * share, r.last_answer, (400 - 50) / 1.5);
  CHECK(share <= 0.05);
  CHECK(r.last_answer <= 2.0 * (400 - 50) / 1.5);
}
