// sync/executor.cpp: async_execute and async_reconcile — a plan's writes as journalled chunks of paced
// batch rounds; an unknown outcome is settled by reading the portal before anything is sent again.
#include "sync/executor.hpp"

#include "bitrix/client.hpp"
#include "bitrix/user_fields.hpp"
#include "state/store.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/logger.h>

#include <algorithm>
#include <charconv>
#include <ctime>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <utility>
#include <variant>
#include <vector>

namespace b24sync::sync {

namespace {

namespace json = boost::json;
namespace bx = bitrix;
namespace net = boost::asio;
using steady = std::chrono::steady_clock;

// Journal op names (state::journal_entry::op). Kept here rather than borrowed from the plan's
// to_string(op_kind): the journal is read back by async_reconcile, so the spelling belongs to us.
constexpr std::string_view journal_create = "create";
constexpr std::string_view journal_department = "department";

std::string_view journal_op_name(op_kind k) noexcept {
  switch (k) {
    case op_kind::create: return journal_create;
    case op_kind::update: return "update";
    case op_kind::reactivate: return "reactivate";
    case op_kind::deactivate: return "deactivate";
    case op_kind::unchanged: return "unchanged";
    case op_kind::skip: return "skip";
  }
  return "unknown";
}

std::string utc_now_iso() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf, n);
}

std::shared_ptr<spdlog::logger> or_silent(std::shared_ptr<spdlog::logger> log) {
  if (log) return log;
  return std::make_shared<spdlog::logger>("sync-executor");  // no sinks: says nothing
}

json::value to_json(const wire_value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return json::string(*s);
  json::array a;
  for (const auto& x : std::get<std::vector<std::string>>(v)) a.emplace_back(json::string(x));
  return a;
}

std::optional<std::int64_t> parse_id(std::string_view s) {
  std::int64_t v = 0;
  const auto* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, v);
  if (ec != std::errc() || ptr != end || v <= 0) return std::nullopt;
  return v;
}

// A portal ID as the portal writes it: an int (user.add, department.add) or a decimal string (user.get).
std::optional<std::int64_t> as_id(const json::value& v) {
  if (v.is_int64()) return v.get_int64() > 0 ? std::optional<std::int64_t>(v.get_int64()) : std::nullopt;
  if (v.is_uint64()) return static_cast<std::int64_t>(v.get_uint64());
  if (v.is_string()) return parse_id(v.get_string());
  return std::nullopt;
}

// An index such as the <i> of "$dept:<i>" (0 allowed).
std::optional<std::size_t> parse_index(std::string_view s) {
  std::size_t v = 0;
  const auto* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, v);
  if (ec != std::errc() || ptr != end || s.empty()) return std::nullopt;
  return v;
}

std::optional<std::int64_t> id_field(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v ? as_id(*v) : std::nullopt;
}

