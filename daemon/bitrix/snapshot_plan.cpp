// user.get / department.get paging planners: overlapping offset pages plus an ID-coverage proof.
#include "bitrix/snapshot_plan.hpp"

#include "bitrix/batch_stream.hpp"
#include "bitrix/errors.hpp"
#include "common/huge_pages.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <limits>
#include <string_view>
#include <type_traits>
#include <utility>

namespace b24sync::bitrix {
namespace {

namespace json = boost::json;

// The planners keep rows keyed by ID (dedup, ID order); callers get them as a vector.
template <class Row, class Key>
std::vector<Row> take_values(std::map<Key, Row>& rows) {
  std::vector<Row> out;
  out.reserve(rows.size());
  for (auto& [id, row] : rows) out.push_back(std::move(row));
  rows.clear();
  return out;
}

// A snapshot that needs more requests than its budget is not converging: stop it.
std::error_code check_request_budget(const snapshot_stats& stats, const snapshot_config& cfg, bool& done) {
  if (stats.requests < cfg.max_requests) return {};
  done = true;
  return errc::snapshot_inconsistent;
}
constexpr std::int64_t open_end = std::numeric_limits<std::int64_t>::max();

// Rows of a list result: a JSON array, or an object when PHP keys had gaps.
std::optional<std::vector<const json::object*>> rows_of(const json::value& result) {
  std::vector<const json::object*> rows;
  auto add = [&](const json::value& v) {
    if (!v.is_object()) return false;
    rows.push_back(&v.get_object());
    return true;
  };
  if (const auto* a = result.if_array()) {
    for (const auto& v : *a)
      if (!add(v)) return std::nullopt;
  } else if (const auto* o = result.if_object()) {
    for (const auto& kv : *o)
      if (!add(kv.value())) return std::nullopt;
  } else {
    return std::nullopt;
  }
  return rows;
}

// Per-command failure: resend it (true), or stop the snapshot with `ec`. A token that expired
// between commands is the client's business (it refreshes on the whole batch): just resend.
bool resend_or_fail(const command_outcome& o, std::error_code& ec) {
  const error_class c = classify(o.error);
  if (is_retryable(c) || c == error_class::auth_refresh) return true;
  ec = to_error_code(o.error);
  return false;
}

}  // namespace

user_snapshot_planner::user_snapshot_planner(const snapshot_config& cfg) : cfg_(cfg) {
  cfg_.batch_size = std::clamp<std::size_t>(cfg_.batch_size, 1, max_batch_commands);
  cfg_.page_size = std::max<std::size_t>(cfg_.page_size, 2);
}

json::object user_snapshot_planner::base_params() const {
  json::object p;
  p[param::sort] = field::id;
  p[param::order] = "ASC";
  if (cfg_.admin_mode) p[param::admin_mode] = yes_no(true);
  return p;
}

void user_snapshot_planner::queue_page(std::int64_t start) {
  command c{"p" + std::to_string(start), std::string(method::user_get), base_params()};
  c.params[param::start] = start;
  meta_[c.id] = page_meta{false, start, std::nullopt};
  pending_.push_back(std::move(c));
}

void user_snapshot_planner::queue_range(std::int64_t above, std::optional<std::int64_t> below) {
  command c{"g" + std::to_string(above), std::string(method::user_get), base_params()};
  json::object filter;
  filter[">" + std::string(field::id)] = above;
  if (below) filter["<" + std::string(field::id)] = *below;
  c.params[param::filter] = std::move(filter);
  c.params[param::start] = -1;  // no COUNT(*): the range bounds the read
  meta_[c.id] = page_meta{true, above, below};
  pending_.push_back(std::move(c));
  ++stats_.gap_queries;
}

void user_snapshot_planner::plan_pages(std::int64_t total) {
  // Page 0 covered offsets 0..page_size-1. Each next page starts on the previous page's last row
  // (one row of overlap) until some page's window reaches offset `total` (one past the end).
  const auto page = static_cast<std::int64_t>(cfg_.page_size);
  for (std::int64_t end = page - 1; end < total;) {
    const std::int64_t start = end;
    queue_page(start);
    end = start + page - 1;
  }
}

void user_snapshot_planner::plan_gaps() {
  std::sort(covered_.begin(), covered_.end(),
            [](const interval& a, const interval& b) { return a.from < b.from; });
  std::int64_t next = 1;  // lowest ID not yet covered
  for (const auto& iv : covered_) {
    if (next == open_end) return;
    if (iv.from > next) queue_range(next - 1, iv.from);
    if (iv.to >= next) next = iv.to == open_end ? open_end : iv.to + 1;
  }
  if (next != open_end) queue_range(next - 1, std::nullopt);
}

std::vector<command> user_snapshot_planner::next_request() {
  if (done_) return {};
  // Page 0 alone until `total` is known; then up to max_outstanding independent offset requests.
  const std::size_t limit = first_done_ ? std::max<std::size_t>(cfg_.max_outstanding, 1) : 1;
  if (outstanding_ >= limit) return {};
  if (!first_sent_) {
    first_sent_ = true;
    queue_page(0);
  } else if (outstanding_ > 0 && pending_.size() <= cfg_.batch_size) {
    // The request that ends the plan (the tail page, or gap queries) waits for every other answer:
    // the tail page read last catches users added while paging, and the proof needs all pages in.
    return {};
  } else if (pending_.empty()) {
    plan_gaps();
    if (pending_.empty()) {
      done_ = true;
      return {};
    }
  }
  const std::size_t n = std::min(cfg_.batch_size, pending_.size());
  std::vector<command> out(std::make_move_iterator(pending_.begin()),
                           std::make_move_iterator(pending_.begin() + static_cast<std::ptrdiff_t>(n)));
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n));
  const std::uint64_t no = next_request_no_++;
  in_flight_.insert(in_flight_.end(), out.begin(), out.end());
  in_flight_request_.insert(in_flight_request_.end(), n, no);
  ++outstanding_;
  ++stats_.requests;
  stats_.commands += n;
  return out;
}

