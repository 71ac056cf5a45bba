// bitrix/snapshot.cpp: drives the user and department planners, sharing batch requests between them.
#include "bitrix/snapshot.hpp"

#include <algorithm>
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

}  // namespace

net::awaitable<snapshot> async_fetch_snapshot(client& c, snapshot_config cfg) {
  cfg.batch_size = std::clamp<std::size_t>(std::min(cfg.batch_size, c.config().batch_size), 1, max_batch_commands);
  user_snapshot_planner users(cfg);
  department_snapshot_planner departments(cfg);
  const auto requests_before = c.stats().http_requests;
  int stuck_rounds = 0;  // consecutive rounds with failures the client could not retry away

  // Department commands ride along in the free slots of user requests: a planner request's
  // commands may be spread over several rounds; its outcomes are handed back once all are in.
  std::vector<command> dept_request;             // the department planner's current request
  std::vector<command_outcome> dept_outcomes;    // outcomes collected for it so far
  std::size_t dept_sent = 0;                     // how many of dept_request went out

  for (;;) {
    auto ucmds = users.next_request();
    if (dept_request.empty()) {
      dept_request = departments.next_request();
      dept_sent = 0;
      dept_outcomes.clear();
    }
    if (ucmds.empty() && dept_request.empty()) break;
    const std::size_t room = ucmds.empty() ? dept_request.size()
                                           : (ucmds.size() < cfg.batch_size ? cfg.batch_size - ucmds.size() : 0);
    const std::size_t take = std::min(room, dept_request.size() - dept_sent);
    std::vector<command> dcmds(dept_request.begin() + static_cast<std::ptrdiff_t>(dept_sent),
                               dept_request.begin() + static_cast<std::ptrdiff_t>(dept_sent + take));
    std::vector<command> all;
    all.reserve(ucmds.size() + dcmds.size());
    auto uids = rename_into(ucmds, all, "u");
    auto dids = rename_into(dcmds, all, "d");

    // One round: one batch request (two when only department pages are left and there are many).
    auto outcomes = co_await c.async_batch(std::move(all));
    auto uout = take_back(outcomes, 0, uids);
    auto dout = take_back(outcomes, uids.size(), dids);
    dept_sent += take;
    dept_outcomes.insert(dept_outcomes.end(), dout.begin(), dout.end());

    if (!uout.empty()) {
      if (auto ec = users.on_outcomes(uout)) fail(ec, uout, "user snapshot failed");
    }
    if (!dept_request.empty() && dept_sent == dept_request.size()) {
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
  }

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
  co_return s;
}

}  // namespace b24sync::bitrix
