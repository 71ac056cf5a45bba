// app/pipeline.cpp: one plan or sync run end to end (see pipeline.hpp). The only place that strings
// together sources, mapping, snapshot, diff, guards, executor, state and reports.
#include "app/pipeline.hpp"

#include "app/exit_codes.hpp"
#include "app/notify.hpp"
#include "app/portal_settings.hpp"
#include "app/progress.hpp"
#include "app/run_context.hpp"
#include "app/sources.hpp"
#include "bitrix/client.hpp"
#include "bitrix/snapshot.hpp"
#include "config/mapping.hpp"
#include "state/store.hpp"
#include "sync/diff.hpp"
#include "sync/drift.hpp"
#include "sync/executor.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <unistd.h>

namespace b24sync::app {

namespace net = boost::asio;
namespace fs = std::filesystem;

namespace {

std::string utc_now(const char* format) {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

std::string iso_now() { return utc_now("%Y-%m-%dT%H:%M:%SZ"); }
std::string compact_now() { return utc_now("%Y%m%dT%H%M%SZ"); }

// Writes `text` to `path` through a temporary file and a rename, so a reader never sees half a report.
void write_file_atomic(const fs::path& path, const std::string& text) {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw std::runtime_error("cannot write " + tmp.string());
    f << text;
    f.flush();
    if (!f) throw std::runtime_error("cannot write " + tmp.string());
  }
  fs::rename(tmp, path);
}

// Keeps the newest `keep` run reports (by name: run-<UTC time>-<id>.*) in `dir`.
void prune_reports(const fs::path& dir, int keep, spdlog::logger& log) {
  if (keep <= 0) return;
  std::vector<std::string> stems;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const auto name = e.path().filename().string();
    if (name.starts_with("run-") && e.path().extension() == ".json") stems.push_back(e.path().stem().string());
  }
  std::sort(stems.begin(), stems.end());
  if (stems.size() <= static_cast<std::size_t>(keep)) return;
  for (std::size_t i = 0; i + static_cast<std::size_t>(keep) < stems.size(); ++i)
    for (const char* ext : {".json", ".html"}) {
      fs::remove(dir / (stems[i] + ext), ec);
      if (ec) log.warn("reports: cannot remove old report {}: {}", (dir / (stems[i] + ext)).string(), ec.message());
    }
}

bool ask_yes(std::size_t writes, const std::string& portal) {
  fmt::print(stderr, "Apply {} change(s) to {}? [y/N] ", writes, portal);
  std::fflush(stderr);
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  return answer == "y" || answer == "Y" || answer == "yes";
}

// `stopped`: the operator asked the run to stop (SIGTERM, Ctrl-C). Only then is a temporary failure
// "interrupted"; any other exit 75 (the state store, an unexpected error) is a failure like the rest.
state::run_outcome outcome_for(int exit, bool stopped) {
  switch (static_cast<exit_code>(exit)) {
    case exit_code::ok: return state::run_outcome::ok;
    case exit_code::changes: return state::run_outcome::changes;
    case exit_code::guard_tripped: return state::run_outcome::guard_tripped;
    case exit_code::partial_failure: return state::run_outcome::partial_failure;
    case exit_code::temp_failure: return stopped ? state::run_outcome::interrupted : state::run_outcome::failed;
    default: return state::run_outcome::failed;
  }
}

struct portal_view {
  bitrix::snapshot snap;
  std::optional<std::int64_t> me;  // the webhook's / token's user
};

class pipeline {
 public:
  pipeline(const config::config& cfg, const run_request& req, std::shared_ptr<spdlog::logger> log)
      : cfg_(cfg), req_(req), log_(std::move(log)) {}

  run_summary run();

 private:
  run_summary finish(int exit, std::string message);
  void write_reports();
  void record_identities();
  void notify();