std::error_code user_snapshot_planner::take_rows(const page_meta& meta, const command_outcome& o, bool movable) {
  std::int64_t last = 0;
  std::int64_t first = 0;
  // Rows must come in ascending ID order (else the coverage proof fails).
  auto accept = [&](portal_user&& u) -> std::error_code {
    const auto id = static_cast<std::int64_t>(u.id);
    if (id <= last) return errc::snapshot_inconsistent;
    if (first == 0) first = id;
    last = id;
    keep_user(std::move(u));
    return {};
  };
  std::size_t row_count = 0;
  if (o.users) {
    // Decoded while the answer was parsed: the same checks, in the same order, as for a DOM page.
    user_page& page = *o.users;  // moved from only when `movable` (consume_outcomes)
    if (page.not_a_list) return errc::malformed_envelope;
    for (auto& u : page.rows) {
      if (auto ec = accept(movable ? std::move(u) : portal_user(u))) return ec;
    }
    if (page.row_error) return page.row_error;
    row_count = page.rows.size();
  } else {
    auto rows = rows_of(o.result);
    if (!rows) return errc::malformed_envelope;
    for (const auto* row : *rows) {
      std::error_code ec;
      auto u = user_from_json(*row, ec);
      if (!u) return ec;
      if (auto bad = accept(std::move(*u))) return bad;
    }
    row_count = rows->size();
  }
  const bool short_page = row_count < cfg_.page_size;
  interval claim{};
  if (meta.range) {
    claim.from = meta.start_or_above + 1;
    claim.to = !short_page ? last : (meta.below ? *meta.below - 1 : open_end);
  } else if (row_count == 0) {
    if (meta.start_or_above != 0) return {};  // an empty page beyond the end proves nothing
    claim = {1, open_end};
  } else {
    claim.from = meta.start_or_above == 0 ? 1 : first;
    claim.to = short_page ? open_end : last;
  }
  if (claim.from <= claim.to) covered_.push_back(claim);
  if (!first_done_ && !meta.range && meta.start_or_above == 0) {
    first_done_ = true;
    stats_.first_total = o.total;
    // Room for every user up front: growing a vector of 100,000 rows moves each several times into
    // fresh memory. (Capped: `total` comes from the portal; untouched capacity costs no RAM anyway.)
    // The rows are tens of MB written once, front to back: in huge pages where the kernel offers them
    // (one page fault per 8 rows cost the fetch more than decoding them).
    common::reserve_huge(users_, static_cast<std::size_t>(std::clamp<std::int64_t>(o.total.value_or(0), 0, 1'000'000)) +
                                     cfg_.page_size);
    plan_pages(o.total.value_or(static_cast<std::int64_t>(row_count)));
  }
  return {};
}

