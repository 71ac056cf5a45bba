// Operating-time pacer: a per-method model of the portal's 10 one-minute baskets, in portal time.
#include "bitrix/operating_pacer.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace b24sync::bitrix {
namespace {
constexpr double reconcile_epsilon = 0.05;  // seconds of disagreement ignored (float rounding)
}

operating_pacer::operating_pacer(const operating_pacer_config& cfg) : cfg_(cfg) {}

operating_pacer::method_state& operating_pacer::state(std::string_view method) {
  auto it = methods_.find(method);
  if (it == methods_.end()) it = methods_.emplace(std::string(method), method_state{}).first;
  return it->second;
}

double operating_pacer::alive_sum(const method_state& m, double at) const {
  double sum = 0;
  for (const auto& b : m.baskets)
    if (b.first + cfg_.window_seconds > at) sum += b.seconds;
  return sum;
}

void operating_pacer::expire(method_state& m, double now) const {
  std::erase_if(m.baskets, [&](const basket& b) { return b.first + cfg_.window_seconds <= now; });
}

void operating_pacer::record(method_state& m, double at, double seconds) const {
  if (seconds <= 0) return;
  const auto minute = static_cast<long long>(std::floor(at / cfg_.basket_seconds));
  auto it =
      std::find_if(m.baskets.begin(), m.baskets.end(), [&](const basket& b) { return b.minute >= minute; });
  if (it == m.baskets.end() || it->minute != minute) it = m.baskets.insert(it, basket{minute, at, 0});
  it->first = std::min(it->first, at);
  it->seconds += seconds;
}

void operating_pacer::drop_surplus(method_state& m, double surplus, double at) const {
  auto take_from = [&](basket& b) {
    const double take = std::min(b.seconds, surplus);
    b.seconds -= take;
    surplus -= take;
  };
  // 1. Baskets the portal may have dropped already: it may date a call by its start, we date it by
  //    its finish, so a basket of ours can outlive the portal's by one call.
  const double skew = cost_of(m);
  for (auto& b : m.baskets)
    if (surplus > 0 && b.first + cfg_.window_seconds - skew <= at) take_from(b);
  // 2. The rest from the oldest: wherever it really sits, the model then expects less to be freed
  //    soon and more to stay, so it can only err on the careful side.
  for (auto& b : m.baskets)
    if (surplus > 0) take_from(b);
  std::erase_if(m.baskets, [](const basket& b) { return b.seconds <= 1e-9; });
}

double operating_pacer::cost_of(const method_state& m) const {
  if (m.recent_costs.empty()) return cfg_.initial_cost;
  return *std::max_element(m.recent_costs.begin(), m.recent_costs.end());
}

double operating_pacer::budget_of(const method_state& m) const {
  return std::min(cfg_.limit_seconds, m.limit.value_or(cfg_.limit_seconds)) - cfg_.safety_seconds;
}

double operating_pacer::expected_cost(std::string_view method) const {
  auto it = methods_.find(method);
  return it == methods_.end() ? cfg_.initial_cost : cost_of(it->second);
}

double operating_pacer::operating_at(std::string_view method, double portal_now) const {
  auto it = methods_.find(method);
  return it == methods_.end() ? 0.0 : alive_sum(it->second, portal_now) + it->second.reserved;
}

pacing_grant operating_pacer::admit(std::string_view method, double portal_now, std::size_t wanted) {
  method_state& m = state(method);
  expire(m, portal_now);
  pacing_grant g;
  if (portal_now < m.hold_until) {
    g.not_before = m.hold_until;
    return g;
  }
  const double cost = cost_of(m);
  const double charged = cost > cfg_.min_recorded ? cost : 0.0;
  const double budget = budget_of(m);
  // Each call of the batch starts after the previous ones: baskets may expire meanwhile.
  double at = portal_now;
  double own = 0;
  while (g.calls < wanted && alive_sum(m, at) + m.reserved + own <= budget) {
    ++g.calls;
    own += charged;
    at += cost;
  }
  // Before the first answer the cost is a guess: a batch that would only fit at that guess could run
  // into the limit if calls turn out dearer, so near the limit one call goes first to learn the cost.
  if (m.recent_costs.empty() && g.calls > 1 && alive_sum(m, at) + m.reserved + 2 * own > budget) {
    g.calls = 1;
    own = charged;
  }
  if (g.calls > 0) {
    g.not_before = portal_now;
    g.reserved_seconds = own;
    m.reserved += own;
    return g;
  }
  // Nothing fits: the earliest basket expiry after which one call does.
  std::vector<double> expiries;
  for (const auto& b : m.baskets) expiries.push_back(b.first + cfg_.window_seconds);
  std::sort(expiries.begin(), expiries.end());
  g.not_before = portal_now + std::max(cost, 1.0);  // only reservations in flight block us
  for (double e : expiries) {
    if (alive_sum(m, e) + m.reserved <= budget_of(m)) {
      g.not_before = e;
      break;
    }
  }
  return g;
}