std::string field_text(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// What went wrong in words: the portal's text, or the transport's when the portal said nothing.
std::string describe(const bx::diagnostics& d) {
  if (!d.description.empty()) return d.description;
  if (!d.detail.empty()) return d.detail;
  return std::string(bx::to_string(bx::classify(d)));
}

// ---------------------------------------------------------------------------------------------------
// Looking at the portal to settle an unknown outcome (shared by execute and reconcile).

struct user_query {
  std::string key;    ///< HR key, looked up in the identity field
  std::string email;  ///< fallback
};
struct dept_query {
  std::string name;
  std::optional<std::int64_t> parent;
};
struct lookup_answer {
  std::optional<std::int64_t> id;  ///< found
  bool failed = false;             ///< the look-up itself failed: nothing is known
  std::string error;
};

bx::command user_lookup(std::string_view filter_key, const std::string& value) {
  json::object filter;
  filter[filter_key] = value;
  json::object params;
  params[bx::param::filter] = std::move(filter);
  // Users without a department are listed only in admin mode; a half-created one must not hide.
  params[bx::param::admin_mode] = bx::yes_no(true);
  return {"", std::string(bx::method::user_get), std::move(params)};
}

/// One look-up pass: for each query `wanted` selects (and `filter_for` builds the user.get filter of),
/// sends them in one batch and keeps, per query, the highest user ID that `accept` takes.
net::awaitable<void> async_lookup_pass(bx::client& c, std::vector<lookup_answer>& ans, std::uint64_t& lookups,
                                       const std::function<std::optional<bx::command>(std::size_t)>& filter_for,
                                       const std::function<bool(std::size_t, const json::object&)>& accept) {
  std::vector<std::size_t> at;
  std::vector<bx::command> cmds;
  for (std::size_t i = 0; i < ans.size(); ++i) {
    if (ans[i].id || ans[i].failed) continue;
    if (auto cmd = filter_for(i)) {
      at.push_back(i);
      cmds.push_back(std::move(*cmd));
    }
  }
  if (cmds.empty()) co_return;
  lookups += cmds.size();
  auto outs = co_await c.async_batch(std::move(cmds));
  for (std::size_t k = 0; k < at.size(); ++k) {
    auto& a = ans[at[k]];
    const auto& o = outs[k];
    if (!o.ok) {
      a.failed = true;
      a.error = o.error.error.empty() ? describe(o.error) : o.error.error + ": " + describe(o.error);
      continue;
    }
    if (!o.result.is_array()) continue;
    for (const auto& u : o.result.get_array()) {
      if (!u.is_object() || !accept(at[k], u.get_object())) continue;
      if (auto id = id_field(u.get_object(), bx::field::id)) a.id = std::max(a.id.value_or(0), *id);
    }
  }
}

/// Finds each query's user by `identity_field` = key, then by e-mail. An e-mail match counts only when
/// the user's identity field is empty or holds the same key: someone else's account with that address
/// is not the user we created (resending then fails with the portal's duplicate-e-mail error, truthfully).
net::awaitable<std::vector<lookup_answer>> async_find_users(bx::client& c, const std::string& identity_field,
                                                            const std::vector<user_query>& qs, std::uint64_t& lookups) {
  std::vector<lookup_answer> ans(qs.size());
  if (!identity_field.empty())
    co_await async_lookup_pass(
        c, ans, lookups,
        [&](std::size_t i) -> std::optional<bx::command> {
          if (qs[i].key.empty()) return std::nullopt;
          return user_lookup("=" + identity_field, qs[i].key);
        },
        [](std::size_t, const json::object&) { return true; });
  co_await async_lookup_pass(
      c, ans, lookups,
      [&](std::size_t i) -> std::optional<bx::command> {
        if (qs[i].email.empty()) return std::nullopt;
        return user_lookup("=" + std::string(bx::field::email), qs[i].email);
      },
      [&](std::size_t i, const json::object& obj) {
        const std::string theirs = identity_field.empty() ? std::string() : field_text(obj, identity_field);
        return theirs.empty() || theirs == qs[i].key;
      });
  co_return ans;
}

/// Finds departments by NAME under PARENT. The plan creates only departments the portal lacked, so a
/// match that appeared since is the one an unanswered department.add made (the newest, if several).
net::awaitable<std::vector<lookup_answer>> async_find_departments(bx::client& c, const std::vector<dept_query>& qs,
                                                                  std::uint64_t& lookups) {
  std::vector<lookup_answer> ans(qs.size());
  if (qs.empty()) co_return ans;
  std::vector<bx::command> cmds;
  for (const auto& q : qs) {
    json::object params;
    params[bx::dept_field::name] = q.name;
    if (q.parent) params[bx::dept_field::parent] = *q.parent;
    cmds.push_back({"", std::string(bx::method::department_get), std::move(params)});
  }
  lookups += cmds.size();
  auto outs = co_await c.async_batch(std::move(cmds));
  for (std::size_t k = 0; k < qs.size(); ++k) {
    const auto& o = outs[k];
    if (!o.ok) {
      ans[k].failed = true;
      ans[k].error = o.error.error.empty() ? describe(o.error) : o.error.error + ": " + describe(o.error);
      continue;
    }
    if (!o.result.is_array()) continue;
    for (const auto& d : o.result.get_array()) {
      if (!d.is_object()) continue;
      const auto& obj = d.get_object();
      // The portal's filter is exact, but check anyway: a filter key it ignored would list everything.
      if (field_text(obj, bx::dept_field::name) != qs[k].name) continue;
      const auto parent = id_field(obj, bx::dept_field::parent);
      if (parent != qs[k].parent) continue;
      if (auto id = id_field(obj, bx::dept_field::id)) {
        ans[k].id = std::max(ans[k].id.value_or(0), *id);
      }
    }
  }
  co_return ans;
}

// ---------------------------------------------------------------------------------------------------
// The executor proper.

/// How an operation whose outcome is unknown is settled.
enum class resolve_by {
  resend,      ///< idempotent (user.update): send it again
  user,        ///< user.add: look the user up by HR key / e-mail first
  department,  ///< department.add: look it up by NAME + PARENT first
};

/// One write on its way: the command, how to settle an unknown outcome, where its outcome goes.
struct work {
  op_outcome* out = nullptr;
  std::string method;
  json::object params;
  resolve_by how = resolve_by::resend;
  std::string journal_op;
  std::string key;  ///< HR key, or the department's path
  std::string email;
  std::optional<std::int64_t> user_id;  ///< target of an update
  std::string dept_name;
  std::optional<std::int64_t> dept_parent;
  std::int64_t journal_id = 0;
  bool last_unknown = false;  ///< the last answer was "outcome unknown"
  bool unresolved = false;    ///< unknown, and the look-up failed too: the journal keeps it ambiguous
};

struct phase_progress {
  std::string_view phase;
  std::size_t done = 0;
  std::size_t total = 0;
  steady::time_point started = steady::now();
};

class executor {
 public:
  executor(bx::client& c, const plan& p, state::store* journal, executor_config cfg,
           std::shared_ptr<spdlog::logger> log)
      : c_(c), p_(p), journal_(journal), cfg_(std::move(cfg)), log_(or_silent(std::move(log))), start_(c.stats()) {
    res_.departments.resize(p_.departments.size());
    res_.users.resize(p_.users.size());
  }

  net::awaitable<run_result> run() {
    const auto t0 = steady::now();
    log_->info("sync: executing {} write(s): {} department(s), {} create(s), {} update(s), {} reactivation(s), {} "
               "deactivation(s)",
               count_writes(), p_.departments.size(), count(op_kind::create), count(op_kind::update),
               count(op_kind::reactivate), count(op_kind::deactivate));
    co_await departments_phase();
    static constexpr op_kind phases[] = {op_kind::create, op_kind::update, op_kind::reactivate, op_kind::deactivate};
    for (const op_kind k : phases) {
      if (halted()) break;
      co_await users_phase(k);
    }
    const auto& s = c_.stats();
    res_.stats.http_requests = s.http_requests - start_.http_requests;
    res_.stats.http_503 = s.http_503 - start_.http_503;
    res_.stats.http_429 = s.http_429 - start_.http_429;
    res_.stats.retries = (s.retries - start_.retries) + (s.commands_requeued - start_.commands_requeued) + resends_;
    res_.stats.ambiguous = ambiguous_;
    res_.stats.lookups = lookups_;
    res_.stats.seconds = std::chrono::duration<double>(steady::now() - t0).count();
    log_->info("sync: {} applied, {} failed{}{}; {} HTTP request(s), {} × 503, {} unknown outcome(s) settled by {} "
               "look-up(s), {:.1f} s",
               res_.applied(), res_.failed(), res_.interrupted ? ", interrupted" : "",
               res_.fatal_error.empty() ? "" : ", stopped: " + res_.fatal_error, res_.stats.http_requests,
               res_.stats.http_503, res_.stats.ambiguous, res_.stats.lookups, res_.stats.seconds);
    co_return std::move(res_);
  }

 private:
  [[nodiscard]] bool halted() const noexcept { return res_.interrupted || !res_.fatal_error.empty(); }

  [[nodiscard]] std::size_t count(op_kind k) const noexcept {
    return static_cast<std::size_t>(
        std::count_if(p_.users.begin(), p_.users.end(), [k](const user_op& u) { return u.kind == k; }));
  }
  [[nodiscard]] std::size_t count_writes() const noexcept {
    return p_.departments.size() + count(op_kind::create) + count(op_kind::update) + count(op_kind::reactivate) +
           count(op_kind::deactivate);
  }

  [[nodiscard]] std::size_t chunk_size() const noexcept {
    if (cfg_.chunk_commands > 0) return cfg_.chunk_commands;
    const auto& cc = c_.config();
    return std::max<std::size_t>(1, std::clamp<std::size_t>(cc.batch_size, 1, bx::max_batch_commands) *
                                        std::max<std::size_t>(1, cc.max_in_flight));
  }

  std::string now() const { return cfg_.now_iso ? cfg_.now_iso() : utc_now_iso(); }

  static void fail(op_outcome& o, std::string error, std::string description) {
    o.status = op_status::failed;
    o.error = std::move(error);
    o.error_description = std::move(description);
  }

  void report(const phase_progress& pr) const {
    if (!cfg_.on_progress) return;
    progress pg;
    pg.phase = pr.phase;
    pg.done = pr.done;
    pg.total = pr.total;
    pg.http_503 = c_.stats().http_503 - start_.http_503;
    pg.elapsed = steady::now() - pr.started;
    cfg_.on_progress(pg);
  }

  // --- departments: one tree level per round, a parent created here substituted by its new ID.
  net::awaitable<void> departments_phase() {
    const std::size_t n = p_.departments.size();
    if (n == 0) co_return;
    phase_progress pr{"departments", 0, n, steady::now()};
    std::vector<bool> taken(n, false);
    while (!halted()) {
      std::vector<work> level;
      bool progressed = false;  // a child failed for its parent's sake also unblocks its own children
      for (std::size_t i = 0; i < n; ++i) {
        if (taken[i]) continue;
        const auto& d = p_.departments[i];
        std::optional<std::int64_t> parent = d.parent_id;
        if (d.parent_op) {
          const std::size_t po = *d.parent_op;
          if (po >= n || po == i) {
            fail(res_.departments[i], "", "invalid plan: parent department operation " + std::to_string(po));
            taken[i] = true;
            progressed = true;
            ++pr.done;
            continue;
          }
          if (!taken[po]) continue;  // a later level
          const auto& parent_out = res_.departments[po];
          const bool created = parent_out.status == op_status::done || parent_out.status == op_status::recovered;
          if (!created || !parent_out.user_id) {
            if (parent_out.status == op_status::not_run) continue;  // only when halted: left not_run
            fail(res_.departments[i], "", "parent department not created: " + p_.departments[po].path);
            taken[i] = true;
            progressed = true;
            ++pr.done;
            continue;
          }
          parent = parent_out.user_id;
        }
        taken[i] = true;
        work w;
        w.out = &res_.departments[i];
        w.method = bx::method::department_add;
        w.params[bx::dept_field::name] = d.name;
        if (parent) w.params[bx::dept_field::parent] = *parent;
        w.how = resolve_by::department;
        w.journal_op = journal_department;
        w.key = d.path;
        w.dept_name = d.name;
        w.dept_parent = parent;
        level.push_back(std::move(w));
      }
      if (level.empty()) {
        if (progressed) continue;
        break;
      }
      co_await run_chunked(level, pr);
    }
    if (halted()) co_return;
    for (std::size_t i = 0; i < n; ++i) {
      if (!taken[i]) fail(res_.departments[i], "", "invalid plan: department parents form a cycle");
    }
  }

  // The department ID a create's UF_DEPARTMENT placeholder or needs_departments entry stands for.
  std::optional<std::int64_t> created_department(std::size_t i) const {
    if (i >= res_.departments.size()) return std::nullopt;
    const auto& o = res_.departments[i];
    if (o.status != op_status::done && o.status != op_status::recovered) return std::nullopt;
    return o.user_id;
  }

  // UF_DEPARTMENT with "$dept:<i>" replaced; an empty optional names the department that is missing.
  std::optional<json::value> departments_value(const wire_value& v, std::string& missing) const {
    std::vector<std::string> in;
    const bool scalar = std::holds_alternative<std::string>(v);
    if (scalar) {
      in.push_back(std::get<std::string>(v));
    } else {
      in = std::get<std::vector<std::string>>(v);
    }
    json::array out;
    for (const auto& s : in) {
      if (!s.starts_with(department_placeholder_prefix)) {
        out.emplace_back(json::string(s));
        continue;
      }
      const auto idx = parse_index(std::string_view(s).substr(department_placeholder_prefix.size()));
      const auto id = idx ? created_department(*idx) : std::nullopt;
      if (!id) {
        missing = idx && *idx < p_.departments.size() ? p_.departments[*idx].path : s;
        return std::nullopt;
      }
      out.emplace_back(std::to_string(*id));
    }
    if (scalar) return json::value(out.at(0));
    return json::value(std::move(out));
  }

  // --- users: one phase per kind, in plan order.
  net::awaitable<void> users_phase(op_kind kind) {
    std::vector<work> items;
    phase_progress pr{journal_op_name(kind), 0, count(kind), steady::now()};
    if (pr.total == 0) co_return;
    const std::string uf_department(bx::field::uf_department);
    const std::string active(bx::field::active);
    for (std::size_t i = 0; i < p_.users.size(); ++i) {
      const auto& u = p_.users[i];
      if (u.kind != kind) continue;
      auto& out = res_.users[i];
      work w;
      w.out = &out;
      w.journal_op = journal_op_name(kind);
      w.key = u.key;
      w.email = u.email;
      w.user_id = u.user_id;
      if (kind == op_kind::create) {
        w.method = bx::method::user_add;
        w.how = resolve_by::user;
        std::string missing;
        for (std::size_t d : u.needs_departments) {
          if (!created_department(d)) {
            missing = d < p_.departments.size() ? p_.departments[d].path : "#" + std::to_string(d);
            break;
          }
        }
        for (const auto& ch : u.changes) {
          if (!missing.empty()) break;
          if (ch.field == uf_department) {
            auto v = departments_value(ch.value, missing);
            if (v) w.params[ch.field] = std::move(*v);
          } else {
            w.params[ch.field] = to_json(ch.value);
          }
        }
        if (!missing.empty()) {
          fail(out, "", "department not created: " + missing);
          ++pr.done;
          continue;
        }
        // The HR key travels with the new user, so an unanswered add can be recognised later.
        if (!cfg_.identity_field.empty() && !u.key.empty() && !w.params.contains(cfg_.identity_field)) {
          w.params[cfg_.identity_field] = u.key;
        }
      } else {
        w.method = bx::method::user_update;
        if (!u.user_id) {
          fail(out, "", "invalid plan: no portal user ID to update");
          ++pr.done;
          continue;
        }
        w.params[bx::field::id] = *u.user_id;
        for (const auto& ch : u.changes) w.params[ch.field] = to_json(ch.value);
        if (kind == op_kind::reactivate) w.params[active] = bx::yes_no(true);
        if (kind == op_kind::deactivate) w.params[active] = bx::yes_no(false);
      }
      items.push_back(std::move(w));
    }
    co_await run_chunked(items, pr);
  }

  // --- chunks: intents, send rounds, outcomes, identities, progress; stop checked before each.
  net::awaitable<void> run_chunked(std::vector<work>& items, phase_progress& pr) {
    const std::size_t chunk = chunk_size();
    for (std::size_t at = 0; at < items.size(); at += chunk) {
      if (halted()) co_return;
      if (cfg_.stop_requested && cfg_.stop_requested()) {
        res_.interrupted = true;
        log_->warn("sync: stop requested: {} {} operation(s) and later phases not sent", items.size() - at, pr.phase);
        co_return;
      }
      std::span<work> part(items.data() + at, std::min(chunk, items.size() - at));
      write_intents(part);
      std::vector<work*> ptrs;
      ptrs.reserve(part.size());
      for (auto& w : part) ptrs.push_back(&w);
      co_await send_rounds(std::move(ptrs));
      write_outcomes(part);
      pr.done += part.size();
      report(pr);
    }
  }

  void write_intents(std::span<work> part) {
    if (!journal_) return;
    std::vector<state::journal_entry> es;
    es.reserve(part.size());
    const std::string at = now();
    for (const auto& w : part) {
      state::journal_entry e;
      e.run_id = cfg_.run_id;
      e.op = w.journal_op;
      e.key = w.key;
      e.user_id = w.user_id;
      e.email = w.email;
      e.payload = json::serialize(w.params);  // user fields only: MESSAGE_TEXT is added when sending
      e.state = state::journal_state::intent;
      e.updated_at = at;
      es.push_back(std::move(e));
    }
    auto ids = journal_->journal_intents(es);
    for (std::size_t k = 0; k < part.size() && k < ids.size(); ++k) part[k].journal_id = ids[k];
  }

  void write_outcomes(std::span<work> part) {
    if (!journal_) return;
    std::vector<state::store::journal_result> rs;
    std::vector<state::identity> ids;
    rs.reserve(part.size());
    for (const auto& w : part) {
      state::store::journal_result r;
      r.id = w.journal_id;
      r.attempts = w.out->attempts;
      r.user_id = w.how == resolve_by::resend ? w.user_id : w.out->user_id;
      switch (w.out->status) {
        case op_status::done: r.state = state::journal_state::done; break;
        case op_status::recovered: r.state = state::journal_state::resolved; break;
        case op_status::failed: r.state = w.unresolved ? state::journal_state::ambiguous : state::journal_state::failed; break;
        case op_status::not_run:
          r.state = state::journal_state::resolved;
          r.error = "not sent";
          break;
      }
      if (w.out->status == op_status::failed) {
        r.error = w.out->error.empty() ? w.out->error_description : w.out->error + ": " + w.out->error_description;
      }
      if (w.how == resolve_by::user && w.out->user_id && !w.key.empty() &&
          (w.out->status == op_status::done || w.out->status == op_status::recovered)) {
        ids.push_back({w.key, *w.out->user_id, true, {}, {}});
      }
      rs.push_back(std::move(r));
    }
    const std::string at = now();
    journal_->journal_updates(rs, at);
    if (!ids.empty()) journal_->remember_all(ids, at);
  }

  // Sends `pending` until each is done, failed for good or settled by a look-up, at most max_rounds
  // sends each. Only a look-up that finds nothing lets an unanswered add go out again.
  net::awaitable<void> send_rounds(std::vector<work*> pending) {
    const unsigned max_rounds = std::max(1U, cfg_.max_rounds);
    for (unsigned round = 1; !pending.empty(); ++round) {
      std::vector<bx::command> cmds;
      cmds.reserve(pending.size());
      for (auto* w : pending) {
        bx::command cmd{"", w->method, w->params};
        if (w->how == resolve_by::user && !cfg_.invite_message.empty()) {
          cmd.params[bx::field::message_text] = cfg_.invite_message;
        }
        cmds.push_back(std::move(cmd));
      }
      auto outs = co_await c_.async_batch(std::move(cmds));

      std::vector<work*> again;
      std::vector<work*> find_users;
      std::vector<work*> find_departments;
      for (std::size_t k = 0; k < pending.size(); ++k) {
        work& w = *pending[k];
        auto& o = outs[k];
        ++w.out->attempts;
        if (o.ok) {
          w.out->status = op_status::done;
          w.out->error.clear();
          w.out->error_description.clear();
          if (w.how != resolve_by::resend) w.out->user_id = as_id(o.result);
          continue;
        }
        const auto cls = bx::classify(o.error);
        w.out->error = o.error.error;
        w.out->error_description = describe(o.error);
        w.last_unknown = bx::is_ambiguous(cls);
        if (bx::is_fatal(cls)) {
          w.out->status = op_status::failed;
          if (res_.fatal_error.empty()) {
            res_.fatal_error = o.error.error + ": " + describe(o.error);
            log_->error("sync: the portal refused {} for good ({}): stopping the run", w.method, res_.fatal_error);
          }
        } else if (w.last_unknown) {
          ++ambiguous_;
          if (w.how == resolve_by::user) {
            find_users.push_back(&w);
          } else if (w.how == resolve_by::department) {
            find_departments.push_back(&w);
          } else {
            again.push_back(&w);  // idempotent: the same absolute values again
          }
        } else if (bx::is_retryable(cls) || cls == bx::error_class::auth_refresh) {
          again.push_back(&w);  // the client gave up waiting; it never ran, so sending again is safe
        } else {
          w.out->status = op_status::failed;
          log_->debug("sync: {} {} failed: {} {}", w.journal_op, w.key, w.out->error, w.out->error_description);
        }
      }

      if (!find_users.empty()) {
        std::vector<user_query> qs;
        for (auto* w : find_users) qs.push_back({w->key, w->email});
        auto ans = co_await async_find_users(c_, cfg_.identity_field, qs, lookups_);
        settle(find_users, ans, again);
      }
      if (!find_departments.empty()) {
        std::vector<dept_query> qs;
        for (auto* w : find_departments) qs.push_back({w->dept_name, w->dept_parent});
        auto ans = co_await async_find_departments(c_, qs, lookups_);
        settle(find_departments, ans, again);
      }

      if (again.empty()) break;
      if (!res_.fatal_error.empty() || round >= max_rounds) {
        for (auto* w : again) {
          w->out->status = op_status::failed;
          if (!res_.fatal_error.empty()) {
            w->out->error_description = "not sent again: the run stopped (" + res_.fatal_error + ")";
          } else if (w->last_unknown) {
            w->out->error_description = "outcome unknown after " + std::to_string(w->out->attempts) + " attempts; run again";
          } else {
            w->out->error_description =
                "gave up after " + std::to_string(w->out->attempts) + " attempts: " + w->out->error_description;
          }
        }
        break;
      }
      resends_ += again.size();
      log_->info("sync: sending {} operation(s) again (round {})", again.size(), round + 1);
      pending = std::move(again);
    }
  }

  // Applies look-up answers: found = recovered (no resend); nothing = it never arrived, send again;
  // look-up failed = nothing known: fail, and leave the journal entry ambiguous for reconcile.
  void settle(const std::vector<work*>& ws, const std::vector<lookup_answer>& ans, std::vector<work*>& again) {
    for (std::size_t k = 0; k < ws.size(); ++k) {
      work& w = *ws[k];
      if (ans[k].id) {
        w.out->status = op_status::recovered;
        w.out->user_id = ans[k].id;
        w.out->error.clear();
        w.out->error_description.clear();
        log_->debug("sync: {} {}: unanswered, found on the portal as ID {}", w.journal_op, w.key, *ans[k].id);
      } else if (ans[k].failed) {
        w.unresolved = true;
        w.out->status = op_status::failed;
        w.out->error_description = "outcome unknown and the look-up failed (" + ans[k].error + "); run again";
        log_->warn("sync: {} {}: {}", w.journal_op, w.key, w.out->error_description);
      } else {
        again.push_back(&w);
      }
    }
  }

  bx::client& c_;
  const plan& p_;
  state::store* journal_;
  executor_config cfg_;
  std::shared_ptr<spdlog::logger> log_;
  bx::client_stats start_;
  run_result res_;
  std::uint64_t ambiguous_ = 0;
  std::uint64_t lookups_ = 0;
  std::uint64_t resends_ = 0;
};

}  // namespace