std::error_code user_snapshot_planner::on_outcomes(std::span<const command_outcome> outcomes) {
  return handle_outcomes(outcomes);
}

std::error_code user_snapshot_planner::consume_outcomes(std::span<command_outcome> outcomes) {
  return handle_outcomes(outcomes);
}

template <class Outcome>
std::error_code user_snapshot_planner::handle_outcomes(std::span<Outcome> outcomes) {
  constexpr bool movable = !std::is_const_v<Outcome>;
  if (done_ || in_flight_.empty()) return {};
  auto find = [&](std::string_view id) {
    return std::find_if(in_flight_.begin(), in_flight_.end(), [&](const command& c) { return c.id == id; });
  };
  // Which request these outcomes answer: the first one that names a command of ours, else the oldest.
  std::uint64_t request = *std::min_element(in_flight_request_.begin(), in_flight_request_.end());
  for (const auto& o : outcomes) {
    if (auto it = find(o.id); it != in_flight_.end()) {
      request = in_flight_request_[static_cast<std::size_t>(it - in_flight_.begin())];
      break;
    }
  }
  for (const auto& o : outcomes) {
    auto it = find(o.id);
    if (it == in_flight_.end()) continue;  // not ours (or answered twice)
    const auto at = it - in_flight_.begin();
    if (in_flight_request_[static_cast<std::size_t>(at)] != request) continue;  // another request's
    command cmd = std::move(*it);
    in_flight_.erase(it);
    in_flight_request_.erase(in_flight_request_.begin() + at);
    if (!o.ok) {
      std::error_code ec;
      if (!resend_or_fail(o, ec)) {
        done_ = true;
        return ec;
      }
      ++stats_.resent;
      pending_.insert(pending_.begin(), std::move(cmd));
      continue;
    }
    auto m = meta_.find(cmd.id);
    if (m == meta_.end()) continue;
    if (auto ec = take_rows(m->second, o, movable)) {
      done_ = true;
      return ec;
    }
  }
  // Anything of this request that got no outcome at all is resent.
  for (std::size_t k = in_flight_.size(); k-- > 0;) {
    if (in_flight_request_[k] != request) continue;
    ++stats_.resent;
    pending_.insert(pending_.begin(), std::move(in_flight_[k]));
    in_flight_.erase(in_flight_.begin() + static_cast<std::ptrdiff_t>(k));
    in_flight_request_.erase(in_flight_request_.begin() + static_cast<std::ptrdiff_t>(k));
  }
  --outstanding_;
  return check_request_budget(stats_, cfg_, done_);
}

void user_snapshot_planner::keep_user(portal_user&& u) {
  if (users_.empty() || users_.back().id < u.id) {
    users_.push_back(std::move(u));
    return;
  }
  if (users_sorted_) {  // a row seen before (a later read wins), or one that belongs further up
    auto it = std::lower_bound(users_.begin(), users_.end(), u.id,
                               [](const portal_user& a, user_id id) { return a.id < id; });
    if (it->id == u.id) {
      ++stats_.duplicates;
      *it = std::move(u);
      return;
    }
    users_sorted_ = false;
  }
  users_.push_back(std::move(u));  // placed (and deduplicated) by take_users()
}

