// The commands behind the CLI's subcommands; each returns the process exit code (exit_codes.hpp).
#pragma once

#include "app/logging.hpp"

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

namespace b24sync::app {

struct check_options {
  std::string config_path;
};

struct explain_options {
  std::string config_path;
  std::string key;  // the HR key of the person to explain
};

// `plan` and `sync` (design.md §3).
struct run_options {
  std::string config_path;
  std::string format = "text";                     // text|json|csv|html
  std::string output;                              // plan: -o FILE; sync: --report FILE
  bool detailed_exitcode = false;                  // plan: 0 no changes / 2 changes / 3 guard
  std::optional<std::size_t> allow_deactivations;  // raise the deactivation guard to N for this run
  std::string plan_file;                           // sync --plan: apply this reviewed plan only
  bool yes = false;                                // sync: no confirmation prompt on a TTY
  bool no_progress = false;                        // global --no-progress
};

// Read sources, fetch the snapshot, diff, guard and report; never writes to the portal.
int run_plan(const run_options& options, const log_options& log);

// plan + guard + execute + journal + report.
int run_sync(const run_options& options, const log_options& log);

struct daemon_options {
  std::string config_path;
  unsigned max_runs = 0;                         // stop after N runs (tests, one-off catch-up); 0 = forever
  std::chrono::milliseconds watch_quiet{5000};   // source-change debounce
};

// Sync on the schedule until SIGTERM; SIGHUP re-reads the config; sd_notify, watchdog, metrics.
int run_daemon(const daemon_options& options, const log_options& log);

// Config, sources, mapping and the portal (reachability, TLS, auth, rights, scope, counts); writes nothing.
int run_check(const check_options& options, const log_options& log);

// For one person: every source value, each transform step and the final desired fields.
int run_explain(const explain_options& options, const log_options& log);

}  // namespace b24sync::app
