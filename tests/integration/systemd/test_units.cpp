// The unit files in systemd/: static content checks (always), `systemd-analyze verify` and
// `systemd-analyze security --offline=true` (exposure <= 2.0) where systemd-analyze is installed.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

const fs::path units_dir{B24SYNC_SYSTEMD_DIR};
const std::vector<std::string> services{"b24sync.service", "b24sync-sync.service", "b24sync@.service"};
const std::vector<std::string> all_units{"b24sync.service", "b24sync-sync.service", "b24sync@.service",
                                         "b24sync.timer"};

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot read " << p.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  REQUIRE(out.good());
}

// The unit's non-comment "Key=value" lines, in order (several lines may share a key).
std::vector<std::string> values_of(const std::string& unit_text, const std::string& key) {
  std::vector<std::string> out;
  std::istringstream in(unit_text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key + "=", 0) == 0) out.push_back(line.substr(key.size() + 1));
  }
  return out;
}

std::optional<fs::path> find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const fs::path candidate = fs::path(dir.empty() ? "." : dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

struct command_result {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs a shell command line (arguments quoted by the caller) and collects its output and exit status.
command_result run(const std::string& command_line) {
  command_result r;
  FILE* pipe = ::popen(("SYSTEMD_COLORS=0 SYSTEMD_PAGER=cat " + command_line + " 2>&1").c_str(), "r");
  REQUIRE_MESSAGE(pipe != nullptr, "popen failed for " << command_line);
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string quoted(const fs::path& p) { return "'" + p.string() + "'"; }

// A scratch copy of systemd/ whose ExecStart= names an executable that exists here. `verify` rejects a
// unit whose binary is missing, and the units name the installed /usr/bin/b24sync. We substitute this
// test's own executable rather than the built b24sync: the check is about the unit files, and it must
// not depend on the whole daemon compiling (or on /bin/true's location). Everything else, including
// ExecReload=/bin/kill, is verified as shipped.
struct unit_copy {
  fs::path dir;
  unit_copy() {
    char tmpl[] = "/tmp/b24sync-units-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    const fs::path self = fs::read_symlink("/proc/self/exe");
    for (const auto& name : all_units) {
      std::string text = read_text(units_dir / name);
      for (std::size_t at = 0; (at = text.find("/usr/bin/b24sync", at)) != std::string::npos;) {
        text.replace(at, 16, self.string());
        at += self.string().size();
      }
      write_text(dir / name, text);
    }
  }
  ~unit_copy() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  unit_copy(const unit_copy&) = delete;
  unit_copy& operator=(const unit_copy&) = delete;
};

// systemd-analyze, or nullopt after saying loudly why the check is skipped (doctest has no skip).
std::optional<fs::path> analyzer() {
  auto found = find_on_path("systemd-analyze");
  if (!found) {
    MESSAGE("SKIPPED: systemd-analyze is not installed (Debian package `systemd`); unit files not verified");
    std::fprintf(stderr, "SKIPPED: systemd-analyze not found on PATH\n");
  }
  return found;
}

// "→ Overall exposure level for b24sync.service: 1.1 OK 🙂" -> 1.1
std::optional<double> overall_exposure(const std::string& output) {
  const std::string marker = "Overall exposure level for ";
  const auto at = output.find(marker);
  if (at == std::string::npos) return std::nullopt;
  const auto colon = output.find(": ", at);
  if (colon == std::string::npos) return std::nullopt;
  char* end = nullptr;
  const std::string rest = output.substr(colon + 2, 16);
  const double v = std::strtod(rest.c_str(), &end);
  if (end == rest.c_str()) return std::nullopt;
  return v;
}

}  // namespace

TEST_CASE("every service unit carries the agreed hardening and the webhook credential") {
  for (const auto& name : services) {
    CAPTURE(name);
    const std::string text = read_text(units_dir / name);
    CHECK(values_of(text, "DynamicUser") == std::vector<std::string>{"yes"});
    CHECK(values_of(text, "ProtectSystem") == std::vector<std::string>{"strict"});
    CHECK(values_of(text, "ProtectHome") == std::vector<std::string>{"yes"});
    CHECK(values_of(text, "NoNewPrivileges") == std::vector<std::string>{"yes"});
    CHECK(values_of(text, "CapabilityBoundingSet") == std::vector<std::string>{""});
    CHECK(values_of(text, "AmbientCapabilities") == std::vector<std::string>{""});
    CHECK(values_of(text, "RestrictAddressFamilies") == std::vector<std::string>{"AF_UNIX AF_INET AF_INET6"});
    CHECK(values_of(text, "SystemCallFilter").front() == "@system-service");
    CHECK(values_of(text, "UMask") == std::vector<std::string>{"0077"});
    REQUIRE(values_of(text, "LoadCredential").size() == 1);
    CHECK(values_of(text, "LoadCredential").front().rfind("webhook:/etc/b24sync/", 0) == 0);
    REQUIRE(values_of(text, "ExecStart").size() == 1);
    CHECK(values_of(text, "ExecStart").front().rfind("/usr/bin/b24sync ", 0) == 0);
  }
}

TEST_CASE("the daemon units notify systemd and reload on SIGHUP; the template is per instance") {
  for (const std::string name : {"b24sync.service", "b24sync@.service"}) {
    CAPTURE(name);
    const std::string text = read_text(units_dir / name);
    CHECK(values_of(text, "Type") == std::vector<std::string>{"notify"});
    CHECK(values_of(text, "ExecReload") == std::vector<std::string>{"/bin/kill -HUP $MAINPID"});
    CHECK(values_of(text, "Restart") == std::vector<std::string>{"on-failure"});
    CHECK(values_of(text, "WatchdogSec").size() == 1);
    CHECK(values_of(text, "TimeoutStopSec").size() == 1);
  }
  const std::string tmpl = read_text(units_dir / "b24sync@.service");
  CHECK(values_of(tmpl, "ExecStart").front() == "/usr/bin/b24sync daemon -c /etc/b24sync/%i.yaml");
  CHECK(values_of(tmpl, "StateDirectory") == std::vector<std::string>{"b24sync/%i"});
  CHECK(values_of(tmpl, "LoadCredential") == std::vector<std::string>{"webhook:/etc/b24sync/%i.webhook"});
}

TEST_CASE("the timer starts the one-shot sync service every 15 minutes and catches up") {
  const std::string timer = read_text(units_dir / "b24sync.timer");
  CHECK(values_of(timer, "Unit") == std::vector<std::string>{"b24sync-sync.service"});
  CHECK(values_of(timer, "OnCalendar") == std::vector<std::string>{"*:0/15"});
  CHECK(values_of(timer, "Persistent") == std::vector<std::string>{"true"});
  CHECK(values_of(timer, "RandomizedDelaySec").size() == 1);
  const std::string oneshot = read_text(units_dir / "b24sync-sync.service");
  CHECK(values_of(oneshot, "Type") == std::vector<std::string>{"oneshot"});
  CHECK(values_of(oneshot, "ExecStart").front().rfind("/usr/bin/b24sync sync -c /etc/b24sync/b24sync.yaml", 0) == 0);
}

TEST_CASE("systemd-analyze verify accepts every unit without a single complaint") {
  const auto tool = analyzer();
  if (!tool) return;
  const unit_copy copy;
  for (const auto& name : all_units) {
    CAPTURE(name);
    const auto r = run(quoted(*tool) + " verify " + quoted(copy.dir / name));
    CAPTURE(r.output);
    CHECK(r.exit_code == 0);
    // verify exits 0 on an unknown key or a bad value (it only warns), so any output is a failure.
    CHECK(r.output.empty());
  }
}

TEST_CASE("systemd-analyze verify reports a misspelt directive (the check above can fail)") {
  const auto tool = analyzer();
  if (!tool) return;
  const unit_copy copy;
  std::string text = read_text(copy.dir / "b24sync.service");
  text.replace(text.find("ProtectSystem="), 14, "ProtectSystm=");
  write_text(copy.dir / "b24sync.service", text);
  const auto r = run(quoted(*tool) + " verify " + quoted(copy.dir / "b24sync.service"));
  CHECK(r.output.find("ProtectSystm") != std::string::npos);
}

TEST_CASE("systemd-analyze security rates every service 2.0 or lower") {
  const auto tool = analyzer();
  if (!tool) return;
  const unit_copy copy;
  // The template is rated as an instance, the way it runs.
  fs::copy_file(copy.dir / "b24sync@.service", copy.dir / "b24sync@corp.service");
  for (const std::string name : {"b24sync.service", "b24sync-sync.service", "b24sync@corp.service"}) {
    CAPTURE(name);
    const auto r = run(quoted(*tool) + " security --offline=true " + quoted(copy.dir / name));
    const auto level = overall_exposure(r.output);
    if (level) MESSAGE(name << ": overall exposure " << *level);  // before CAPTURE: without the table
    CAPTURE(r.output);
    REQUIRE_MESSAGE(level.has_value(), "no \"Overall exposure level\" line");
    CHECK(*level <= 2.0);
  }
}

TEST_CASE("systemd-analyze security rates an unhardened service above 2.0 (the check above can fail)") {
  const auto tool = analyzer();
  if (!tool) return;
  const unit_copy copy;
  write_text(copy.dir / "plain.service", "[Service]\nExecStart=/bin/kill -l\n");
  const auto r = run(quoted(*tool) + " security --offline=true " + quoted(copy.dir / "plain.service"));
  const auto level = overall_exposure(r.output);
  REQUIRE(level.has_value());
  CHECK(*level > 2.0);
}
