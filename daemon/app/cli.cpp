// Command-line parsing (CLI11) and dispatch to the commands of design.md §3.
#include "app/cli.hpp"

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
  return to_int(exit_code::usage);
}

}  // namespace b24sync::app
