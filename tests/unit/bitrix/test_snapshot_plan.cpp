// Snapshot planners against a fake user.get that shifts under concurrent changes: nobody missed.
#include "bitrix/php_query.hpp"
#include "bitrix/snapshot_plan.hpp"

#include <doctest/doctest.h>
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include <ostream>  // doctest prints std::error_code

#include <algorithm>
#include <functional>
#include <set>
#include <string>

namespace json = boost::json;
using namespace b24sync::bitrix;

namespace {

// A portal's user list (IDs ascending) answering user.get the way SRC userGet does.
struct fake_portal {
  std::set<std::int64_t> ids;
  std::function<void(int)> between;  // runs before the n-th command executes (concurrent changes)
  std::set<std::string> fail_once;   // command ids answered once with OPERATION_TIME_LIMIT
  bool shuffle = false;              // return pages out of ID order
  int executed = 0;
  std::vector<std::int64_t> sorted;  // ids as a vector, rebuilt when they may have changed
  std::set<std::int64_t> by_offset;  // ids ever served by an offset page (not an ID-range query)

  json::object row(std::int64_t id) const {
    return json::object{{"ID", std::to_string(id)},
                        {"ACTIVE", true},
                        {"EMAIL", "u" + std::to_string(id) + "@x.org"},
                        {"UF_DEPARTMENT", json::array{1}}};
  }

  // Run one command; the params go through the wire encoding and back.
  void run(const command& c, json::object& results, json::object& errors, json::object& totals) {
    if (between) between(executed);
    ++executed;
    if (fail_once.erase(c.id)) {
      errors[c.id] = json::object{{"error", "OPERATION_TIME_LIMIT"}, {"error_description", "blocked"}};
      return;
    }
    json::object p = parse_php_query(encode_php_query(c.params));
    REQUIRE(p.at("SORT").as_string() == "ID");
    REQUIRE(p.at("ORDER").as_string() == "ASC");
    REQUIRE(p.at("ADMIN_MODE").as_string() == "Y");
    const std::int64_t start = std::stoll(std::string(p.at("start").as_string()));
    std::int64_t above = 0, below = INT64_MAX;
    if (auto* f = p.if_contains("FILTER")) {
      if (auto* a = f->as_object().if_contains(">ID")) above = std::stoll(std::string(a->as_string()));
      if (auto* b = f->as_object().if_contains("<ID")) below = std::stoll(std::string(b->as_string()));
    }
    if (between || sorted.size() != ids.size())
      sorted.assign(ids.begin(), ids.end());  // offsets index ID order
    auto lo = std::upper_bound(sorted.begin(), sorted.end(), above);
    auto hi = std::lower_bound(lo, sorted.end(), below);
    const auto count = static_cast<std::size_t>(hi - lo);
    const std::size_t from = start < 0 ? 0 : static_cast<std::size_t>(start);
    json::array page;
    for (std::size_t i = from; i < count && i < from + 50; ++i) {
      page.push_back(row(lo[static_cast<std::ptrdiff_t>(i)]));
      if (start >= 0) by_offset.insert(lo[static_cast<std::ptrdiff_t>(i)]);
    }
    if (shuffle && page.size() > 1) std::swap(page[0], page[1]);
    if (start >= 0 && !page.empty()) totals[c.id] = count;  // empty page: no total
    if (start < 0) totals[c.id] = 0;
    results[c.id] = std::move(page);
  }

