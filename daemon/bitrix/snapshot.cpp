// bitrix/snapshot.cpp: drives the user and department planners, sharing batch requests between them.
#include "bitrix/snapshot.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <string>

namespace b24sync::bitrix {

namespace {

// Moves `cmds` into `all` under fresh ids `prefix`<k> (the two planners may use the same names) and
// returns the original ids.
std::vector<std::string> rename_into(std::vector<command>& cmds, std::vector<command>& all, const char* prefix) {
  std::vector<std::string> ids;
  ids.reserve(cmds.size());
  for (std::size_t k = 0; k < cmds.size(); ++k) {
    ids.push_back(std::move(cmds[k].id));
    cmds[k].id = prefix + std::to_string(k);
    all.push_back(std::move(cmds[k]));
  }
  return ids;
}

std::vector<command_outcome> take_back(std::vector<command_outcome>& outcomes, std::size_t from,
                                       const std::vector<std::string>& ids) {
  std::vector<command_outcome> out;
  out.reserve(ids.size());
  for (std::size_t k = 0; k < ids.size(); ++k) {
    out.push_back(std::move(outcomes[from + k]));
    out.back().id = ids[k];
  }
  return out;
}

const command_outcome* first_failure(const std::vector<command_outcome>& outcomes) {
  auto it = std::find_if(outcomes.begin(), outcomes.end(), [](const command_outcome& o) { return !o.ok; });
  return it == outcomes.end() ? nullptr : &*it;
}

[[noreturn]] void fail(std::error_code ec, const std::vector<command_outcome>& outcomes, const char* what) {
  diagnostics d;
  error_class kind = error_class::permanent;
  std::string text = what;
  if (const auto* o = first_failure(outcomes)) {
    d = o->error;
    kind = classify(d);
    text += ": " + o->method + " " + d.error + (d.description.empty() ? "" : " " + d.description);
    if (!d.detail.empty()) text += " (" + d.detail + ")";
  }
  throw snapshot_error(ec, std::move(d), kind, text);
}

// The rounds on the wire, shared with their completion handlers (which may outlive a failed fetch).
struct round_board {
  struct finished {
    std::size_t round = 0;
    std::vector<command_outcome> outcomes;
    std::exception_ptr error;
  };
  explicit round_board(const net::any_io_executor& ex) : wake(ex, net::steady_timer::time_point::max()) {}
  net::steady_timer wake;  ///< never expires: cancelled when a round finishes
  std::deque<finished> done;
  std::size_t running = 0;
};

struct round_ids {
  std::vector<std::string> users, departments;
};

}  // namespace

net::awaitable<snapshot> async_fetch_snapshot(client& c, snapshot_config cfg) {
  cfg.batch_size = std::clamp<std::size_t>(std::min(cfg.batch_size, c.config().batch_size), 1, max_batch_commands);
  if (cfg.max_outstanding == 0) cfg.max_outstanding = std::max<std::size_t>(c.config().max_in_flight, 1);
  user_snapshot_planner users(cfg);
  department_snapshot_planner departments(cfg);
  const auto requests_before = c.stats().http_requests;
  int stuck_rounds = 0;  // consecutive rounds with failures the client could not retry away

  // Department commands ride along in the free slots of user requests: a planner request's
  // commands may be spread over several rounds; its outcomes are handed back once all are in.
  std::vector<command> dept_request;             // the department planner's current request
  std::vector<command_outcome> dept_outcomes;    // outcomes collected for it so far
  std::size_t dept_sent = 0;                     // how many of dept_request went out

  // Up to max_outstanding rounds on the wire at once: the client parses one answer while the portal
  // works on the next. A failure stops new rounds; the running ones are drained before throwing.
  const auto ex = co_await net::this_coro::executor;
  auto board = std::make_shared<round_board>(ex);
  std::map<std::size_t, round_ids> ids_of_round;
  std::size_t next_round = 0;
  std::exception_ptr failure;

  auto launch = [&]() -> bool {
    auto ucmds = users.next_request();
    if (dept_request.empty()) {
      dept_request = departments.next_request();
      dept_sent = 0;
      dept_outcomes.clear();
    }
    const std::size_t dept_left = dept_request.size() - dept_sent;
    if (ucmds.empty() && (dept_left == 0 || board->running > 0)) return false;
    const std::size_t room = ucmds.empty() ? dept_left
                                           : (ucmds.size() < cfg.batch_size ? cfg.batch_size - ucmds.size() : 0);
    const std::size_t take = std::min(room, dept_left);
    std::vector<command> dcmds(dept_request.begin() + static_cast<std::ptrdiff_t>(dept_sent),
                               dept_request.begin() + static_cast<std::ptrdiff_t>(dept_sent + take));
    dept_sent += take;
    std::vector<command> all;
    all.reserve(ucmds.size() + dcmds.size());
    round_ids ids;
    ids.users = rename_into(ucmds, all, "u");
    ids.departments = rename_into(dcmds, all, "d");
    const std::size_t round = next_round++;
    ids_of_round.emplace(round, std::move(ids));
    ++board->running;
    // User pages are decoded while each answer is parsed: no DOM for 50 × 50 rows per request.
    net::co_spawn(ex, c.async_batch(std::move(all), batch_options{.stream_user_rows = true}),
                  [board, round](std::exception_ptr e, std::vector<command_outcome> out) {
                    --board->running;
                    board->done.push_back({round, std::move(out), e});
                    board->wake.cancel();
                  });
    return true;
  };

  auto settle = [&](round_board::finished& f) {
    if (f.error) std::rethrow_exception(f.error);
    auto node = ids_of_round.extract(f.round);
    const round_ids& ids = node.mapped();
    auto uout = take_back(f.outcomes, 0, ids.users);
    auto dout = take_back(f.outcomes, ids.users.size(), ids.departments);
    dept_outcomes.insert(dept_outcomes.end(), dout.begin(), dout.end());

    if (!uout.empty()) {
      if (auto ec = users.consume_outcomes(uout)) fail(ec, uout, "user snapshot failed");
    }
    if (!dept_request.empty() && dept_sent == dept_request.size() && dept_outcomes.size() == dept_request.size()) {
      if (auto ec = departments.on_outcomes(dept_outcomes)) fail(ec, dept_outcomes, "department snapshot failed");
      dept_request.clear();
    }
    const bool transient = first_failure(uout) != nullptr || first_failure(dout) != nullptr;
    if (!transient) {
      stuck_rounds = 0;
    } else if (++stuck_rounds > 3) {
      uout.insert(uout.end(), std::make_move_iterator(dout.begin()), std::make_move_iterator(dout.end()));
      fail(make_error_code(classify(first_failure(uout)->error) == error_class::retry_transport
                               ? errc::transport_failed
                               : errc::server_error),
           uout, "snapshot gave up: the portal keeps failing");
    }
  };

  // Rounds are settled in the order they were launched: answers on two connections may finish out of
  // order, and the planner keeps rows that come in ID order as they are, but must sort 100,000 rows
  // into a second vector otherwise. A round that overtook an earlier one waits here, rows unmoved.
  std::map<std::size_t, round_board::finished> arrived;
  std::size_t next_to_settle = 0;
  for (;;) {
    if (!failure) {
      try {
        while (board->running < cfg.max_outstanding && launch()) {
        }
      } catch (...) {
        failure = std::current_exception();
      }
    }
    if (board->running == 0 && board->done.empty() && arrived.empty()) break;
    while (board->done.empty() && (arrived.empty() || arrived.begin()->first != next_to_settle) && board->running > 0)
      (void)co_await board->wake.async_wait(net::as_tuple(net::use_awaitable));
    while (!board->done.empty()) {
      auto f = std::move(board->done.front());
      board->done.pop_front();
      const std::size_t round = f.round;
      arrived.emplace(round, std::move(f));
    }
    while (!arrived.empty() && (arrived.begin()->first == next_to_settle || board->running == 0)) {
      auto node = arrived.extract(arrived.begin());
      next_to_settle = node.key() + 1;
      if (failure) continue;  // draining: a failed fetch ignores what is still coming in
      try {
        settle(node.mapped());
      } catch (...) {
        failure = std::current_exception();
      }
    }
  }
  if (failure) std::rethrow_exception(failure);

  if (!users.done() || !departments.done()) {
    throw snapshot_error(make_error_code(errc::snapshot_inconsistent), {}, error_class::permanent,
                         "snapshot planner stopped before completing (request budget spent)");
  }
  snapshot s;
  s.users = users.take_users();
  s.departments = departments.take_departments();
  s.user_stats = users.stats();
  s.department_stats = departments.stats();
  s.http_requests = c.stats().http_requests - requests_before;
  s.portal_time = c.portal_now();
  co_return std::move(s);  // (GCC 12 copies a named local in co_return: 100,000 rows)
}

}  // namespace b24sync::bitrix
