// Operating-time pacer against a model of the portal's 10 one-minute baskets: zero 429s, >= 0.95 throughput.
#include "bitrix/operating_pacer.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <vector>

using namespace b24sync::bitrix;

namespace {

// One method's load limiter as the portal runs it (SRC loadlimiter.php, contract §3b).
struct portal_baskets {
  double limit = 480, window = 600, width = 60, min_recorded = 0.1;
  struct basket {
    long long minute;
    double first;
    double sum;
  };
  std::vector<basket> baskets;
  void expire(double t) {
    std::erase_if(baskets, [&](const basket& b) { return b.first + window <= t; });
  }
  double sum(double t) {
    expire(t);
    double s = 0;
    for (const auto& b : baskets) s += b.sum;
    return s;
  }
  bool may_start(double t) { return sum(t) <= limit; }
  void record(double finish, double seconds) {
    if (seconds <= min_recorded) return;
    const auto minute = static_cast<long long>(std::floor(finish / width));
    for (auto& b : baskets)
      if (b.minute == minute) {
        b.sum += seconds;
        return;
      }
    baskets.push_back({minute, finish, seconds});
  }
  std::optional<double> reset_at() const {
    if (baskets.empty()) return std::nullopt;
    double r = baskets.front().first;
    for (const auto& b : baskets) r = std::min(r, b.first);
    return r + window;
  }
  double next_expiry(double t) {
    expire(t);
    double e = 1e300;
    for (const auto& b : baskets) e = std::min(e, b.first + window);
    return e;
  }
};

constexpr double t0 = 1'780'000'017.3;  // portal Unix time, not on a minute boundary
constexpr double latency = 0.05;

// Perfect knowledge, one call at a time, no latency: the fastest schedule the limit allows.
double oracle_time(int n, const std::function<double(int)>& cost, double limit) {
  portal_baskets p;
  p.limit = limit;
  double t = t0;
  for (int i = 0; i < n;) {
    if (!p.may_start(t)) {
      t = p.next_expiry(t);
      continue;
    }
    t += cost(i);
    p.record(t, cost(i));
    ++i;
  }
  return t - t0;
}

struct run_result {
  double elapsed = 0;
  int refused = 0;
  int applied = 0;
  int requests = 0;
};

// The executor's loop: batches of up to 50 user.add, paced by `pacer`; refused commands are resent.
run_result run_paced(int n, const std::function<double(int)>& cost, operating_pacer& pacer,
                     portal_baskets& portal) {
  run_result r;
  double t = t0;
  int next = 0;  // index of the next add to apply
  while (next < n) {
    pacing_grant g = pacer.admit("user.add", t, static_cast<std::size_t>(std::min(50, n - next)));
    if (g.calls == 0) {
      REQUIRE(g.not_before > t);
      t = g.not_before;
      continue;
    }
    ++r.requests;
    t += latency;
    std::optional<double> refused_at;
    for (std::size_t j = 0; j < g.calls; ++j) {
      if (!portal.may_start(t)) {
        refused_at = t;
        r.refused += static_cast<int>(g.calls - j);
        break;
      }
      const double c = cost(next);
      time_info ti;
      ti.start = t;
      t += c;
      ti.finish = t;
      ti.duration = c;
      portal.record(t, c);
      ti.operating = portal.sum(t);
      ti.operating_reset_at = portal.reset_at();
      pacer.observe("user.add", ti);
      ++next;
      ++r.applied;
    }
    t += latency;
    if (refused_at) pacer.on_refused("user.add", *refused_at, std::nullopt);
    pacer.settle("user.add", g);
  }
  r.elapsed = t - t0;
  return r;
}

}  // namespace

TEST_CASE("operating_pacer: admits what fits, then waits for the oldest basket") {
  operating_pacer p;  // 480 s, safety 4 s, initial cost 1 s
  auto g = p.admit("user.add", 1000, 50);
  CHECK(g.calls == 50);
  CHECK(g.reserved_seconds == doctest::Approx(50));
  CHECK(p.operating_at("user.add", 1000) == doctest::Approx(50));
  p.settle("user.add", g);
  CHECK(p.operating_at("user.add", 1000) == doctest::Approx(0));
  // The portal reports 470 s used; the oldest basket expires at 1300.
  time_info ti{.start = 1009,
               .finish = 1010,
               .duration = 1,
               .processing = 0,
               .operating = 470,
               .operating_reset_at = 1300};
  p.observe("user.add", ti);
  auto g2 = p.admit("user.add", 1011, 50);
  CHECK(g2.calls == 7);  // 470 + 6 × 1 <= 476 at the 7th call's start
  p.settle("user.add", g2);
  time_info full{.start = 1019,
                 .finish = 1020,
                 .duration = 1,
                 .processing = 0,
                 .operating = 479,
                 .operating_reset_at = 1300};
  p.observe("user.add", full);
  auto g3 = p.admit("user.add", 1021, 50);
  CHECK(g3.calls == 0);
  CHECK(g3.not_before >= 1300);
  CHECK(p.admit("other.method", 1021, 5).calls == 5);  // per method
}