  std::vector<command_outcome> batch(const std::vector<command>& cmds) {
    json::object results, errors, totals;
    for (const auto& c : cmds) run(c, results, errors, totals);
    json::object answer;
    answer["result"] = results.empty() ? json::value(json::array{}) : json::value(std::move(results));
    answer["result_error"] = errors.empty() ? json::value(json::array{}) : json::value(std::move(errors));
    answer["result_total"] = std::move(totals);
    return parse_batch_result(cmds, answer);
  }
};

struct outcome {
  std::vector<portal_user> users;
  snapshot_stats stats;
  std::error_code ec;
};

outcome drive(fake_portal& portal, snapshot_config cfg = {}) {
  user_snapshot_planner planner(cfg);
  outcome r;
  for (auto cmds = planner.next_request(); !cmds.empty(); cmds = planner.next_request()) {
    REQUIRE(cmds.size() <= 50);
    CHECK_NOTHROW(build_batch_body(cmds));
    for (const auto& c : cmds) CHECK(encode_command(c).find('$') == std::string::npos);  // no references
    if ((r.ec = planner.on_outcomes(portal.batch(cmds)))) break;
  }
  r.stats = planner.stats();
  if (!r.ec) {
    CHECK(planner.done());
    r.users = planner.take_users();
  }
  return r;
}

std::set<std::int64_t> ids_of(const std::vector<portal_user>& users) {
  std::set<std::int64_t> out;
  for (const auto& u : users) out.insert(static_cast<std::int64_t>(u.id));
  CHECK(out.size() == users.size());  // no duplicates in the result
  return out;
}

fake_portal portal_with(int n) {
  fake_portal p;
  for (int i = 0; i < n; ++i) p.ids.insert(1 + 3 * i + (i % 7 == 0 ? 1 : 0));  // IDs with holes
  return p;
}

}  // namespace

TEST_CASE("snapshot: sizes around page and batch boundaries - all users, few requests") {
  struct row {
    int users;
    std::size_t max_requests;
  };
  for (row r : {row{0, 1}, row{1, 1}, row{49, 1}, row{50, 2}, row{51, 2}, row{2500, 3}, row{2550, 3},
                row{10000, 6}}) {
    CAPTURE(r.users);
    auto portal = portal_with(r.users);
    auto out = drive(portal);
    REQUIRE_FALSE(out.ec);
    CHECK(ids_of(out.users) == portal.ids);
    CHECK(out.stats.requests <= r.max_requests);
    CHECK(out.stats.gap_queries == 0);
  }
}

TEST_CASE("snapshot: 100,000 users in at most 45 requests") {
  auto portal = portal_with(100000);
  auto out = drive(portal);
  REQUIRE_FALSE(out.ec);
  CHECK(out.users.size() == 100000);
  CHECK(out.stats.requests <= 45);
  CHECK(out.stats.first_total == 100000);
  MESSAGE("100k users: " << out.stats.requests << " requests, " << out.stats.commands << " page commands");
}

TEST_CASE("snapshot: users deleted while paging shift the offsets - gaps are found and filled") {
  auto portal = portal_with(3000);
  const auto before = portal.ids;
  std::set<std::int64_t> deleted;
  portal.between = [&](int n) {
    if (n % 7 == 3 && portal.ids.size() > 10) {  // delete three low IDs every few commands
      for (int k = 0; k < 3; ++k) {
        auto it = std::next(portal.ids.begin(), 5);
        deleted.insert(*it);
        portal.ids.erase(it);
      }
    }
  };
  auto out = drive(portal);
  REQUIRE_FALSE(out.ec);
  std::set<std::int64_t> survivors;
  for (auto id : before)
    if (!deleted.count(id)) survivors.insert(id);
  auto seen = ids_of(out.users);
  CHECK(std::includes(seen.begin(), seen.end(), survivors.begin(), survivors.end()));
  CHECK(out.stats.gap_queries > 0);
  // The shifts really hid users from the offset pages: only the ID-range queries found them.
  std::size_t only_by_range = 0;
  for (auto id : survivors) only_by_range += portal.by_offset.count(id) == 0 ? 1 : 0;
  CHECK(only_by_range > 0);
  MESSAGE("deleted " << deleted.size() << ", found only by ID-range queries: " << only_by_range << ", "
                     << out.stats.gap_queries << " gap queries, " << out.stats.requests << " requests");
}

TEST_CASE("snapshot: users added and re-shown while paging - nobody present throughout is missed") {
  auto portal = portal_with(2600);
  const auto before = portal.ids;
  std::int64_t next_id = 100000;
  portal.between = [&](int n) {
    portal.ids.insert(next_id++);                  // new hire: highest ID
    if (n % 5 == 0) portal.ids.insert(2 + 3 * n);  // a hidden low-ID user becomes visible
  };
  auto out = drive(portal);
  REQUIRE_FALSE(out.ec);
  auto seen = ids_of(out.users);
  CHECK(std::includes(seen.begin(), seen.end(), before.begin(), before.end()));
  CHECK(out.stats.duplicates > 0);
}

