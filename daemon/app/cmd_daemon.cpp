// `b24sync daemon`: runs a sync on the schedule (and, if asked, when a source file changes) until
// SIGTERM. One event loop on the main thread answers signals, the watchdog, metrics and file events;
// each run executes on a worker thread with its own io_context (run_pipeline), so a long run never
// starves the watchdog or a scrape.
#include "app/commands.hpp"

#include "app/exit_codes.hpp"
#include "app/file_watch.hpp"
#include "app/metrics.hpp"
#include "app/pipeline.hpp"
#include "app/run_context.hpp"
#include "app/schedule.hpp"
#include "app/sd_notify.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/system_timer.hpp>

#include <fmt/chrono.h>
#include <fmt/core.h>

#include <atomic>
#include <csignal>
#include <memory>
#include <optional>
#include <thread>

namespace b24sync::app {

namespace net = boost::asio;

namespace {

sys_seconds now_seconds() {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

std::string local_hm(sys_seconds t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  localtime_r(&tt, &tm);
  return fmt::format("{:02}:{:02}:{:02}", tm.tm_hour, tm.tm_min, tm.tm_sec);
}

bool healthy_exit(int exit) {
  return exit == to_int(exit_code::ok) || exit == to_int(exit_code::changes);
}

std::vector<std::filesystem::path> watched_files(const config::config& cfg) {
  std::vector<std::filesystem::path> out;
  for (const auto& s : cfg.sources)
    if (s.type != config::source_type::ldap && !s.path.empty()) out.emplace_back(s.path);
  return out;
}

class daemon_loop {
 public:
  daemon_loop(config::loaded_config loaded, daemon_options options, std::shared_ptr<spdlog::logger> log)
      : cfg_(std::make_shared<config::config>(std::move(loaded.cfg))),
        options_(std::move(options)),
        log_(std::move(log)),
        sched_(schedule::from_config(cfg_->schedule)),
        signals_(io_, SIGINT, SIGTERM, SIGHUP),
        run_timer_(io_),
        watchdog_timer_(io_) {}

  int run();

 private:
  void wait_signal();
  void arm_run_timer(sys_seconds at);
  void start_run(const char* why);
  void run_finished(run_summary s, sys_seconds started, sys_seconds ended);
  void reload();
  void stop();
  void ping_watchdog();
  void start_file_watch();
  void report_status(const std::string& text);

  std::shared_ptr<const config::config> cfg_;
  daemon_options options_;
  std::shared_ptr<spdlog::logger> log_;
  schedule sched_;
  utc_offset_fn utc_offset_ = system_utc_offset();
  net::io_context io_;
  net::signal_set signals_;
  net::system_timer run_timer_;
  net::steady_timer watchdog_timer_;
  sd_notifier notify_;
  service_metrics metrics_;
  std::unique_ptr<metrics_endpoint> endpoint_;
  std::unique_ptr<file_watch> watch_;
  std::atomic<bool> stop_requested_{false};
  bool stopping_ = false;
  bool running_ = false;
  bool run_again_ = false;  // a source changed while a run was going
  std::thread worker_;
  unsigned failures_ = 0;
  unsigned runs_ = 0;
  sys_seconds next_at_{};
};

void daemon_loop::report_status(const std::string& text) {
  notify_.status(text);
  log_->info("{}", text);
}

void daemon_loop::wait_signal() {
  signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      reload();
      wait_signal();
    } else {
      stop();
    }
  });
}

void daemon_loop::stop() {
  if (stopping_) return;
  stopping_ = true;
  notify_.stopping();
  log_->info("stopping: {}", running_ ? "waiting for the run in progress to finish its in-flight calls" : "idle");
  stop_requested_ = true;
  run_timer_.cancel();
  watchdog_timer_.cancel();
  if (watch_) watch_->stop();
  if (endpoint_) endpoint_->stop();
  signals_.cancel();
  // With no run in progress nothing else is pending: io_.run() returns. Otherwise run_finished ends it.
}

void daemon_loop::reload() {
  notify_.reloading();
  try {
    auto loaded = config::load_config(options_.config_path);
    for (const auto& w : loaded.warnings) log_->warn("{}", w);
    auto next_sched = schedule::from_config(loaded.cfg.schedule);
    cfg_ = std::make_shared<config::config>(std::move(loaded.cfg));
    sched_ = next_sched;
    log_->info("configuration reloaded from {}; schedule {}", options_.config_path, sched_.describe());
    if (watch_) {
      watch_->stop();
      watch_.reset();
    }
    start_file_watch();
    if (!running_) arm_run_timer(sched_.next_run(now_seconds(), utc_offset_));
  } catch (const std::exception& e) {
    log_->error("configuration reload FAILED, still running with the previous configuration: {}", e.what());
    notify_.status(fmt::format("reload failed, previous configuration kept: {}", e.what()));
  }
  notify_.ready();
}

void daemon_loop::ping_watchdog() {
  auto interval = notify_.watchdog_interval();
  if (!interval || stopping_) return;
  notify_.watchdog();
  watchdog_timer_.expires_after(*interval);
  watchdog_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) ping_watchdog();
  });
}

void daemon_loop::arm_run_timer(sys_seconds at) {
  next_at_ = at;
  run_timer_.expires_at(at);
  run_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) start_run("scheduled");
  });
}

