// Tests of the b24emu executable as a process: --port 0 with the announced URL and --port-file, a call
// through it, a clean exit on SIGTERM, and a refusal of bad input.
#include "emu_fixture.hpp"

#include <doctest/doctest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

using namespace emu_test;

namespace {

struct child {
  pid_t pid = -1;
  int out_fd = -1;  // the child's stdout

  explicit child(std::vector<std::string> args) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    out_fd = fds[0];
    REQUIRE(rc == 0);
  }

  // Reads stdout up to the first newline (blocks until the child prints it or exits).
  std::string first_line() const {
    std::string line;
    char ch = 0;
    while (::read(out_fd, &ch, 1) == 1 && ch != '\n') line += ch;
    return line;
  }

  int wait_exit() {
    int status = 0;
    ::waitpid(pid, &status, 0);
    pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  ~child() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    if (out_fd >= 0) ::close(out_fd);
  }
};

struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "b24emu-proc-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace

TEST_CASE("b24emu: --port 0 announces the URL, writes the port file, serves, and exits 0 on SIGTERM") {
  temp_dir dir;
  const auto seed = (dir.path / "seed.json").string();
  const auto port_file = (dir.path / "port").string();
  const auto log = (dir.path / "log.jsonl").string();
  std::ofstream(seed) << boost::json::serialize(small_seed());
  child emu({B24EMU_EXE, "--seed", seed, "--port", "0", "--port-file", port_file, "--log", log,
             "--no-rate-limit", "--cost", "user.get=0.25", "--time-scale", "1000"});
  const std::string line = emu.first_line();
  REQUIRE(line.rfind("b24emu listening on http://127.0.0.1:", 0) == 0);
  const std::string url = line.substr(std::string("b24emu listening on ").size());
  std::string port_text;
  std::ifstream(port_file) >> port_text;
  CHECK(url == "http://127.0.0.1:" + port_text);

  b24sync::test::test_http_client c(b24sync::test::options_from_url(url));
  CHECK(c.post_json(std::string(hook) + "user.current", "{}").status == 200);
  const auto limits = json_of(c.get("/emu/limits"));
  CHECK(limits.at("rate_enabled") == false);
  CHECK(limits.at("method_cost_s").at("user.get").to_number<double>() == doctest::Approx(0.25));
  CHECK(json_of(c.get("/emu/time")).at("time_scale").to_number<double>() == doctest::Approx(1000.0));

  REQUIRE(::kill(emu.pid, SIGTERM) == 0);
  CHECK(emu.wait_exit() == 0);
  std::ifstream in(log);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(all.find("/rest/1/***/user.current") != std::string::npos);
  CHECK(all.find(webhook_secret) == std::string::npos);
}

TEST_CASE("b24emu: a malformed fault spec is refused with exit status 1") {
  temp_dir dir;
  const auto faults = (dir.path / "faults.json").string();
  std::ofstream(faults) << R"({"rules": [{"fault": "teapot", "p": 1}]})";
  child emu({B24EMU_EXE, "--faults", faults, "--port", "0"});
  CHECK(emu.first_line().empty());
  CHECK(emu.wait_exit() == 1);
}
