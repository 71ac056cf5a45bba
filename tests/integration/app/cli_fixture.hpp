// tests/integration/app/cli_fixture.hpp: the b24sync executable run as a user runs it, against the
// in-process portal emulator seeded with the demo portal, in a throwaway work folder.
#pragma once

#include "server/server.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace b24test_cli {

namespace fs = std::filesystem;

inline const fs::path demo_dir = fs::path(B24SYNC_TEST_DATA_DIR) / "demo";
inline constexpr const char* webhook_code = "demo0webhook0secret";

inline std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct run_result {
  int exit = -1;
  std::string output;  // stdout and stderr together
};

// A temp folder with a webhook file (mode 0600) and the emulator seeded with the demo portal.
struct demo_env {
  fs::path work;
  b24emu::server emu;

  explicit demo_env(double time_scale = 1) : work(make_work()), emu(options(time_scale)) { emu.start(); }
  ~demo_env() {
    emu.stop();
    std::error_code ec;
    fs::remove_all(work, ec);
  }

  static fs::path make_work() {
    std::string tmpl = (fs::temp_directory_path() / "b24sync-cli-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    return tmpl;
  }
  static b24emu::server_options options(double time_scale) {
    b24emu::server_options o;
    o.seed = boost::json::parse(read_file(demo_dir / "portal.json"));
    o.time_scale = time_scale;
    return o;
  }

  void write_webhook(const std::string& content) {
    fs::path p = work / "webhook";
    std::ofstream(p, std::ios::trunc) << content << '\n';
    ::chmod(p.c_str(), 0600);
  }

  std::string env_prefix() const {
    return "B24_DEMO_PORTAL='" + emu.base_url() + "' B24_DEMO_WEBHOOK_FILE='" + (work / "webhook").string() +
           "' B24_DEMO_WORK='" + work.string() + "' ";
  }

  run_result run(const std::string& args) {
    std::string cmd = env_prefix() + "'" + B24SYNC_EXE + "' " + args + " 2>&1";
    run_result r;
    FILE* pipe = ::popen(cmd.c_str(), "r");
    REQUIRE(pipe != nullptr);
    std::array<char, 4096> buf{};
    std::size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
    int status = ::pclose(pipe);
    r.exit = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
  }

  // Starts b24sync without waiting (output to work/spawn.log); returns its PID.
  pid_t spawn(const std::vector<std::string>& args, const std::vector<std::string>& extra_env = {}) {
    std::vector<std::string> env_strings = extra_env;
    env_strings.insert(env_strings.end(), {"B24_DEMO_PORTAL=" + emu.base_url(),
                                            "B24_DEMO_WEBHOOK_FILE=" + (work / "webhook").string(),
                                            "B24_DEMO_WORK=" + work.string()});
    for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> argv_strings = {B24SYNC_EXE};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& s : argv_strings) argv.push_back(s.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    const std::string log = (work / "spawn.log").string();
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, B24SYNC_EXE, &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    REQUIRE(rc == 0);
    return pid;
  }

  // Waits for a spawned process; returns its exit code, or -signal when killed.
  static int wait_for(pid_t pid) {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return WIFSIGNALED(status) ? -WTERMSIG(status) : -1000;
  }

  fs::path write_work_file(const std::string& name, const std::string& content) {
    fs::path p = work / name;
    std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
    return p;
  }

  // A copy of the demo config with `from` replaced by `to`, in the work directory next to copies of
  // the demo sources (relative source paths resolve as for the demo config; tests never write into
  // the source tree, which may be read-only).
  fs::path config_variant(const std::string& from, const std::string& to) {
    std::string text = read_file(demo_dir / "b24sync.yaml");
    auto pos = text.find(from);
    REQUIRE(pos != std::string::npos);
    text.replace(pos, from.size(), to);
    for (const char* source : {"hr.csv", "ad.ldif"})
      fs::copy_file(demo_dir / source, work / source, fs::copy_options::skip_existing);
    fs::path p = work / ("variant-" + std::to_string(variants_++) + ".yaml");  // removed with `work`
    std::ofstream(p, std::ios::trunc) << text;
    return p;
  }

  // Portal users by ID, as the emulator holds them.
  std::map<std::int64_t, boost::json::object> users() {
    auto dump = emu.with_portal([](b24emu::portal& p) { return p.dump_users(); });
    std::map<std::int64_t, boost::json::object> out;
    for (auto& u : dump.as_array()) out[u.at("ID").to_number<std::int64_t>()] = u.as_object();
    return out;
  }
  // user.add / user.update / department.add calls the portal applied since the start.
  std::int64_t writes() { return emu.stats().at("writes").to_number<std::int64_t>(); }
  std::size_t invitations() {
    return emu.with_portal([](b24emu::portal& p) { return p.invitations().as_array().size(); });
  }
  void faults(const std::string& spec) { emu.set_faults(b24emu::parse_fault_spec(boost::json::parse(spec))); }

  std::size_t variants_ = 0;  // config_variant() files written so far
};

inline std::string demo_config() { return (demo_dir / "b24sync.yaml").string(); }

}  // namespace b24test_cli