TEST_CASE("operating_pacer: calls of 0.1 s or less are not charged") {
  operating_pacer p;
  for (int i = 0; i < 100; ++i) {
    time_info t;
    t.start = i;
    t.finish = i + 0.05;
    t.duration = 0.05;
    p.observe("user.get", t);
  }
  CHECK(p.operating_at("user.get", 100) == doctest::Approx(0));
  CHECK(p.admit("user.get", 100, 50).calls == 50);
}

TEST_CASE("operating_pacer: after OPERATION_TIME_LIMIT the method is held until operating_reset_at") {
  operating_pacer p;
  p.on_refused("user.add", 5000, 5400.5);
  auto g = p.admit("user.add", 5100, 10);
  CHECK(g.calls == 0);
  CHECK(g.not_before == doctest::Approx(5400.5));
  CHECK(p.admit("user.add", 5400.5, 10).calls > 0);
}

TEST_CASE("operating_pacer: 2,000 user.add at 0.5/0.7/1.1 s - zero 429s, >= 0.95 of the limit's throughput") {
  for (double c : {0.5, 0.7, 1.1}) {
    for (bool jitter : {false, true}) {
      CAPTURE(c);
      CAPTURE(jitter);
      std::mt19937 rng(17);
      std::uniform_real_distribution<double> j(0.9, 1.1);
      std::vector<double> costs(2000);
      for (auto& x : costs) x = jitter ? c * j(rng) : c;
      auto cost = [&](int i) { return costs[static_cast<std::size_t>(i)]; };
      operating_pacer pacer;
      portal_baskets portal;
      auto r = run_paced(2000, cost, pacer, portal);
      const double ideal = oracle_time(2000, cost, 480);
      CHECK(r.refused == 0);
      CHECK(r.applied == 2000);
      CHECK(ideal / r.elapsed >= 0.95);
      std::printf(
          "operating_pacer: cost %.1f s%s: %.0f s paced vs %.0f s ideal -> throughput %.3f, %d requests, %d "
          "refused\n",
          c, jitter ? " ±10%" : "", r.elapsed, ideal, ideal / r.elapsed, r.requests, r.refused);
    }
  }
}

TEST_CASE("operating_pacer: a foreign client already used most of the budget - still zero 429s") {
  operating_pacer pacer;
  portal_baskets portal;
  portal.record(t0 - 300, 400);  // someone spent 400 s five minutes ago
  auto r = run_paced(
      600, [](int) { return 0.7; }, pacer, portal);
  CHECK(r.refused == 0);
  CHECK(r.applied == 600);
}

TEST_CASE(
    "operating_pacer: a portal with a lower limit (420) - learned after one refusal, every add applied") {
  operating_pacer pacer;  // configured 480
  portal_baskets portal;
  portal.limit = 420;
  auto r = run_paced(
      2000, [](int) { return 0.5; }, pacer, portal);
  CHECK(r.applied == 2000);
  CHECK(r.refused > 0);
  CHECK(r.refused <= 50);  // one batch's tail, once
  const double ideal = oracle_time(
      2000, [](int) { return 0.5; }, 420);
  CHECK(ideal / r.elapsed >= 0.9);
  std::printf("operating_pacer: portal limit 420 vs configured 480: %d refused, throughput %.3f\n", r.refused,
              ideal / r.elapsed);
}

TEST_CASE("portal_clock: skewed and time-scaled portal clocks") {
  using clk = std::chrono::steady_clock;
  const clk::time_point base{};
  auto local = [&](double s) {
    return base + std::chrono::duration_cast<clk::duration>(std::chrono::duration<double>(s));
  };

  portal_clock skewed;
  CHECK_FALSE(skewed.to_portal(local(0)));
  CHECK(skewed.to_local(123, local(5)) == local(5));  // not synced: no wait
  skewed.observe(local(10), 1'780'000'000.0);         // portal is a year away from our steady clock
  CHECK(skewed.synced());
  CHECK(*skewed.to_portal(local(12)) == doctest::Approx(1'780'000'002.0));
  CHECK(skewed.to_local(1'780'000'030.0, local(11)) == local(40));

  portal_clock scaled;  // emulator running 60x faster than real time
  for (int i = 0; i <= 20; ++i) scaled.observe(local(0.1 * i), 1'780'000'000.0 + 6.0 * i);
  CHECK(scaled.scale() == doctest::Approx(60).epsilon(0.01));
  const double target = 1'780'000'000.0 + 120 + 600;  // 600 portal s after the last reading
  CHECK(std::chrono::duration<double>(scaled.to_local(target, local(2)) - local(2)).count() ==
        doctest::Approx(10).epsilon(0.01));

  portal_clock steady;  // real portal, latency jitter: scale stays exactly 1
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> lat(0.02, 0.4);
  for (int i = 0; i < 100; ++i) steady.observe(local(i + lat(rng)), 5000.0 + i);
  CHECK(steady.scale() == 1.0);
}
