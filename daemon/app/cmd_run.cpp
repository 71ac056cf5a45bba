// `b24sync plan` and `b24sync sync`: load the config, wire signals and progress, run the pipeline,
// print the verdict, return the exit code.
#include "app/commands.hpp"

#include "app/exit_codes.hpp"
#include "app/pipeline.hpp"
#include "app/run_context.hpp"

#include <fmt/core.h>

#include <atomic>
#include <csignal>
#include <unistd.h>

namespace b24sync::app {

namespace {

std::atomic<int> g_stop_signal{0};

extern "C" void on_stop_signal(int sig) {
  g_stop_signal.store(sig, std::memory_order_relaxed);
}

// SIGINT/SIGTERM set a flag the executor checks between batches: in-flight calls finish, the journal
// and the report are written, and the run exits 75. A second signal still just sets the flag.
void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

int run_command(run_kind kind, const run_options& o, const log_options& log_opts) {
  auto log = make_logger(log_opts);
  int exit = to_int(exit_code::ok);
  auto loaded = load_config_or_report(o.config_path, *log, exit);
  if (!loaded) return exit;

  run_request req;
  req.kind = kind;
  req.config_path = o.config_path;
  req.allow_deactivations = o.allow_deactivations;
  req.reviewed_plan = o.plan_file;
  if (auto f = report::format_from_string(o.format)) req.format = *f;
  req.output = o.output;
  req.detailed_exitcode = o.detailed_exitcode;
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  req.confirm = kind == run_kind::sync && !o.yes && tty && ::isatty(STDIN_FILENO) != 0 && o.plan_file.empty();
  req.progress_tty = tty && !o.no_progress && !log_opts.quiet;
  req.progress_log = !tty && !o.no_progress && !log_opts.quiet;
  install_stop_handlers();
  req.stop_requested = [] { return g_stop_signal.load(std::memory_order_relaxed) != 0; };

  auto summary = run_pipeline(loaded->cfg, req, log);
  if (summary.exit == 0 || summary.exit == to_int(exit_code::changes))
    log->info("{}", summary.message);
  else
    log->error("{} (exit {})", summary.message, summary.exit);
  for (const auto& f : summary.report_files) log->info("report: {}", f);
  return summary.exit;
}

}  // namespace

int run_plan(const run_options& options, const log_options& log) {
  return run_command(run_kind::plan, options, log);
}

int run_sync(const run_options& options, const log_options& log) {
  return run_command(run_kind::sync, options, log);
}

}  // namespace b24sync::app