void daemon_loop::start_file_watch() {
  if (!cfg_->schedule.on_source_change) return;
  auto files = watched_files(*cfg_);
  if (files.empty()) return;
  try {
    file_watch_options o;
    o.files = files;
    o.quiet = options_.watch_quiet;
    watch_ = std::make_unique<file_watch>(io_, o, [this](const std::vector<std::filesystem::path>& changed) {
      log_->info("source changed: {}", changed.empty() ? std::string{"?"} : changed.front().string());
      if (running_) {
        run_again_ = true;
      } else if (!stopping_) {
        run_timer_.cancel();
        start_run("source changed");
      }
    });
    watch_->start();
  } catch (const std::exception& e) {
    log_->warn("cannot watch the source files ({}); running on the schedule only", e.what());
  }
}

void daemon_loop::start_run(const char* why) {
  if (running_ || stopping_) return;
  running_ = true;
  ++runs_;
  const sys_seconds started = now_seconds();
  notify_.status(fmt::format("run {} started at {} ({})", runs_, local_hm(started), why));
  log_->info("run {} started ({})", runs_, why);
  auto cfg = cfg_;  // the worker keeps the configuration it started with, whatever SIGHUP does meanwhile
  if (worker_.joinable()) worker_.join();
  worker_ = std::thread([this, cfg, started] {
    run_request req;
    req.kind = run_kind::sync;
    req.config_path = options_.config_path;
    req.print_report = false;
    req.progress_log = true;
    req.mode_name = "daemon";
    req.stop_requested = [this] { return stop_requested_.load(); };
    run_summary s = run_pipeline(*cfg, req, log_);
    net::post(io_, [this, s = std::move(s), started]() mutable { run_finished(std::move(s), started, now_seconds()); });
  });
}

void daemon_loop::run_finished(run_summary s, sys_seconds started, sys_seconds ended) {
  running_ = false;
  if (worker_.joinable()) worker_.join();
  const bool ok = healthy_exit(s.exit);
  failures_ = ok ? 0 : failures_ + 1;

  run_record rec;
  switch (static_cast<exit_code>(s.exit)) {
    case exit_code::ok: rec.outcome = "ok"; break;
    case exit_code::guard_tripped: rec.outcome = "guard_tripped"; break;
    case exit_code::partial_failure: rec.outcome = "partial_failure"; break;
    case exit_code::temp_failure: rec.outcome = stop_requested_ ? "interrupted" : "failed"; break;
    default: rec.outcome = "failed"; break;
  }
  rec.success = ok;
  rec.finished = ended;
  rec.duration = std::chrono::duration<double>(s.seconds);
  metrics_.record_run(rec);
  if (s.plan) metrics_.set_users_managed(s.managed_users);
  if (s.result && s.plan) {
    metrics_.add_http_503(s.result->stats.http_503);
    metrics_.add_http_429(s.result->stats.http_429);
    for (std::size_t i = 0; i < s.plan->users.size() && i < s.result->users.size(); ++i) {
      const auto& o = s.result->users[i];
      if (o.status == sync::op_status::not_run) continue;
      metrics_.add_operations(sync::to_string(s.plan->users[i].kind), sync::to_string(o.status));
      if (o.status == sync::op_status::failed && !o.error.empty()) metrics_.add_portal_errors(o.error);
    }
  }

  if (stopping_) {
    log_->info("run {} ended ({}); stopped", runs_, s.message);
    return;  // nothing else is pending: io_.run() returns
  }
  if (options_.max_runs > 0 && runs_ >= options_.max_runs) {
    log_->info("run {} ended ({}); --max-runs reached", runs_, s.message);
    stop();
    return;
  }
  if (run_again_) {
    run_again_ = false;
    start_run("source changed during the last run");
    return;
  }
  const auto next = next_attempt(sched_, started, ended, failures_, utc_offset_);
  arm_run_timer(next);
  report_status(fmt::format("last run {}: {} (exit {}); next run at {}{}", local_hm(ended), s.message, s.exit,
                            local_hm(next), failures_ > 0 ? fmt::format(" (retry {} after failure)", failures_) : ""));
}

int daemon_loop::run() {
  if (!cfg_->metrics.listen.empty()) {
    metrics_endpoint_options mo;
    mo.listen = cfg_->metrics.listen;
    mo.max_age = std::max(std::chrono::seconds{3600}, 3 * sched_.period(now_seconds(), utc_offset_));
    mo.log = log_;
    endpoint_ = std::make_unique<metrics_endpoint>(io_, metrics_, mo);
    endpoint_->start();
    log_->info("metrics: http://{}/metrics and /healthz", endpoint_->local_address());
  }
  start_file_watch();
  wait_signal();
  ping_watchdog();
  notify_.ready();
  log_->info("daemon started: schedule {}{}; state {}", sched_.describe(),
             cfg_->schedule.on_source_change ? " and on source changes" : "", cfg_->state.path);
  // The first run starts at once: a restarted daemon catches up instead of waiting a whole period.
  net::post(io_, [this] { start_run("start-up"); });
  io_.run();
  if (worker_.joinable()) worker_.join();
  log_->info("daemon stopped after {} run(s)", runs_);
  return to_int(exit_code::ok);
}

}  // namespace

int run_daemon(const daemon_options& options, const log_options& log_opts) {
  auto log = make_logger(log_opts);
  int exit = to_int(exit_code::ok);
  auto loaded = load_config_or_report(options.config_path, *log, exit);
  if (!loaded) return exit;
  try {
    daemon_loop loop(std::move(*loaded), options, log);
    return loop.run();
  } catch (const schedule_error& e) {
    log->error("{}: schedule: {}", options.config_path, e.what());
    return to_int(exit_code::config);
  } catch (const metrics_error& e) {
    log->error("{}: metrics.listen: {}", options.config_path, e.what());
    return to_int(exit_code::config);
  } catch (const std::exception& e) {
    log->error("daemon failed: {}", e.what());
    return to_int(exit_code::temp_failure);
  }
}

}  // namespace b24sync::app
