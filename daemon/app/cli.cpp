// Command-line parsing (CLI11) and dispatch to the commands of design.md §3.
#include "app/cli.hpp"

#include "app/commands.hpp"
#include "app/exit_codes.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <cstdio>
#include <string>

namespace b24sync::app {

namespace {

struct global_options {
  std::string log_level = "info";
  std::string log_format = "text";
  bool no_progress = false;
  bool quiet = false;
};

// The options `plan` and `sync` share.
void add_run_options(CLI::App& cmd, run_options& o) {
  cmd.add_option("-c,--config", o.config_path, "configuration file")->required();
  cmd.add_option("--format", o.format, "report format: text|json|csv|html")
      ->check(CLI::IsMember({"text", "json", "csv", "html"}));
  cmd.add_option("--allow-deactivations", o.allow_deactivations,
                 "accept up to N deactivations in this run (overrides policy.max_deactivations)");
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App cli{"b24sync: keeps a Bitrix24 portal's employee accounts in step with the HR directory"};
  cli.require_subcommand(1);
  global_options global;
  cli.add_option("--log-level", global.log_level, "trace|debug|info|warn|error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  cli.add_option("--log-format", global.log_format, "text|json")->check(CLI::IsMember({"text", "json"}));
  cli.add_flag("--no-progress", global.no_progress, "no live progress line");
  cli.add_flag("-q,--quiet", global.quiet, "only errors");

  auto* version = cli.add_subcommand("version", "print the version and exit");

  check_options check;
  auto* check_cmd = cli.add_subcommand(
      "check", "check the config, the sources and the portal (reachability, TLS, auth, rights, scope); writes nothing");
  check_cmd->add_option("-c,--config", check.config_path, "configuration file")->required();

  explain_options explain;
  auto* explain_cmd = cli.add_subcommand(
      "explain", "show how one person's source values become Bitrix24 fields, step by step");
  explain_cmd->add_option("-c,--config", explain.config_path, "configuration file")->required();
  explain_cmd->add_option("key", explain.key, "the person's HR key")->required();

  run_options plan;
  auto* plan_cmd = cli.add_subcommand("plan", "show what a sync would change (dry run); never writes to the portal");
  add_run_options(*plan_cmd, plan);
  plan_cmd->add_option("-o,--output", plan.output, "write the report to FILE instead of stdout");
  plan_cmd->add_flag("--detailed-exitcode", plan.detailed_exitcode, "exit 0: no changes, 2: changes, 3: guard tripped");

  run_options sync;
  auto* sync_cmd = cli.add_subcommand("sync", "plan, check the safety guards, and apply the changes to the portal");
  add_run_options(*sync_cmd, sync);
  sync_cmd->add_option("--plan", sync.plan_file,
                       "apply this reviewed JSON plan (from `plan --format json`) if the portal still matches it");
  sync_cmd->add_option("--report", sync.output, "write the run report to FILE instead of stdout");
  sync_cmd->add_flag("--yes", sync.yes, "do not ask for confirmation on a terminal");

  daemon_options daemon;
  auto* daemon_cmd = cli.add_subcommand("daemon", "sync on the configured schedule until stopped (systemd Type=notify)");
  daemon_cmd->add_option("-c,--config", daemon.config_path, "configuration file")->required();
  daemon_cmd->add_option("--max-runs", daemon.max_runs, "stop after N runs (0: run until SIGTERM)");

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = cli.exit(e);
    return rc == 0 ? 0 : to_int(exit_code::usage);
  }

  if (version->parsed()) {
    fmt::print("b24sync {}\n", B24SYNC_VERSION);
    return to_int(exit_code::ok);
  }
  log_options log{global.log_level, global.log_format, global.quiet};
  if (check_cmd->parsed()) return run_check(check, log);
  if (explain_cmd->parsed()) return run_explain(explain, log);
  plan.no_progress = sync.no_progress = global.no_progress;
  if (plan_cmd->parsed()) return run_plan(plan, log);
  if (sync_cmd->parsed()) return run_sync(sync, log);
  if (daemon_cmd->parsed()) return run_daemon(daemon, log);
  return to_int(exit_code::usage);
}

}  // namespace b24sync::app
