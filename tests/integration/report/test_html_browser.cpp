// Renders an HTML run report in headless Chromium and checks the page the browser built shows the
// summary numbers, and that hostile source text stayed text.
#include "report/report.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <system_error>

namespace fs = std::filesystem;
using namespace b24sync;

namespace {

// B24SYNC_CHROMIUM, else chromium or chromium-browser on PATH.
std::optional<fs::path> find_chromium() {
  if (const char* forced = std::getenv("B24SYNC_CHROMIUM"); forced != nullptr && *forced != '\0') return fs::path(forced);
  const char* path = std::getenv("PATH");
  if (path == nullptr) return std::nullopt;
  const std::string dirs(path);
  for (const char* name : {"chromium", "chromium-browser"}) {
    std::size_t start = 0;
    while (start <= dirs.size()) {
      const auto end = std::min(dirs.find(':', start), dirs.size());
      const fs::path candidate = fs::path(dirs.substr(start, end - start)) / name;
      if (!candidate.parent_path().empty() && ::access(candidate.c_str(), X_OK) == 0) return candidate;
      start = end + 1;
    }
  }
  return std::nullopt;
}

// A plan whose counts read like a morning's sync: 12 creates, 3 updates over 7 fields, ...
sync::plan known_plan() {
  sync::plan p;
  p.portal_url = "https://corp.bitrix24.ru";
  p.snapshot_fingerprint = "0123456789abcdef0123456789abcdef";
  p.created_at = "2026-12-01T06:00:00Z";
  auto user = [](sync::op_kind k, std::string key, std::optional<std::int64_t> id, std::string name, int fields) {
    sync::user_op op;
    op.kind = k;
    op.key = std::move(key);
    op.user_id = id;
    op.email = op.key + "@corp.ru";
    op.name = std::move(name);
    for (int i = 0; i < fields; ++i) {
      op.changes.push_back({"FIELD_" + std::to_string(i), "old", "new", std::string("new")});
    }
    return op;
  };
  p.users.push_back(user(sync::op_kind::create, "E100", std::nullopt, "<script>document.title='pwned'</script> Иванова", 3));
  p.users.push_back(user(sync::op_kind::update, "E200", 200, "Пётр Сидоров", 3));
  p.users.push_back(user(sync::op_kind::update, "E201", 201, "Анна Орлова", 2));
  p.users.push_back(user(sync::op_kind::update, "E202", 202, "Li Lee", 2));
  p.rejects.push_back({{"hr", "/srv/hr/export.csv", 17, ""}, "missing e-mail"});
  p.rejects.push_back({{"hr", "/srv/hr/export.csv", 18, ""}, "bad date"});
  auto& c = p.counts;
  c.create = 12, c.update = 3, c.reactivate = 1, c.deactivate = 2, c.unchanged = 980, c.skip = 4;
  c.source_rejects = 2;
  return p;
}

std::string slurp(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("headless Chromium renders the HTML report with its summary numbers") {
  const auto chromium = find_chromium();
  if (!chromium) {
    WARN_MESSAGE(false, "SKIPPED: chromium (or chromium-browser) is not on PATH; install the Debian package "
                        "`chromium` (scripts/bootstrap) to run this browser test");
    return;
  }

  const auto p = known_plan();
  sync::run_result r;
  r.users.resize(p.users.size());
  r.users[0].status = sync::op_status::done;
  r.users[1].status = sync::op_status::failed;
  r.users[1].error = "ERROR_CORE";
  r.users[2].status = sync::op_status::done;
  r.users[3].status = sync::op_status::recovered;
  r.stats.http_requests = 9;

  const fs::path dir = fs::temp_directory_path() / ("b24sync-report-browser-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path page = dir / "report.html";
  std::ofstream(page, std::ios::binary) << report::render_html(p, &r, {});

  // --dump-dom prints the DOM after load; a private profile keeps the run independent of $HOME.
  const fs::path dom_file = dir / "dom.html";
  const fs::path err_file = dir / "chromium.log";
  const std::string command = "'" + chromium->string() +
                              "' --headless --disable-gpu --no-sandbox --disable-dev-shm-usage --no-first-run "
                              "--user-data-dir='" + (dir / "profile").string() + "' --dump-dom 'file://" +
                              page.string() + "' >'" + dom_file.string() + "' 2>'" + err_file.string() + "'";
  const int status = std::system(command.c_str());
  const auto dom = slurp(dom_file);
  INFO("command: " << command);
  INFO("chromium stderr: " << slurp(err_file));
  REQUIRE(status == 0);
  REQUIRE_FALSE(dom.empty());

  CHECK(dom.find("id=\"summary\"") != std::string::npos);
  CHECK(dom.find("data-create=\"12\"") != std::string::npos);
  CHECK(dom.find("data-unchanged=\"980\"") != std::string::npos);
  CHECK(dom.find("id=\"count-create\">12<") != std::string::npos);
  CHECK(dom.find("id=\"count-deactivate\">2<") != std::string::npos);
  CHECK(dom.find("12 to create, 3 to update (7 fields), 1 to reactivate, 2 to deactivate, 980 unchanged, "
                 "4 skipped; 2 rejected rows") != std::string::npos);
  CHECK(dom.find("id=\"run-failed\">1<") != std::string::npos);
  CHECK(dom.find("<svg id=\"chart\"") != std::string::npos);
  // The surname's <script> is text in a cell, not an element; had it run, the title would say so.
  CHECK(dom.find("&lt;script&gt;document.title='pwned'&lt;/script&gt; Иванова") != std::string::npos);
  CHECK(dom.find("<script") == std::string::npos);
  CHECK(dom.find("pwned</title>") == std::string::npos);

  std::error_code ec;
  fs::remove_all(dir, ec);
}
