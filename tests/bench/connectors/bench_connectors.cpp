// bench_connectors: throughput and peak RSS of the CSV (UTF-8, cp1251) and LDIF readers on ~100 MB files.
// Usage: bench_connectors [--mb N] [--dir DIR] [--check]   (--check: exit 1 below the design.md targets)
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "connectors/csv_reader.hpp"
#include "connectors/ldif_reader.hpp"
#include "connectors/text_encoding.hpp"

namespace fs = std::filesystem;
using namespace b24sync::connectors;

namespace {

const char* const surnames[] = {"Иванов", "Смирнова", "Кузнецов", "Попова", "Васильев", "Петрова", "Соколов"};
const char* const names[] = {"Александр", "Мария", "Дмитрий", "Анна", "Сергей", "Ольга", "Юрий", "Ёлка"};
const char* const titles[] = {"Инженер", "Бухгалтер", "\"Менеджер; по продажам\"", "Директор «Север»",
                              "Ведущий специалист отдела кадров"};

// UTF-8 character -> its cp1251 byte, for the characters the generator uses.
char to_cp1251(const std::string& utf8_char) {
  static const std::unordered_map<std::string, char> table = [] {
    std::unordered_map<std::string, char> t;
    for (int b = 0x80; b <= 0xFF; ++b)
      t[cp1251_to_utf8(std::string(1, static_cast<char>(b)))] = static_cast<char>(b);
    return t;
  }();
  return table.at(utf8_char);
}

// Appends rows until the file reaches `bytes`; one HR export row per person.
void write_csv(const std::string& path, std::size_t bytes, bool cp1251) {
  std::ofstream out(path, std::ios::binary);
  std::string block = "Табельный номер;Фамилия;Имя;Email;Должность;Подразделение;Дата рождения;Телефон\r\n";
  std::size_t written = 0;
  char num[16];
  for (std::size_t i = 0; written < bytes; ++i) {
    std::snprintf(num, sizeof num, "%07zu", i);
    block += num;
    block += ';';
    block += surnames[i % 7];
    block += ';';
    block += names[i % 8];
    block += ";user";
    block += num;
    block += "@corp.example;";
    block += titles[i % 5];
    block += ";ИТ/Разработка/Группа ";
    block += std::to_string(i % 97);
    block += ";01.02.1980;+7 (495) 123-45-67\r\n";
    if (block.size() > (1 << 20)) {
      std::string data = cp1251 ? std::string() : std::move(block);
      if (cp1251) {  // encode back: every character used here exists in cp1251
        for (std::size_t k = 0; k < block.size();) {
          unsigned char c = static_cast<unsigned char>(block[k]);
          std::size_t len = c < 0x80 ? 1 : (c < 0xE0 ? 2 : 3);
          std::string one = block.substr(k, len);
          k += len;
          if (len == 1) {
            data += one;
            continue;
          }
          data += to_cp1251(one);
        }
      }
      out.write(data.data(), static_cast<std::streamsize>(data.size()));
      written += data.size();
      block.clear();
    }
  }
}

void write_ldif(const std::string& path, std::size_t bytes) {
  std::ofstream out(path, std::ios::binary);
  std::string block = "version: 1\n\n";
  std::size_t written = 0;
  char num[16];
  for (std::size_t i = 0; written < bytes; ++i) {
    std::snprintf(num, sizeof num, "%07zu", i);
    std::string cn = std::string(surnames[i % 7]) + " " + names[i % 8];
    block += "dn: uid=u";
    block += num;
    block +=
        ",ou=People,dc=corp,dc=example\nobjectClass: top\nobjectClass: person\nobjectClass: inetOrgPerson\n";
    block += "uid: u" + std::string(num) + "\ncn:: " + base64_encode(cn) +
             "\nsn:: " + base64_encode(surnames[i % 7]);
    block += "\ngivenName:: " + base64_encode(names[i % 8]) + "\nmail: u" + num + "@corp.example\n";
    block += "employeeNumber: " + std::string(num) + "\ntitle:: " + base64_encode(titles[i % 5]) + "\n";
    block +=
        "description: A plain ASCII description that is long enough to be folded by the exporter at se\n";
    block += " venty-six characters, as ldapsearch does\n";
    block +=
        "memberOf: cn=staff,ou=Groups,dc=corp,dc=example\nmemberOf: cn=vpn,ou=Groups,dc=corp,dc=example\n\n";
    if (block.size() > (1 << 20)) {
      out.write(block.data(), static_cast<std::streamsize>(block.size()));
      written += block.size();
      block.clear();
    }
  }
}

long peak_rss_kib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

// Runs `parse` and prints throughput; returns MB/s.
double measure(const char* what, const std::string& path, const std::function<std::size_t()>& parse) {
  double mb = static_cast<double>(fs::file_size(path)) / 1e6;
  auto t0 = std::chrono::steady_clock::now();
  std::size_t items = parse();
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%-34s %8.1f MB in %6.3f s = %7.1f MB/s  (%zu records, peak RSS %ld KiB)\n", what, mb, s,
              mb / s, items, peak_rss_kib());
  return mb / s;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t mb = 100;
  std::string dir;
  bool check = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--mb" && i + 1 < argc)
      mb = std::strtoul(argv[++i], nullptr, 10);
    else if (a == "--dir" && i + 1 < argc)
      dir = argv[++i];
    else if (a == "--check")
      check = true;
    else {
      std::fprintf(stderr, "usage: bench_connectors [--mb N] [--dir DIR] [--check]\n");
      return 64;
    }
  }
  bool own_dir = dir.empty();
  if (own_dir) {
    dir = (fs::temp_directory_path() / ("b24sync-bench-connectors-" + std::to_string(::getpid()))).string();
    fs::create_directories(dir);
  }
  std::string csv = dir + "/hr.csv", csv1251 = dir + "/zup.csv", ldif = dir + "/ad.ldif";
  write_csv(csv, mb << 20, false);
  write_csv(csv1251, mb << 20, true);
  write_ldif(ldif, mb << 20);
  std::printf("generated %zu MiB files in %s; peak RSS after generation %ld KiB\n", mb, dir.c_str(),
              peak_rss_kib());

  std::size_t sink = 0;
  csv_options co;
  co.path = csv;
  double csv_view = measure("CSV utf-8, views (scan_csv)", csv, [&] {
    return scan_csv(co, [&](const csv_row& row) { sink += row.fields[3].size(); }).stats.records;
  });
  double csv_rec = measure("CSV utf-8, records (read_csv)", csv, [&] {
    return read_csv(co, [&](source_record&& r) { sink += r.attributes.size(); }).stats.records;
  });
  csv_options cp = co;
  cp.path = csv1251;
  cp.encoding = text_encoding::cp1251;
  double csv_cp = measure("CSV cp1251, views (scan_csv)", csv1251, [&] {
    return scan_csv(cp, [&](const csv_row& row) { sink += row.fields[3].size(); }).stats.records;
  });
  ldif_options lo;
  lo.path = ldif;
  double ldif_view = measure("LDIF, views (scan_ldif)", ldif, [&] {
    return scan_ldif(lo, [&](const ldif_entry& e) { sink += e.values.size(); }).stats.records;
  });
  double ldif_rec = measure("LDIF, records (read_ldif)", ldif, [&] {
    return read_ldif(lo, [&](source_record&& r) { sink += r.attributes.size(); }).stats.records;
  });
  if (own_dir) fs::remove_all(dir);
  std::printf("targets: CSV >= 200 MB/s (%s), LDIF >= 100 MB/s (%s)  [checksum %zu]\n",
              csv_view >= 200 ? "met" : "BELOW", ldif_view >= 100 ? "met" : "BELOW", sink);
  (void)csv_rec;
  (void)csv_cp;
  (void)ldif_rec;
  return check && (csv_view < 200 || ldif_view < 100) ? 1 : 0;
}