  const config::config& cfg_;
  const run_request& req_;
  std::shared_ptr<spdlog::logger> log_;
  std::optional<state::instance_lock> lock_;
  std::optional<state::store> store_;
  std::int64_t run_id_ = 0;
  std::string started_at_ = iso_now();
  std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
  run_summary out_;
  std::size_t source_rows_ = 0;
  std::size_t source_people_ = 0;
  bool lock_busy_ = false;  // another run held the instance lock: this one did not start
  // The run's portal client outlives the run's coroutine, so the notification (sent from finish())
  // goes through the same limiter and pacer; the io_context is declared first to outlive the client.
  net::io_context ioc_;
  std::optional<bitrix::client> client_;
};

run_summary pipeline::finish(int exit, std::string message) {
  out_.exit = exit;
  out_.message = std::move(message);
  out_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  if (store_ && run_id_ != 0) {
    state::run_record r;
    r.id = run_id_;
    r.finished_at = iso_now();
    r.mode = req_.mode_name == "daemon" ? state::run_mode::daemon : state::run_mode::sync;
    r.outcome = outcome_for(exit, req_.stop_requested && req_.stop_requested());
    r.exit_code = exit;
    r.source_rows = source_rows_;
    r.source_people = source_people_;
    r.message = out_.message;
    if (out_.plan) r.rejects = out_.plan->counts.source_rejects;
    if (out_.plan && out_.result) {
      for (std::size_t i = 0; i < out_.plan->users.size() && i < out_.result->users.size(); ++i) {
        const auto& o = out_.result->users[i];
        const bool applied = o.status == sync::op_status::done || o.status == sync::op_status::recovered;
        if (o.status == sync::op_status::failed) ++r.failed;
        if (!applied) continue;
        switch (out_.plan->users[i].kind) {
          case sync::op_kind::create: ++r.created; break;
          case sync::op_kind::update: ++r.updated; break;
          case sync::op_kind::reactivate: ++r.reactivated; break;
          case sync::op_kind::deactivate: ++r.deactivated; break;
          default: break;
        }
      }
    }
    try {
      store_->finish_run(r);
    } catch (const std::exception& e) {
      log_->error("state: cannot record the run's end: {}", e.what());
    }
  }
  notify();
  return std::move(out_);
}

// A notification (config `notify:`) about a tripped guard, a failure or a recovery. Sync runs only
// (`plan` never writes to the portal). Whatever happens here leaves the run's exit code alone.
void pipeline::notify() {
  // Another run holding the lock (a cron sync meeting the daemon) is doing the work: nothing failed.
  if (req_.kind != run_kind::sync || !cfg_.notify.enabled || lock_busy_) return;
  notify_history history;
  history.stop_requested = req_.stop_requested && req_.stop_requested();
  if (store_ && run_id_ != 0) {
    try {
      history.previous = previous_outcome(store_->recent_runs(20), run_id_);
    } catch (const std::exception& e) {
      log_->warn("notify: cannot read the previous run's outcome: {}", e.what());
    }
  }
  const auto n = decide_notification(cfg_.notify, out_, history);
  if (!n) return;
  try {
    // Failures before the snapshot (a source unusable, the lock held) have no client yet.
    if (!client_) client_.emplace(ioc_, make_client_config(cfg_, log_), log_);
    std::exception_ptr failure;
    ioc_.restart();
    net::co_spawn(
        ioc_,
        [&]() -> net::awaitable<void> {
          co_await async_send_notification(*client_, cfg_.notify, *n, *log_);
          co_await client_->async_shutdown();
        },
        [&](std::exception_ptr e) { failure = e; });
    ioc_.run();
    if (failure) std::rethrow_exception(failure);
  } catch (const std::exception& e) {
    log_->warn("notify: {} to {} not sent: {}", to_string(n->event), cfg_.notify.to, e.what());
  }
}

void pipeline::record_identities() {
  if (!store_ || !out_.plan) return;
  std::vector<state::identity> ids;
  for (std::size_t i = 0; i < out_.plan->users.size(); ++i) {
    const auto& op = out_.plan->users[i];
    if (op.key.empty() || !op.user_id || op.kind == sync::op_kind::create || op.kind == sync::op_kind::skip) continue;
    if (out_.result && i < out_.result->users.size() && out_.result->users[i].status == sync::op_status::failed)
      continue;
    ids.push_back(state::identity{op.key, *op.user_id, true, {}, {}});
  }
  for (const auto& u : out_.plan->unchanged) ids.push_back(state::identity{u.key, u.user_id, true, {}, {}});
  if (!ids.empty()) store_->remember_all(ids, iso_now());
}

void pipeline::write_reports() {
  if (!out_.plan) return;
  const sync::run_result* result = out_.result ? &*out_.result : nullptr;
  report::report_options opts;
  opts.color = req_.output.empty() && ::isatty(STDOUT_FILENO) != 0 && req_.format == report::format::text;
  const std::string text = report::render(req_.format, *out_.plan, result, opts);
  if (!req_.output.empty()) {
    write_file_atomic(req_.output, text);
    log_->info("report written to {}", req_.output);
  } else if (req_.print_report) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
  }
  // Every sync keeps a JSON and an HTML copy in reports.dir (retention: reports.keep).
  if (req_.kind != run_kind::sync || cfg_.reports.dir.empty()) return;
  try {
    const fs::path dir = cfg_.reports.dir;
    const std::string stem = fmt::format("run-{}-{}", compact_now(), run_id_);
    write_file_atomic(dir / (stem + ".json"), report::render_json(*out_.plan, result));
    write_file_atomic(dir / (stem + ".html"), report::render_html(*out_.plan, result, {}));
    out_.report_files = {(dir / (stem + ".json")).string(), (dir / (stem + ".html")).string()};
    prune_reports(dir, cfg_.reports.keep, *log_);
  } catch (const std::exception& e) {
    log_->warn("reports: cannot write to {}: {}", cfg_.reports.dir, e.what());
  }
}

