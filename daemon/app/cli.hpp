// The b24sync command line: parses argv, dispatches to a command, returns the process exit code.
#pragma once

namespace b24sync::app {

// Never throws: every failure is reported on stderr and mapped to an exit code (exit_codes.hpp).
int run_cli(int argc, char** argv);

}  // namespace b24sync::app