TEST_CASE("snapshot: per-command failures are resent; fatal ones stop the snapshot") {
  auto portal = portal_with(500);
  portal.fail_once = {"p0", "p98", "p196"};
  auto out = drive(portal);
  REQUIRE_FALSE(out.ec);
  CHECK(ids_of(out.users) == portal.ids);
  CHECK(out.stats.resent == 3);

  user_snapshot_planner planner;
  auto cmds = planner.next_request();
  command_outcome bad;
  bad.id = cmds[0].id;
  bad.error.error = "INVALID_CREDENTIALS";
  bad.error.http_status = 401;
  CHECK(planner.on_outcomes(std::span(&bad, 1)) == errc::auth_rejected);
  CHECK(planner.next_request().empty());
}

TEST_CASE("snapshot: pages out of ID order break the proof and are reported") {
  auto portal = portal_with(120);
  portal.shuffle = true;
  auto out = drive(portal);
  CHECK(out.ec == errc::snapshot_inconsistent);
}

TEST_CASE("snapshot: first command asks for everyone, ID-ordered, in admin mode") {
  user_snapshot_planner planner;
  auto cmds = planner.next_request();
  REQUIRE(cmds.size() == 1);
  CHECK(encode_command(cmds[0]) == "user.get?SORT=ID&ORDER=ASC&ADMIN_MODE=Y&start=0");
  CHECK(planner.next_request().empty());  // nothing new until the answer is in
  CHECK_FALSE(planner.done());
}

TEST_CASE("snapshot: departments page by total, never trusting next") {
  department_snapshot_planner planner;
  int requests = 0;
  for (auto cmds = planner.next_request(); !cmds.empty(); cmds = planner.next_request()) {
    ++requests;
    json::object results, totals;
    for (const auto& c : cmds) {
      const auto start = c.params.at("start").as_int64();
      CHECK(c.params.at("sort").as_string() == "ID");
      json::array page;
      for (std::int64_t i = start; i < start + 50 && i < 120; ++i) {
        json::object d{{"ID", std::to_string(i + 1)}, {"NAME", "D" + std::to_string(i + 1)}, {"SORT", 500}};
        if (i > 0) d["PARENT"] = "1";
        page.push_back(std::move(d));
      }
      totals[c.id] = 120;
      results[c.id] = std::move(page);
    }
    json::object answer{
        {"result", std::move(results)}, {"result_error", json::array{}}, {"result_total", totals}};
    REQUIRE_FALSE(planner.on_outcomes(parse_batch_result(cmds, answer)));
  }
  CHECK(requests == 2);
  CHECK(planner.done());
  auto deps = planner.take_departments();
  REQUIRE(deps.size() == 120);
  CHECK_FALSE(deps.front().parent);
  CHECK(deps.back().parent == department_id{1});
}

