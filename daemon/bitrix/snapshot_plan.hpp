// Pure paging planners for the user.get and department.get snapshots (sans-io state machines).
#pragma once

#include "bitrix/batch_codec.hpp"
#include "bitrix/user_fields.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

namespace b24sync::bitrix {

struct snapshot_config {
  std::size_t batch_size = max_batch_commands;  ///< page commands per HTTP request
  std::size_t page_size = 50;                   ///< the portal's fixed LIST_LIMIT
  bool admin_mode = true;                       ///< ADMIN_MODE=Y (trap 3: else users are hidden)
  std::size_t max_requests = 10000;             ///< give up (errc::snapshot_inconsistent) beyond this
  /// user.get requests outstanding at once once `total` is known (offset pages are independent);
  /// 0: the driver's choice (async_fetch_snapshot: the client's max_in_flight), 1 for the planner.
  std::size_t max_outstanding = 0;
};

struct snapshot_stats {
  std::size_t requests = 0;                 ///< next_request() calls that returned commands
  std::size_t commands = 0;                 ///< page commands issued (including resends)
  std::size_t resent = 0;                   ///< commands resent after a per-command failure
  std::size_t gap_queries = 0;              ///< ID-range queries issued to close coverage gaps
  std::size_t duplicates = 0;               ///< rows seen more than once
  std::optional<std::int64_t> first_total;  ///< `total` of the first page
};

/** Plans the user.get snapshot (all users, dismissed ones included) in the fewest requests, and
    proves it complete.

    Drive it: `while (auto cmds = p.next_request(); !cmds.empty()) { send as one batch; ec =
    p.on_outcomes(outcomes); }` then take_users(). Pure; the caller does I/O, retries, pacing.
    With max_outstanding > 1, once page 0 (and `total`) is in, next_request() may be called again
    before the outcomes of earlier requests are in: up to max_outstanding requests are outstanding,
    and their outcomes may be handed back in any order (each on_outcomes() call carries the
    outcomes of one request). An empty next_request() then means "wait for outcomes" unless done().
    The request that would empty the plan (it holds the tail page) and gap queries go out only when
    no other request is outstanding, so the tail is read last, as when paging one at a time.

    1. One command: user.get start=0, SORT=ID ORDER=ASC, ADMIN_MODE=Y -> page 0 and `total`.
    2. Offset pages with ONE ROW OF OVERLAP (start = 49, 98, ...; 49 new rows each) until the
       last page's window reaches past `total`; up to batch_size pages per request. No `$result`
       references and no `>ID` chaining (trap 6).
    3. Coverage proof: a page of rows ordered by ID covers the ID interval [first row, last row],
       or [first row, +inf) when it came back short (it reached the end of the list), and page 0
       covers from ID 1. Overlapping pages give touching intervals; a user present throughout the
       snapshot lies in some interval, so it was seen. Any hole (rows deleted or hidden between
       reads shifted the offsets) is closed with ID-range queries `FILTER[>ID]=a&FILTER[<ID]=b`
       start=-1 (or `>ID` alone for the tail, i.e. users added while paging), repeated until the
       intervals cover [1, +inf).
    4. Rows are merged by ID (a later read wins). A command that failed retryably (or with an
       expired token) or got no outcome is resent as it was, in the next request.
    on_outcomes() returns {} normally; errc::snapshot_inconsistent if a page's rows are not in
    ascending ID order or more than max_requests were needed; errc::malformed_envelope for a row
    without an ID or a result that is not a list; or the command's own error (to_error_code) when
    it is not retryable (auth_fatal, permanent). Any error ends the plan (done() is true). */
class user_snapshot_planner {
 public:
  explicit user_snapshot_planner(const snapshot_config& cfg = {});

  /// Commands for the next batch request; empty when done (or failed).
  std::vector<command> next_request();
  /// Outcomes of the commands of one outstanding request (identified by the command ids; the oldest
  /// when none matches), in any order.
  std::error_code on_outcomes(std::span<const command_outcome> outcomes);
  /// The same, moving the rows of streamed pages (command_outcome::users) out instead of copying them.
  std::error_code consume_outcomes(std::span<command_outcome> outcomes);

  bool done() const noexcept { return done_; }
  /// Requests returned by next_request() whose outcomes are not in yet.
  std::size_t outstanding() const noexcept { return outstanding_; }
  const snapshot_stats& stats() const noexcept { return stats_; }
  /// All users seen, ascending by ID. Valid once done().
  std::vector<portal_user> take_users();

 private:
  struct interval {
    std::int64_t from;
    std::int64_t to;
  };                                    ///< inclusive; to = INT64_MAX: open
  struct page_meta {                    ///< what a command asked for
    bool range = false;                 ///< ID-range query (else offset page)
    std::int64_t start_or_above = 0;    ///< offset, or the `>ID` bound
    std::optional<std::int64_t> below;  ///< the `<ID` bound, if any
  };
  void plan_pages(std::int64_t total);
  void plan_gaps();
  void queue_page(std::int64_t start);
  void queue_range(std::int64_t above, std::optional<std::int64_t> below);
  template <class Outcome>
  std::error_code handle_outcomes(std::span<Outcome> outcomes);
  /// `movable`: o.users' rows may be moved from (o is the caller's to consume).
  std::error_code take_rows(const page_meta& meta, const command_outcome& o, bool movable);
  void keep_user(portal_user&& u);
  boost::json::object base_params() const;

  snapshot_config cfg_;
  bool first_sent_ = false, first_done_ = false, done_ = false;
  std::vector<command> pending_;
  std::vector<command> in_flight_;
  std::vector<std::uint64_t> in_flight_request_;  ///< the request each in_flight_ command went in
  std::uint64_t next_request_no_ = 0;
  std::size_t outstanding_ = 0;
  std::vector<interval> covered_;
  std::map<std::string, page_meta, std::less<>> meta_;
  /// Rows in arrival order. Pages mostly arrive in ID order, each overlapping the previous by one
  /// row, so this usually stays sorted and unique and take_users() hands it over as is (a map of
  /// 100,000 users cost more to drain into a vector than to fill). Rows that arrive out of order
  /// (gap queries, answers overtaking each other) are appended and sorted out in take_users().
  std::vector<portal_user> users_;
  bool users_sorted_ = true;  ///< users_ is ascending by ID without duplicates
  snapshot_stats stats_;
};

/** Plans department.get: start=0 (learns total), then pages start=50, 100, ... < total in batches
    (never trusting `next` alone, trap 7: an out-of-range start returns page 1 again). Sorted by ID.
    Same driving protocol as user_snapshot_planner. */
class department_snapshot_planner {
 public:
  explicit department_snapshot_planner(const snapshot_config& cfg = {});
  std::vector<command> next_request();
  std::error_code on_outcomes(std::span<const command_outcome> outcomes);
  bool done() const noexcept { return done_; }
  const snapshot_stats& stats() const noexcept { return stats_; }
  /// All departments, ascending by ID. Valid once done().
  std::vector<portal_department> take_departments();

 private:
  command page_command(std::int64_t start) const;

  snapshot_config cfg_;
  bool first_sent_ = false, first_done_ = false, done_ = false;
  std::vector<command> pending_;
  std::vector<command> in_flight_;
  std::map<std::int64_t, portal_department> departments_;
  snapshot_stats stats_;
};

}  // namespace b24sync::bitrix
