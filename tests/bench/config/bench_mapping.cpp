// bench_mapping: map_records on N source records (one CSV-like source, 10 mapped fields incl. a
// department path, two phones and a date), one thread, best of R, with the heap the people hold.
// Usage: bench_mapping [--people N] [--rounds R]   (default 1,000,000 and 3)
#include "config/mapping.hpp"
#include "tests/bench/bench_people.hpp"

#include <CLI/CLI.hpp>

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

using namespace b24sync;
using namespace std::chrono;
using namespace b24sync::bench;

int main(int argc, char** argv) {
  CLI::App app{"bench_mapping: map_records on N source records"};
  std::size_t n = 1'000'000;
  int rounds = 3;
  app.add_option("--people", n, "source records (one person each)");
  app.add_option("--rounds", rounds, "map_records runs; the best is reported");
  CLI11_PARSE(app, argc, argv);

  const config::config cfg = config::parse_config(people_yaml, "bench.yaml").cfg;
  std::vector<connectors::source_record> records;
  records.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    connectors::source_record r;
    r.where = {"hr", "/srv/hr/export.csv", i + 2, {}};
    auto add = [&](const char* name, std::string value) { r.attributes.push_back({name, {std::move(value)}}); };
    add("id", "E" + num(i, 7));
    add("mail", "User" + num(i, 7) + "@Corp.Example");  // lower-cased by the mapping
    add("first", first_names[i % 8]);
    add("last", last_names[i % 7]);
    add("middle", middle_names[i % 5]);
    add("title", std::string{"  "} + titles[i % 5]);  // trimmed by the mapping
    add("mobile", "8 (916) " + num(i % 1000, 3) + "-" + num(i % 10000, 4));
    add("phone", "+7 495 " + num(i % 10'000'000, 7));
    add("birth", num(1 + i % 28, 2) + "." + num(1 + i % 12, 2) + "." + std::to_string(1960 + i % 40));
    add("dept", "Дирекция " + std::to_string(i % 10) + " / Магазин №" + num(i % 200, 4) + " Москва");
    records.push_back(std::move(r));
  }
  const year_month_day today{year{2026}, month{12}, day{2}};

  double best = 1e9;
  std::size_t people = 0, rejects = 0;
  std::size_t heap_people = 0;
  for (int k = 0; k < rounds; ++k) {
    const std::size_t heap0 = mallinfo2().uordblks;
    const double c0 = thread_cpu();
    config::mapping_result m = config::map_records(cfg, records, today);
    const double cpu = thread_cpu() - c0;
    // The people's own heap blocks (their vector is a separate mapping: reserve_huge).
    heap_people = mallinfo2().uordblks - heap0;
    best = std::min(best, cpu);
    people = m.people.size();
    rejects = m.rejects.size();
    std::printf("round %d: %.3f s CPU\n", k + 1, cpu);
  }
  std::printf("records %zu -> people %zu, rejects %zu\n", n, people, rejects);
  std::printf("map_records best of %d: %.3f s CPU (%.0f ns/person)\n", rounds, best,
              best * 1e9 / static_cast<double>(std::max<std::size_t>(people, 1)));
  std::printf("people's heap after mapping: %.0f B/person (+ sizeof(desired_person) %zu in their vector)\n",
              static_cast<double>(heap_people) / static_cast<double>(std::max<std::size_t>(people, 1)),
              sizeof(config::desired_person));
  return people == n && rejects == 0 ? 0 : 1;
}
