// Command-line parsing: exit codes for version, usage errors and help.
#include "app/cli.hpp"
#include "app/exit_codes.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace {

int run(std::vector<std::string> args) {
  args.insert(args.begin(), "b24sync");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return b24sync::app::run_cli(static_cast<int>(argv.size()), argv.data());
}

}  // namespace

TEST_CASE("version subcommand exits 0") { CHECK(run({"version"}) == 0); }

TEST_CASE("no subcommand is a usage error (64)") {
  CHECK(run({}) == b24sync::app::to_int(b24sync::app::exit_code::usage));
}

TEST_CASE("unknown option is a usage error (64)") {
  CHECK(run({"version", "--no-such-flag"}) == b24sync::app::to_int(b24sync::app::exit_code::usage));
}

TEST_CASE("--help exits 0") { CHECK(run({"--help"}) == 0); }

TEST_CASE("check and explain without -c are usage errors (64)") {
  CHECK(run({"check"}) == b24sync::app::to_int(b24sync::app::exit_code::usage));
  CHECK(run({"explain", "0001"}) == b24sync::app::to_int(b24sync::app::exit_code::usage));
}

TEST_CASE("check with a config file that does not exist is a configuration error (78)") {
  CHECK(run({"check", "-c", "/nonexistent/b24sync.yaml"}) == b24sync::app::to_int(b24sync::app::exit_code::config));
}