TEST_CASE("snapshot: two requests outstanding, answers out of order - still exact and within budget") {
  for (int users : {0, 49, 50, 3000, 10000}) {
    CAPTURE(users);
    auto portal = portal_with(users);
    if (users == 3000) portal.fail_once = {"p98", "p2450"};  // resent, possibly while another is out
    snapshot_config cfg;
    cfg.max_outstanding = 2;
    cfg.batch_size = 7;
    user_snapshot_planner planner(cfg);
    auto first = planner.next_request();
    REQUIRE(first.size() == 1);
    CHECK(planner.next_request().empty());  // page 0 alone: `total` is not known yet
    CHECK(planner.outstanding() == 1);
    REQUIRE_FALSE(planner.on_outcomes(portal.batch(first)));
    std::size_t max_seen = 0;
    bool swapped = false;
    for (int guard = 0; !planner.done() && guard < 10000; ++guard) {
      std::vector<std::vector<command>> out;
      for (auto cmds = planner.next_request(); !cmds.empty(); cmds = planner.next_request()) {
        out.push_back(std::move(cmds));
        CHECK(planner.outstanding() <= 2);
      }
      max_seen = std::max(max_seen, out.size());
      if (out.empty()) break;
      std::vector<std::vector<command_outcome>> answers;
      for (const auto& cmds : out) answers.push_back(portal.batch(cmds));
      std::reverse(answers.begin(), answers.end());  // the later request is answered first
      swapped = swapped || answers.size() > 1;
      for (const auto& a : answers) REQUIRE_FALSE(planner.on_outcomes(a));
      CHECK(planner.outstanding() == 0);
    }
    REQUIRE(planner.done());
    CHECK(ids_of(planner.take_users()) == portal.ids);
    const auto& st = planner.stats();
    CHECK(st.gap_queries == 0);
    if (users >= 3000) {
      CHECK(max_seen == 2);
      CHECK(swapped);
    }
    // Same page plan as one at a time: ceil(pages / batch) + page 0 (+ resends).
    const std::size_t pages = users <= 49 ? 0 : static_cast<std::size_t>((users - 49 + 48) / 49);
    CHECK(st.commands == 1 + pages + st.resent);
  }
}

TEST_CASE("snapshot: out-of-order answers with users deleted meanwhile - gaps still closed, nobody missed") {
  auto portal = portal_with(3000);
  const std::set<std::int64_t> before = portal.ids;
  std::set<std::int64_t> removed;
  portal.between = [&](int n) {
    if (n % 5 == 3 && portal.ids.size() > 100) {  // delete an early user: later offsets shift
      auto it = std::next(portal.ids.begin(), 20 + n % 30);
      removed.insert(*it);
      portal.ids.erase(it);
    }
  };
  snapshot_config cfg;
  cfg.max_outstanding = 2;
  cfg.batch_size = 10;
  user_snapshot_planner planner(cfg);
  for (int guard = 0; !planner.done() && guard < 1000; ++guard) {
    std::vector<std::vector<command>> out;
    for (auto cmds = planner.next_request(); !cmds.empty(); cmds = planner.next_request()) out.push_back(std::move(cmds));
    if (out.empty()) break;
    std::vector<std::vector<command_outcome>> answers;
    for (const auto& cmds : out) answers.push_back(portal.batch(cmds));
    for (auto it = answers.rbegin(); it != answers.rend(); ++it) REQUIRE_FALSE(planner.on_outcomes(*it));
  }
  REQUIRE(planner.done());
  const auto got = ids_of(planner.take_users());
  for (auto id : before)
    if (!removed.count(id)) CHECK(got.count(id) == 1);  // present throughout: seen
  CHECK(planner.stats().gap_queries > 0);
}

TEST_CASE("snapshot: a request answered without some commands - only its own are resent") {
  auto portal = portal_with(500);
  snapshot_config cfg;
  cfg.max_outstanding = 2;
  cfg.batch_size = 3;
  user_snapshot_planner planner(cfg);
  REQUIRE_FALSE(planner.on_outcomes(portal.batch(planner.next_request())));
  auto a = planner.next_request();
  auto b = planner.next_request();
  REQUIRE(a.size() == 3);
  REQUIRE(b.size() == 3);
  CHECK(planner.next_request().empty());
  auto bout = portal.batch(b);
  bout.pop_back();  // the last command of b got no outcome
  REQUIRE_FALSE(planner.on_outcomes(bout));
  CHECK(planner.outstanding() == 1);
  CHECK(planner.stats().resent == 1);
  auto c = planner.next_request();  // a is still out: one more may go, led by the resent command
  REQUIRE_FALSE(c.empty());
  CHECK(c.front().id == b.back().id);
  REQUIRE_FALSE(planner.on_outcomes(portal.batch(a)));
  REQUIRE_FALSE(planner.on_outcomes(portal.batch(c)));
  for (auto cmds = planner.next_request(); !cmds.empty(); cmds = planner.next_request())
    REQUIRE_FALSE(planner.on_outcomes(portal.batch(cmds)));
  REQUIRE(planner.done());
  CHECK(ids_of(planner.take_users()) == portal.ids);
}
