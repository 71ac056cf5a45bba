// app/pipeline.hpp: one run — read sources, map, fetch the snapshot, diff, guard, then (plan) report or
// (sync) reconcile, execute, journal and report. Blocking; runs its own io_context, so the daemon can
// call it from a worker thread while its own loop keeps answering signals, metrics and the watchdog.
#pragma once

#include "config/config.hpp"
#include "report/report.hpp"
#include "sync/outcome.hpp"
#include "sync/plan.hpp"

#include <spdlog/logger.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace b24sync::app {

enum class run_kind { plan, sync };

struct run_request {
  run_kind kind = run_kind::plan;
  std::string config_path;                          ///< for messages only (the config is passed in)
  std::optional<std::size_t> allow_deactivations;   ///< --allow-deactivations N
  std::string reviewed_plan;                        ///< sync --plan FILE: apply only this plan
  report::format format = report::format::text;     ///< stdout / output report format
  std::string output;                               ///< -o / --report FILE; empty = stdout
  bool print_report = true;                         ///< write the report to stdout when output is empty
  bool detailed_exitcode = false;                   ///< plan: 0 no changes / 2 changes / 3 guard
  bool confirm = false;                             ///< sync on a TTY without --yes: ask before writing
  bool progress_tty = false;                        ///< a live progress line on stderr
  bool progress_log = true;                         ///< otherwise a log line every few seconds
  std::string mode_name = "sync";                   ///< recorded in the state store ("sync", "daemon")
  std::function<bool()> stop_requested;             ///< SIGINT/SIGTERM: stop dispatching
};

/// What a run did, for the CLI's exit code, the daemon's status line and metrics.
struct run_summary {
  int exit = 0;                             ///< exit_codes.hpp
  std::string message;                      ///< one line: what happened / why it stopped (no secrets)
  std::optional<sync::plan> plan;           ///< when one was made
  std::optional<sync::run_result> result;   ///< when a sync executed
  std::size_t managed_users = 0;
  double seconds = 0;
  std::vector<std::string> report_files;    ///< reports written to reports.dir
};

/// Never throws: every failure is an exit code and a message (and a log line).
run_summary run_pipeline(const config::config& cfg, const run_request& req, std::shared_ptr<spdlog::logger> log);

}  // namespace b24sync::app
