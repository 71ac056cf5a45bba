// `b24sync check` and `b24sync explain` as a user runs them: the real executable, the demo config and
// sources, and the portal emulator on a loopback port. Asserts exit codes, output and secrecy.
#include "server/server.hpp"

#include <boost/json/parse.hpp>
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace fs = std::filesystem;

namespace {

const fs::path demo_dir = fs::path(B24SYNC_TEST_DATA_DIR) / "demo";
constexpr const char* webhook_code = "demo0webhook0secret";

std::string read_file(const fs::path& p) {
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

  demo_env() : work(make_work()), emu(options()) { emu.start(); }
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
  static b24emu::server_options options() {
    b24emu::server_options o;
    o.seed = boost::json::parse(read_file(demo_dir / "portal.json"));
    return o;
  }

  void write_webhook(const std::string& content) {
    fs::path p = work / "webhook";
    std::ofstream(p, std::ios::trunc) << content << '\n';
    ::chmod(p.c_str(), 0600);
  }

  run_result run(const std::string& args) {
    std::string cmd = "B24_DEMO_PORTAL='" + emu.base_url() + "' B24_DEMO_WEBHOOK_FILE='" + (work / "webhook").string() +
                      "' B24_DEMO_WORK='" + work.string() + "' '" + B24SYNC_EXE + "' " + args + " 2>&1";
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

  // A copy of the demo config with `from` replaced by `to`, next to the demo sources.
  fs::path config_variant(const std::string& from, const std::string& to) {
    std::string text = read_file(demo_dir / "b24sync.yaml");
    auto pos = text.find(from);
    REQUIRE(pos != std::string::npos);
    text.replace(pos, from.size(), to);
    fs::path p = demo_dir / ("test-variant-" + std::to_string(::getpid()) + ".yaml");
    std::ofstream(p, std::ios::trunc) << text;
    variants_.push_back(p);
    return p;
  }

  std::vector<fs::path> variants_;
};

struct variant_cleanup {
  demo_env& env;
  ~variant_cleanup() {
    for (const auto& p : env.variants_) fs::remove(p);
  }
};

std::string demo_config() { return (demo_dir / "b24sync.yaml").string(); }

}  // namespace

TEST_CASE("check on the demo config and portal: every check passes, exit 0, the secret never printed") {
  demo_env env;
  env.write_webhook(std::string("1/") + webhook_code);
  auto r = env.run("check -c '" + demo_config() + "'");
  INFO(r.output);
  CHECK(r.exit == 0);
  CHECK(r.output.find("verdict: OK") != std::string::npos);
  CHECK(r.output.find("source  zup (csv)") != std::string::npos);
  CHECK(r.output.find("cp1251") != std::string::npos);           // auto-detected from the 1C export
  CHECK(r.output.find("10 (dismissed included)") != std::string::npos);  // all seeded users, extranet too
  CHECK(r.output.find("as user 1 ") != std::string::npos);
  CHECK(r.output.find("FAILED") == std::string::npos);
  CHECK(r.output.find(webhook_code) == std::string::npos);
  // The bad rows of the demo export are reported with file:line.
  CHECK(r.output.find("hr.csv:12") != std::string::npos);
}

TEST_CASE("check with a wrong webhook code: auth fails, exit 69, neither code printed") {
  demo_env env;
  env.write_webhook("1/wrong0code0here");
  auto r = env.run("check -c '" + demo_config() + "'");
  INFO(r.output);
  CHECK(r.exit == 69);
  CHECK(r.output.find("FAILED") != std::string::npos);
  CHECK(r.output.find("wrong0code0here") == std::string::npos);
  CHECK(r.output.find(webhook_code) == std::string::npos);
}

TEST_CASE("check with a misspelt config key: exit 78 naming file, line and the likely key") {
  demo_env env;
  variant_cleanup cleanup{env};
  env.write_webhook(std::string("1/") + webhook_code);
  auto cfg = env.config_variant("  on_missing: ignore", "  on_mising: ignore");
  auto r = env.run("check -c '" + cfg.string() + "'");
  INFO(r.output);
  CHECK(r.exit == 78);
  CHECK(r.output.find(cfg.filename().string() + ":") != std::string::npos);
  CHECK(r.output.find("on_missing") != std::string::npos);  // the "did you mean" hint
}

TEST_CASE("check with a missing source file: exit 65 naming the file") {
  demo_env env;
  variant_cleanup cleanup{env};
  env.write_webhook(std::string("1/") + webhook_code);
  auto cfg = env.config_variant("path: hr.csv", "path: no-such-export.csv");
  auto r = env.run("check -c '" + cfg.string() + "'");
  INFO(r.output);
  CHECK(r.exit == 65);
  CHECK(r.output.find("no-such-export.csv") != std::string::npos);
}

TEST_CASE("check against a portal that is not listening: exit 69") {
  demo_env env;
  env.write_webhook(std::string("1/") + webhook_code);
  env.emu.stop();
  auto r = env.run("check -c '" + demo_config() + "'");
  INFO(r.output);
  CHECK(r.exit == 69);
}

TEST_CASE("explain shows each step from the 1C export to Bitrix24 fields") {
  demo_env env;
  env.write_webhook(std::string("1/") + webhook_code);
  auto r = env.run("explain -c '" + demo_config() + "' 0003");
  INFO(r.output);
  CHECK(r.exit == 0);
  CHECK(r.output.find("СМИРНОВА") != std::string::npos);                  // the source value
  CHECK(r.output.find("LAST_NAME = Смирнова") != std::string::npos);     // after trim | title
  CHECK(r.output.find("EMAIL = hr@romashka.example") != std::string::npos);

  auto missing = env.run("explain -c '" + demo_config() + "' 9999");
  CHECK(missing.exit == 64);
}
