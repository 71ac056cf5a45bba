// bench_diff: make_plan on N desired people vs N portal users (10 mapped fields incl. department and
// phones, 1% changed), one thread, best of 3, with peak RSS (VmHWM) before inputs, after inputs and
// after planning. Usage: bench_diff [--people N] [--rounds R]   (default 1,000,000 and 3)
#include "common/huge_pages.hpp"
#include "tests/bench/bench_people.hpp"
#include "sync/diff.hpp"

#include <CLI/CLI.hpp>

#include <boost/json/value.hpp>

#include <malloc.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

using namespace b24sync;
using namespace std::chrono;
using bench::first_names;
using bench::last_names;
using bench::middle_names;
using bench::num;
using bench::thread_cpu;
using bench::titles;

namespace {

// Peak resident set size so far, bytes (VmHWM in /proc/self/status).
std::size_t peak_rss() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  return 0;
}

// How fast this machine is now (a shared, loaded one can be several times slower than an idle
// core): CPU seconds to build and free 10^6 heap strings of 40 bytes, in a child process so that
// neither its memory nor its freed heap touch this process's figures. Compare this line between
// machines before comparing the make_plan figure.
double calibrate() {
  int fds[2];
  if (::pipe(fds) != 0) return -1;
  const pid_t pid = ::fork();
  if (pid == 0) {
    const double c0 = thread_cpu();
    {
      std::vector<std::string> strings;
      strings.reserve(1'000'000);
      for (std::size_t i = 0; i < 1'000'000; ++i) strings.emplace_back(40, static_cast<char>('a' + i % 26));
    }
    const double used = thread_cpu() - c0;
    (void)!::write(fds[1], &used, sizeof used);
    ::_exit(0);
  }
  ::close(fds[1]);
  double used = -1;
  if (pid > 0 && ::read(fds[0], &used, sizeof used) != static_cast<ssize_t>(sizeof used)) used = -1;
  ::close(fds[0]);
  if (pid > 0) ::waitpid(pid, nullptr, 0);
  return used;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_diff: make_plan on N desired vs N portal users"};
  std::size_t n = 1'000'000;
  int rounds = 3;
  app.add_option("--people", n, "desired people and portal users");
  app.add_option("--rounds", rounds, "make_plan runs; the best is reported");
  CLI11_PARSE(app, argc, argv);

  const double calibration_before = calibrate();
  const std::size_t rss_start = peak_rss();
  const std::string yaml = std::string{bench::people_yaml} + "policy:\n  max_deactivations: \"5%\"\n";
  const config::config cfg = config::parse_config(yaml, "bench.yaml").cfg;

  // Departments: Company > 10 divisions > 20 stores each.
  bitrix::snapshot portal;
  portal.departments.push_back({bitrix::department_id{1}, "Компания", std::nullopt, 500, std::nullopt});
  std::vector<config::department_path> paths;
  std::vector<std::int64_t> path_ids;
  for (int d = 0; d < 10; ++d) {
    const std::int64_t div = 10 + d * 100;
    portal.departments.push_back({bitrix::department_id{div}, "Дирекция " + std::to_string(d),
                                  bitrix::department_id{1}, 500, std::nullopt});
    for (int g = 0; g < 20; ++g) {
      // Store-like names that differ only in the middle: a department cache hashing only the ends of
      // a name (as it once did) would put each division's 20 stores in one bucket.
      const std::string group = "Магазин №" + num(static_cast<std::size_t>(div + 1 + g), 4) + " Москва";
      portal.departments.push_back({bitrix::department_id{div + 1 + g}, group, bitrix::department_id{div}, 500,
                                    std::nullopt});
      paths.push_back({{"Дирекция " + std::to_string(d), group}});
      path_ids.push_back(div + 1 + g);
    }
  }

  config::mapping_result desired;
  // Laid out as the snapshot and the mapping lay them out (huge pages where the kernel offers them).
  common::reserve_huge(desired.people, n);
  common::reserve_huge(portal.users, n);
  std::size_t expect_update = 0, expect_create = 0, expect_deactivate = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::string key = "E" + num(i, 7);
    const std::string email = "user" + num(i, 7) + "@corp.example";
    const std::string mobile = "+7916" + num(i, 7);
    const std::string phone = "+7495" + num(i % 10'000'000, 7);
    const year_month_day birth{year{1960 + static_cast<int>(i % 40)}, month{static_cast<unsigned>(1 + i % 12)},
                               day{static_cast<unsigned>(1 + i % 28)}};
    const std::size_t dept = i % paths.size();
    const bool create = i % 1000 == 1;      // 0.1%: a new hire not on the portal
    const bool deactivate = i % 1000 == 2;  // 0.1%: a leaver missing from the source
    const bool update = i % 100 == 0;       // 1%: a changed position and phone format

    if (!deactivate) {
      config::desired_person p;
      p.key = key;
      p.fields.set("EMAIL", email);
      p.fields.set("NAME", std::string{first_names[i % 8]});
      p.fields.set("LAST_NAME", std::string{last_names[i % 7]});
      p.fields.set("SECOND_NAME", std::string{middle_names[i % 5]});
      p.fields.set("WORK_POSITION", std::string{titles[(i + (update ? 1 : 0)) % 5]});
      p.fields.set("PERSONAL_MOBILE", mobile);
      p.fields.set("WORK_PHONE", phone);
      p.fields.set("PERSONAL_BIRTHDAY", birth);
      p.fields.set("UF_DEPARTMENT", config::department_list{paths[dept]});
      p.fields.set("UF_USR_HR_ID", key);
      p.origins.push_back({"hr", "/srv/hr/export.csv", i + 2, {}});
      p.fields.shrink_to_fit();
      desired.people.push_back(std::move(p));
      if (create) ++expect_create;
      if (update && !create) ++expect_update;
    } else {
      ++expect_deactivate;
    }
    if (!create) {
      bitrix::portal_user u;
      u.id = bitrix::user_id{static_cast<std::int64_t>(i + 1)};
      // The portal keeps phones as people typed them: every 7th in a national format.
      const std::string typed_mobile =
          i % 7 == 0 ? "8 (916) " + num(i, 7).substr(0, 3) + "-" + num(i, 7).substr(3) : mobile;
      std::array<std::string_view, bitrix::user_text_count> texts{};  // as the snapshot reader fills a user
      texts[static_cast<std::size_t>(bitrix::user_text::email)] = email;
      texts[static_cast<std::size_t>(bitrix::user_text::name)] = first_names[i % 8];
      texts[static_cast<std::size_t>(bitrix::user_text::last_name)] = last_names[i % 7];
      texts[static_cast<std::size_t>(bitrix::user_text::second_name)] = middle_names[i % 5];
      texts[static_cast<std::size_t>(bitrix::user_text::work_position)] = titles[i % 5];
      texts[static_cast<std::size_t>(bitrix::user_text::personal_mobile)] = typed_mobile;
      texts[static_cast<std::size_t>(bitrix::user_text::work_phone)] = phone;
      u.texts.assign(texts);
      u.personal_birthday = birth;
      u.departments.push_back(bitrix::department_id{path_ids[dept]});
      u.uf.emplace("UF_USR_HR_ID", boost::json::value(key));
      u.type = bitrix::user_type::employee;
      portal.users.push_back(std::move(u));
    }
  }
  const std::size_t rss_inputs = peak_rss();
  const std::size_t heap_inputs = mallinfo2().uordblks;
  std::printf("inputs: heap in use %.1f MiB (%.0f B/user), sizeof desired_person %zu, portal_user %zu\n",
              heap_inputs / 1048576.0, static_cast<double>(heap_inputs) / static_cast<double>(n),
              sizeof(config::desired_person), sizeof(bitrix::portal_user));

  sync::diff_input in;
  in.cfg = &cfg;
  in.desired = &desired;
  in.portal = &portal;
  double best = 1e9, best_cpu = 1e9;
  sync::plan_counts counts;
  for (int r = 0; r < rounds; ++r) {
    const auto t0 = steady_clock::now();
    const double c0 = thread_cpu();
    sync::plan p = sync::make_plan(in);
    const double cpu = thread_cpu() - c0;
    const double s = duration<double>(steady_clock::now() - t0).count();
    best = std::min(best, s);
    best_cpu = std::min(best_cpu, cpu);
    counts = p.counts;
    std::printf("round %d: %.3f s wall, %.3f s CPU\n", r + 1, s, cpu);
  }
  const std::size_t rss_plan = peak_rss();

  std::printf("people %zu, portal users %zu, departments %zu\n", desired.people.size(), portal.users.size(),
              portal.departments.size());
  std::printf("plan: create %zu (expected %zu), update %zu (expected %zu), deactivate %zu (expected %zu), "
              "unchanged %zu, skip %zu, field changes %zu\n",
              counts.create, expect_create, counts.update, expect_update, counts.deactivate, expect_deactivate,
              counts.unchanged, counts.skip, counts.field_changes);
  std::printf("make_plan best of %d: %.3f s wall, %.3f s CPU (target <= 1 s for 1,000,000)\n", rounds, best,
              best_cpu);
  const double per = static_cast<double>(n);
  std::printf("peak RSS: start %.1f MiB, inputs %.1f MiB, after plan %.1f MiB\n", rss_start / 1048576.0,
              rss_inputs / 1048576.0, rss_plan / 1048576.0);
  std::printf("bytes per user: diff alone %.0f, inputs %.0f, everything %.0f (target <= 1024)\n",
              (rss_plan - rss_inputs) / per, (rss_inputs - rss_start) / per, rss_plan / per);
  std::printf("calibration: 1,000,000 heap strings of 40 bytes built and freed in %.3f s CPU before the run, "
              "%.3f s after\n",
              calibration_before, calibrate());
  const bool ok = counts.create == expect_create && counts.update == expect_update &&
                  counts.deactivate == expect_deactivate;
  if (!ok) std::printf("UNEXPECTED PLAN COUNTS\n");
  return ok ? 0 : 1;
}