void operating_pacer::observe(std::string_view method, const time_info& t) {
  method_state& m = state(method);
  const double at = std::max(t.finish, t.start);
  expire(m, at);
  if (t.duration >= 0) {
    m.recent_costs.push_back(t.duration);
    while (m.recent_costs.size() > std::max<std::size_t>(1, cfg_.cost_history)) m.recent_costs.pop_front();
  }
  if (!m.request_open) {
    m.request_open = true;
    m.request_first_start = m.request_last_start = t.start;
  }
  m.request_first_start = std::min(m.request_first_start, t.start);
  m.request_last_start = std::max(m.request_last_start, t.start);
  if (t.duration > cfg_.min_recorded) {
    record(m, at, t.duration);
    m.observed_unsettled += t.duration;
  }
  m.last_operating = t.operating;
  m.last_cost = t.duration;
  if (t.operating) {
    const double model = alive_sum(m, at);
    if (*t.operating > model + reconcile_epsilon) {
      // The portal's sum holds calls we have not seen: our other requests in flight (already
      // reserved) and foreign callers. Only what the reservations cannot explain is booked, as late
      // as possible; booking our own in-flight calls here would count them twice until they settle.
      const double in_flight_elsewhere = std::max(0.0, m.reserved - m.observed_unsettled);
      const double unexplained = *t.operating - model - in_flight_elsewhere;
      if (unexplained > reconcile_epsilon) record(m, at, unexplained);
    } else if (*t.operating < model - reconcile_epsilon) {
      // We over-count - or the sum is stale: taken before calls of other requests of ours that
      // reached the portal after this one (a portal that runs a batch's sub-calls at once, or answers
      // out of order). Those requests' seconds are not held against the sum; only the rest of the
      // gap is dropped, so the model does not under-count and let the next batch run into the limit.
      double stale = 0;
      for (const auto& r : m.settled)
        if (r.last_start > m.request_first_start) stale += r.seconds;
      const double surplus = model - *t.operating - stale;
      if (surplus > reconcile_epsilon) drop_surplus(m, surplus, at);
    }
  }
  if (t.operating_reset_at) {
    // Nothing the portal holds expires before its oldest basket does.
    for (auto& b : m.baskets)
      if (b.first + cfg_.window_seconds < *t.operating_reset_at)
        b.first = *t.operating_reset_at - cfg_.window_seconds;
  }
}

void operating_pacer::settle(std::string_view method, const pacing_grant& grant) {
  method_state& m = state(method);
  m.reserved = std::max(0.0, m.reserved - grant.reserved_seconds);
  // A request's observe() calls come right before its settle(), so what was observed since the last
  // settle belonged to this grant and is now in the baskets, not in a reservation.
  if (m.request_open) {
    m.settled.push_back({m.request_last_start, m.observed_unsettled});
    while (!m.settled.empty() && m.settled.front().last_start + cfg_.window_seconds < m.request_last_start)
      m.settled.pop_front();
  }
  m.observed_unsettled = 0;
  m.request_open = false;
  if (m.reserved < 1e-9) m.reserved = 0;
}

void operating_pacer::on_refused(std::string_view method, double portal_now, std::optional<double> reset_at) {
  method_state& m = state(method);
  expire(m, portal_now);
  // Refused below our limit: the portal's limit is lower. The last call still started at or under
  // it, so its sum before that call is a safe value.
  if (m.last_operating && *m.last_operating <= cfg_.limit_seconds)
    m.limit = std::min(m.limit.value_or(cfg_.limit_seconds), std::max(0.0, *m.last_operating - m.last_cost));
  // The portal holds more than the limit now: make the model agree.
  // The portal holds more than the limit now: make the model agree. The unseen surplus is booked
  // to expire at the reset time the portal gave (its oldest basket), else as late as possible.
  const double model = alive_sum(m, portal_now);
  const double limit = budget_of(m) + cfg_.safety_seconds;
  const double surplus = limit - model + cost_of(m) + reconcile_epsilon;
  const bool have_reset = reset_at && *reset_at > portal_now;
  if (have_reset) {
    for (auto& b : m.baskets)
      if (b.first + cfg_.window_seconds < *reset_at) b.first = *reset_at - cfg_.window_seconds;
    if (model <= limit)
      m.baskets.insert(m.baskets.begin(), basket{std::numeric_limits<long long>::min(),
                                                 *reset_at - cfg_.window_seconds, surplus});
  } else if (model <= limit) {
    record(m, portal_now, surplus);
  }
  double hold = portal_now + cfg_.hold_without_reset;
  if (have_reset) {
    hold = *reset_at;
  } else if (!m.baskets.empty()) {
    // Without the portal's reset time: hold until the model's oldest basket has expired.
    hold = std::max(portal_now, m.baskets.front().first + cfg_.window_seconds);
    for (const auto& b : m.baskets)
      hold = std::min(hold, std::max(portal_now, b.first + cfg_.window_seconds));
  }
  m.hold_until = std::max(m.hold_until, hold);
}

void portal_clock::observe(clock::time_point local_received, double portal_finish) {
  if (!have_) {
    have_ = true;
    first_local_ = last_local_ = local_received;
    first_portal_ = last_portal_ = portal_finish;
    scale_ = fixed_scale_.value_or(1.0);
    return;
  }
  if (!fixed_scale_) {
    const double local_span = std::chrono::duration<double>(local_received - first_local_).count();
    const double portal_span = portal_finish - first_portal_;
    if (local_span >= 1.0 && portal_span >= 30.0) {
      const double s = portal_span / local_span;
      scale_ = std::fabs(s - 1.0) > 0.1 ? s : 1.0;
    }
  }
  // Anchor on the newest reading: it under-estimates the portal's time only by that answer's
  // latency, so waits err on the late side.
  if (local_received >= last_local_) {
    last_local_ = local_received;
    last_portal_ = portal_finish;
  }
}

std::optional<double> portal_clock::to_portal(clock::time_point local) const {
  if (!have_) return std::nullopt;
  return last_portal_ + std::chrono::duration<double>(local - last_local_).count() * scale_;
}

portal_clock::clock::time_point portal_clock::to_local(double portal_time, clock::time_point now) const {
  if (!have_) return now;
  const auto offset = std::chrono::duration<double>((portal_time - last_portal_) / scale_);
  const auto local = last_local_ + std::chrono::ceil<clock::duration>(offset);
  return std::max(now, local);
}

}  // namespace b24sync::bitrix
