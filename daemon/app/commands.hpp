// The commands behind the CLI's subcommands; each returns the process exit code (exit_codes.hpp).
#pragma once

#include "app/logging.hpp"

#include <string>

namespace b24sync::app {

struct check_options {
  std::string config_path;
};

struct explain_options {
  std::string config_path;
  std::string key;  // the HR key of the person to explain
};

// Config, sources, mapping and the portal (reachability, TLS, auth, rights, scope, counts); writes nothing.
int run_check(const check_options& options, const log_options& log);

// For one person: every source value, each transform step and the final desired fields.
int run_explain(const explain_options& options, const log_options& log);

}  // namespace b24sync::app