run_summary pipeline::run() {
  const bool syncing = req_.kind == run_kind::sync;

  // 1. State: a sync holds the instance lock and records itself; a plan only reads what is there.
  try {
    if (syncing) {
      std::string holder;
      lock_ = state::instance_lock::try_acquire(cfg_.state.path, &holder);
      if (!lock_) {
        lock_busy_ = true;
        return finish(to_int(exit_code::temp_failure),
                      fmt::format("another b24sync run holds the lock on {}{}; not starting", cfg_.state.path,
                                  holder.empty() ? "" : " (PID " + holder + ")"));
      }
      store_ = state::store::open(cfg_.state.path);
      run_id_ = store_->begin_run(req_.mode_name == "daemon" ? state::run_mode::daemon : state::run_mode::sync,
                                  started_at_);
    } else if (fs::exists(cfg_.state.path)) {
      store_ = state::store::open(cfg_.state.path);
    }
  } catch (const state::state_error& e) {
    return finish(to_int(exit_code::temp_failure), fmt::format("state store: {}", e.what()));
  }

  // 2. Sources and mapping.
  int exit = 0;
  auto sources = read_sources_or_report(cfg_, *log_, exit);
  if (!sources) return finish(exit, "a source is unusable (see the log)");
  for (const auto& s : sources->summaries)
    log_->info("source {} ({}) {}: {} record(s), {} rejected; {}", s.name, s.type, s.location, s.records, s.rejected,
               s.detail);
  auto mapped = config::map_records(cfg_, sources->records, today_local());
  source_rows_ = sources->records.size() + sources->rejects.size();
  source_people_ = mapped.people.size();
  mapped.rejects.insert(mapped.rejects.begin(), sources->rejects.begin(), sources->rejects.end());
  mapped.unattributed_rejects = sources->rejects.size();

  // 3. The portal: settle what a crashed run left behind, then a fresh snapshot.
  portal_view view;
  std::size_t settled = 0;
  try {
    auto ccfg = make_client_config(cfg_, log_);
    bitrix::client& c = client_.emplace(ioc_, std::move(ccfg), log_);
    std::exception_ptr failure;
    sync::executor_config ecfg;
    ecfg.identity_field = cfg_.mapping.identity_field;
    ecfg.run_id = run_id_;
    ecfg.now_iso = iso_now;
    ecfg.stop_requested = req_.stop_requested;
    std::optional<sync::plan> to_apply;
    std::string stop_message;
    int stop_exit = 0;

    auto work = [&]() -> net::awaitable<void> {
      if (store_ && syncing) settled = co_await sync::async_reconcile(c, *store_, ecfg, log_);
      if (settled > 0) log_->info("journal: settled {} operation(s) left unfinished by an earlier run", settled);
      view.snap = co_await bitrix::async_fetch_snapshot(c);
      if (cfg_.portal.auth == config::auth_kind::webhook) {
        view.me = cfg_.portal.webhook.user_id;
      } else {
        auto r = co_await c.async_call("user.current");
        if (r && r.value->result.is_object())
          if (auto id = bitrix::json_to_id(r.value->result.as_object().contains("ID")
                                               ? r.value->result.as_object().at("ID")
                                               : boost::json::value{}))
            view.me = *id;
      }
      log_->info("snapshot: {} users, {} departments in {} request(s)", view.snap.users.size(),
                 view.snap.departments.size(), view.snap.http_requests);

      // 4. Diff and guards.
      sync::diff_input in;
      in.cfg = &cfg_;
      in.desired = &mapped;
      in.portal = &view.snap;
      if (store_) {
        in.identities.key_to_user = store_->identities_by_key();
        in.identities.managed = store_->managed_users();
      }
      in.webhook_user = view.me;
      in.portal_url = c.portal_url();
      in.created_at = iso_now();
      in.warnings = mapped.warnings;
      sync::plan fresh = sync::make_plan(in);

      sync::guard_input g;
      g.policy = &cfg_.policy;
      if (store_)
        if (auto last = store_->last_successful_run()) g.last_source_people = last->source_people;
      g.source_rows = source_rows_;
      g.allow_deactivations = req_.allow_deactivations;

      if (!req_.reviewed_plan.empty()) {
        sync::plan reviewed;
        try {
          std::ifstream f(req_.reviewed_plan, std::ios::binary);
          if (!f) throw report::plan_file_error(req_.reviewed_plan + ": cannot be read");
          std::stringstream ss;
          ss << f.rdbuf();
          reviewed = report::parse_plan_json(ss.str());
        } catch (const report::plan_file_error& e) {
          stop_exit = to_int(exit_code::usage);
          stop_message = fmt::format("plan file: {}", e.what());
          co_return;
        }
        auto drift = sync::find_drift(reviewed, fresh);
        reviewed.guards = sync::evaluate_guards(reviewed, g);
        out_.plan = std::move(reviewed);
        if (!drift.empty()) {
          for (const auto& d : drift) log_->error("drift: {}", d);
          out_.plan->warnings.insert(out_.plan->warnings.end(), drift.begin(), drift.end());
          stop_exit = to_int(exit_code::guard_tripped);
          stop_message = fmt::format("the portal changed since {} was made: {} user(s) drifted; nothing written "
                                     "(make a new plan)",
                                     req_.reviewed_plan, drift.size());
          co_return;
        }
      } else {
        fresh.guards = sync::evaluate_guards(fresh, g);
        out_.plan = std::move(fresh);
      }
      out_.managed_users = out_.plan->counts.managed_users;

      if (!out_.plan->guards.empty()) {
        for (const auto& t : out_.plan->guards) log_->error("guard {}: {}", t.guard, t.reason);
        stop_exit = to_int(exit_code::guard_tripped);
        stop_message = fmt::format("stopped by a safety guard: {}; nothing written", out_.plan->guards.front().reason);
        co_return;
      }
      if (!syncing) co_return;

      // 5. Execute.
      const std::size_t writes = out_.plan->counts.writes();
      if (writes == 0) co_return;
      if (req_.confirm && !ask_yes(writes, c.portal_url())) {
        stop_message = "not applied: declined at the prompt";
        co_return;
      }
      if (req_.stop_requested && req_.stop_requested()) {
        stop_exit = to_int(exit_code::temp_failure);
        stop_message = "interrupted before the first write; nothing written";
        co_return;
      }
      std::optional<progress_printer> printer;
      if (req_.progress_tty || req_.progress_log) {
        printer.emplace(req_.progress_tty, log_);
        ecfg.on_progress = [&printer](const sync::progress& p) { (*printer)(p); };
      }
      out_.result =
          co_await sync::async_execute(c, *out_.plan, store_ ? &*store_ : nullptr, ecfg, log_);
    };
    net::co_spawn(
        ioc_,
        [&]() -> net::awaitable<void> {
          std::exception_ptr inner;
          try {
            co_await work();
          } catch (...) {
            inner = std::current_exception();
          }
          co_await c.async_shutdown();
          if (inner) std::rethrow_exception(inner);
        },
        [&](std::exception_ptr e) { failure = e; });
    ioc_.run();
    if (failure) std::rethrow_exception(failure);

    if (stop_exit != 0 || !stop_message.empty()) {
      write_reports();
      return finish(stop_exit, stop_message);
    }
  } catch (const bitrix::snapshot_error& e) {
    // Credentials refused, or no connection at all: 69. A portal that answered but kept failing: 75.
    const bool unreachable =
        e.kind() == bitrix::error_class::auth_fatal || e.kind() == bitrix::error_class::retry_transport;
    return finish(unreachable ? to_int(exit_code::unavailable) : to_int(exit_code::temp_failure),
                  fmt::format("portal snapshot failed: {}", e.what()));
  } catch (const config::config_error& e) {
    return finish(to_int(exit_code::config), e.what());
  } catch (const std::invalid_argument& e) {
    return finish(to_int(exit_code::config), fmt::format("portal settings: {}", e.what()));
  } catch (const state::state_error& e) {
    return finish(to_int(exit_code::temp_failure), fmt::format("state store: {}", e.what()));
  } catch (const std::exception& e) {
    return finish(to_int(exit_code::temp_failure), fmt::format("run failed: {}", e.what()));
  }

  // 6. Identities, reports, verdict.
  try {
    if (syncing) record_identities();
  } catch (const std::exception& e) {
    log_->error("state: cannot record identities: {}", e.what());
  }
  write_reports();
  const auto& p = *out_.plan;
  const std::size_t writes = p.counts.writes();
  if (!syncing) {
    const std::string msg = writes == 0 ? "no changes" : fmt::format("{} change(s) planned", writes);
    return finish(req_.detailed_exitcode && writes > 0 ? to_int(exit_code::changes) : to_int(exit_code::ok), msg);
  }
  if (!out_.result) return finish(to_int(exit_code::ok), "no changes: nothing sent to the portal");
  const auto& r = *out_.result;
  const std::string counts =
      fmt::format("{} of {} operation(s) applied, {} failed; {} request(s), {} answered 503", r.applied(), writes,
                  r.failed(), r.stats.http_requests, r.stats.http_503);
  if (r.interrupted) return finish(to_int(exit_code::temp_failure), "interrupted: " + counts + "; run again to finish");
  if (r.failed() > 0) return finish(to_int(exit_code::partial_failure), "finished with failures: " + counts);
  return finish(to_int(exit_code::ok), "done: " + counts);
}

}  // namespace

run_summary run_pipeline(const config::config& cfg, const run_request& req, std::shared_ptr<spdlog::logger> log) {
  try {
    pipeline p(cfg, req, std::move(log));
    return p.run();
  } catch (const std::exception& e) {
    run_summary s;
    s.exit = to_int(exit_code::temp_failure);
    s.message = fmt::format("run failed: {}", e.what());
    return s;
  }
}

}  // namespace b24sync::app