std::vector<portal_user> user_snapshot_planner::take_users() {
  if (users_sorted_) return std::exchange(users_, {});
  // Stable by ID, so among rows with the same ID the one read last comes last and is kept.
  std::vector<std::size_t> order(users_.size());
  for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return users_[a].id < users_[b].id; });
  std::vector<portal_user> out;
  out.reserve(users_.size());
  for (std::size_t k = 0; k < order.size(); ++k) {
    auto& u = users_[order[k]];
    if (k + 1 < order.size() && users_[order[k + 1]].id == u.id) {
      ++stats_.duplicates;
      continue;
    }
    out.push_back(std::move(u));
  }
  users_.clear();
  users_sorted_ = true;
  return out;
}

department_snapshot_planner::department_snapshot_planner(const snapshot_config& cfg) : cfg_(cfg) {
  cfg_.batch_size = std::clamp<std::size_t>(cfg_.batch_size, 1, max_batch_commands);
  cfg_.page_size = std::max<std::size_t>(cfg_.page_size, 1);
}

command department_snapshot_planner::page_command(std::int64_t start) const {
  command c{"d" + std::to_string(start), std::string(method::department_get), {}};
  c.params[param::dept_sort] = dept_field::id;
  c.params[param::dept_order] = "ASC";
  c.params[param::start] = start;
  return c;
}

std::vector<command> department_snapshot_planner::next_request() {
  if (done_ || !in_flight_.empty()) return {};
  if (!first_sent_) {
    first_sent_ = true;
    pending_.push_back(page_command(0));
  } else if (pending_.empty()) {
    done_ = true;
    return {};
  }
  const std::size_t n = std::min(cfg_.batch_size, pending_.size());
  in_flight_.assign(std::make_move_iterator(pending_.begin()), std::make_move_iterator(pending_.begin() + n));
  pending_.erase(pending_.begin(), pending_.begin() + n);
  ++stats_.requests;
  stats_.commands += n;
  return in_flight_;
}

std::error_code department_snapshot_planner::on_outcomes(std::span<const command_outcome> outcomes) {
  for (const auto& o : outcomes) {
    auto it =
        std::find_if(in_flight_.begin(), in_flight_.end(), [&](const command& c) { return c.id == o.id; });
    if (it == in_flight_.end()) continue;
    command cmd = std::move(*it);
    in_flight_.erase(it);
    if (!o.ok) {
      std::error_code ec;
      if (!resend_or_fail(o, ec)) {
        done_ = true;
        return ec;
      }
      ++stats_.resent;
      pending_.insert(pending_.begin(), std::move(cmd));
      continue;
    }
    auto rows = rows_of(o.result);
    if (!rows) {
      done_ = true;
      return errc::malformed_envelope;
    }
    for (const auto* row : *rows) {
      std::error_code ec;
      auto d = department_from_json(*row, ec);
      if (!d) {
        done_ = true;
        return ec;
      }
      const auto id = static_cast<std::int64_t>(d->id);
      if (!departments_.insert_or_assign(id, std::move(*d)).second) ++stats_.duplicates;
    }
    if (!first_done_ && cmd.id == "d0") {
      first_done_ = true;
      stats_.first_total = o.total;
      const auto page = static_cast<std::int64_t>(cfg_.page_size);
      const std::int64_t total = o.total.value_or(0);
      for (std::int64_t start = page; start < total; start += page)  // trust total, not next
        pending_.push_back(page_command(start));
    }
  }
  for (auto& c : in_flight_) {
    ++stats_.resent;
    pending_.insert(pending_.begin(), std::move(c));
  }
  in_flight_.clear();
  return check_request_budget(stats_, cfg_, done_);
}

std::vector<portal_department> department_snapshot_planner::take_departments() {
  return take_values(departments_);
}

}  // namespace b24sync::bitrix
