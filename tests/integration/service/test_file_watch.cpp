// file_watch on a real folder: bursts of writes and renames become one debounced delivery. The quiet
// period is tiny and the io_context runs under run_for bounds (the handler stops it), so no sleeps.
#include "app/file_watch.hpp"

#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

using namespace std::chrono;
namespace fs = std::filesystem;
namespace app = b24sync::app;

namespace {

struct temp_dir {
  fs::path path;
  temp_dir() {
    char tmpl[] = "/tmp/b24sync-watch-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
};

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  REQUIRE(out.good());
}

// Exports are usually written to a temporary name and renamed over the old file.
void replace_by_rename(const fs::path& p, const std::string& text) {
  const fs::path tmp = p.string() + ".tmp";
  write_file(tmp, text);
  fs::rename(tmp, p);
}

constexpr milliseconds quiet{50};
constexpr auto bound = seconds{10};  // never reached unless the watch is broken

struct recorder {
  boost::asio::io_context io;
  std::vector<std::vector<fs::path>> deliveries;

  app::file_watch::handler handler() {
    return [this](const std::vector<fs::path>& changed) {
      deliveries.push_back(changed);
      io.stop();  // let run_for return as soon as something arrived
    };
  }
  // Runs until a delivery stops the loop, or `limit` passes.
  void run(steady_clock::duration limit) {
    io.restart();
    io.run_for(limit);
  }
};

}  // namespace

TEST_CASE("a burst of writes and a rename over a watched file is delivered once") {
  temp_dir dir;
  const fs::path csv = dir.path / "export.csv";
  write_file(csv, "id;name\n");
  recorder rec;
  app::file_watch watch(rec.io, {{csv}, quiet, seconds{60}}, rec.handler());
  REQUIRE(watch.watching() == 1);
  watch.start();

  write_file(csv, "id;name\n1;Anna\n");
  write_file(csv, "id;name\n1;Anna\n2;Boris\n");
  replace_by_rename(csv, "id;name\n1;Anna\n2;Boris\n3;Vera\n");
  rec.run(bound);
  REQUIRE(rec.deliveries.size() == 1);
  CHECK(rec.deliveries[0] == std::vector<fs::path>{csv});

  // Nothing more comes of that burst: several quiet periods pass without a second delivery.
  rec.run(quiet * 6);
  CHECK(rec.deliveries.size() == 1);

  // A later change is a new delivery.
  replace_by_rename(csv, "id;name\n");
  rec.run(bound);
  CHECK(rec.deliveries.size() == 2);
}

TEST_CASE("changes to other files in the watched folder are ignored") {
  temp_dir dir;
  const fs::path csv = dir.path / "export.csv";
  write_file(csv, "x\n");
  recorder rec;
  app::file_watch watch(rec.io, {{csv}, quiet, seconds{60}}, rec.handler());
  watch.start();

  write_file(dir.path / "other.csv", "y\n");
  replace_by_rename(dir.path / "notes.txt", "z\n");  // "notes.txt.tmp" and "notes.txt": neither watched
  rec.run(quiet * 6);
  CHECK(rec.deliveries.empty());

  write_file(csv, "x2\n");  // the watch is alive: this one counts
  rec.run(bound);
  CHECK(rec.deliveries.size() == 1);
}

TEST_CASE("changes to files in two folders arrive together in one delivery") {
  temp_dir a;
  temp_dir b;
  const fs::path hr = a.path / "hr.csv";
  const fs::path ad = b.path / "ad.ldif";
  write_file(hr, "1\n");
  write_file(ad, "dn: x\n");
  recorder rec;
  app::file_watch watch(rec.io, {{hr, ad}, quiet, seconds{60}}, rec.handler());
  CHECK(watch.watching() == 2);
  watch.start();

  write_file(hr, "2\n");
  replace_by_rename(ad, "dn: y\n");
  rec.run(bound);
  REQUIRE(rec.deliveries.size() == 1);
  auto changed = rec.deliveries[0];
  std::sort(changed.begin(), changed.end());
  auto expected = std::vector<fs::path>{hr, ad};
  std::sort(expected.begin(), expected.end());
  CHECK(changed == expected);
}

TEST_CASE("a newly created watched file counts as a change; stop() ends deliveries") {
  temp_dir dir;
  const fs::path csv = dir.path / "later.csv";  // does not exist yet: its folder does
  recorder rec;
  app::file_watch watch(rec.io, {{csv}, quiet, seconds{60}}, rec.handler());
  watch.start();
  write_file(csv, "");
  rec.run(bound);
  CHECK(rec.deliveries.size() == 1);

  watch.stop();
  write_file(csv, "after stop\n");
  rec.run(quiet * 6);
  CHECK(rec.deliveries.size() == 1);
}

TEST_CASE("a file in a folder that does not exist cannot be watched") {
  boost::asio::io_context io;
  CHECK_THROWS_WITH_AS(app::file_watch(io, {{"/nonexistent-b24sync-dir/export.csv"}, quiet, seconds{60}},
                                       [](const std::vector<fs::path>&) {}),
                       doctest::Contains("cannot watch folder /nonexistent-b24sync-dir"), std::system_error);
}