net::awaitable<run_result> async_execute(bx::client& c, const plan& p, state::store* journal, executor_config cfg,
                                         std::shared_ptr<spdlog::logger> log) {
  if (!p.guards.empty()) {
    throw std::logic_error("async_execute: the plan tripped " + std::to_string(p.guards.size()) +
                           " guard(s) (first: " + p.guards.front().guard + "); it must not be executed");
  }
  executor ex(c, p, journal, std::move(cfg), std::move(log));
  co_return co_await ex.run();
}

net::awaitable<std::size_t> async_reconcile(bx::client& c, state::store& journal, const executor_config& cfg,
                                            std::shared_ptr<spdlog::logger> log) {
  log = or_silent(std::move(log));
  const auto entries = journal.unfinished_journal();
  if (entries.empty()) co_return 0;
  log->info("sync: settling {} unfinished journal entr{} from an earlier run", entries.size(),
            entries.size() == 1 ? "y" : "ies");

  std::vector<state::store::journal_result> results;
  std::vector<state::identity> ids;
  std::vector<const state::journal_entry*> creates;
  std::vector<const state::journal_entry*> departments;
  std::vector<user_query> user_qs;
  std::vector<dept_query> dept_qs;
  for (const auto& e : entries) {
    if (e.op == journal_create) {
      creates.push_back(&e);
      user_qs.push_back({e.key, e.email});
      continue;
    }
    if (e.op == journal_department) {
      boost::system::error_code ec;
      auto payload = json::parse(e.payload, ec);
      if (!ec && payload.is_object() && payload.get_object().contains(bx::dept_field::name)) {
        const auto& obj = payload.get_object();
        dept_query q{field_text(obj, bx::dept_field::name), std::nullopt};
        q.parent = id_field(obj, bx::dept_field::parent);
        departments.push_back(&e);
        dept_qs.push_back(std::move(q));
        continue;
      }
    }
    // Updates set absolute values: the fresh plan sends again whatever still differs.
    results.push_back({e.id, state::journal_state::resolved, e.user_id,
                       "settled after an interrupted run: the next plan re-sends what still differs", e.attempts});
  }

  std::uint64_t lookups = 0;
  if (!creates.empty()) {
    auto ans = co_await async_find_users(c, cfg.identity_field, user_qs, lookups);
    for (std::size_t k = 0; k < creates.size(); ++k) {
      const auto& e = *creates[k];
      if (ans[k].failed) {
        log->warn("sync: create {} left unsettled: the look-up failed ({})", e.key, ans[k].error);
        continue;
      }
      if (ans[k].id) {
        results.push_back({e.id, state::journal_state::resolved, ans[k].id, "", e.attempts});
        if (!e.key.empty()) ids.push_back({e.key, *ans[k].id, true, {}, {}});
        log->info("sync: create {} from run {} had applied: user ID {}", e.key, e.run_id, *ans[k].id);
      } else {
        results.push_back({e.id, state::journal_state::resolved, std::nullopt,
                           "not applied: the next plan creates it again", e.attempts});
      }
    }
  }
  if (!departments.empty()) {
    auto ans = co_await async_find_departments(c, dept_qs, lookups);
    for (std::size_t k = 0; k < departments.size(); ++k) {
      const auto& e = *departments[k];
      if (ans[k].failed) {
        log->warn("sync: department {} left unsettled: the look-up failed ({})", e.key, ans[k].error);
        continue;
      }
      results.push_back({e.id, state::journal_state::resolved, ans[k].id,
                         ans[k].id ? "" : "not applied: the next plan creates it again", e.attempts});
    }
  }
  const std::string at = cfg.now_iso ? cfg.now_iso() : utc_now_iso();
  journal.journal_updates(results, at);
  if (!ids.empty()) journal.remember_all(ids, at);
  log->info("sync: {} journal entr{} settled with {} look-up(s)", results.size(), results.size() == 1 ? "y" : "ies",
            lookups);
  co_return results.size();
}

}  // namespace b24sync::sync
