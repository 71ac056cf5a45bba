// The synthetic HR people bench_diff and bench_mapping share: the same names, positions and mapping,
// so the mapping's and the diff's figures describe the same people. Header-only, benchmarks only.
#pragma once

#include <time.h>

#include <algorithm>
#include <cstddef>
#include <string>

namespace b24sync::bench {

inline constexpr const char* first_names[] = {"Александр", "Мария", "Дмитрий", "Анна",
                                              "Сергей",    "Ольга", "Юрий",    "Елена"};
inline constexpr const char* last_names[] = {"Иванов",   "Смирнова", "Кузнецов", "Попова",
                                             "Васильев", "Петрова",  "Соколов"};
inline constexpr const char* middle_names[] = {"Петрович", "Ивановна", "Сергеевич", "Андреевна", "Олегович"};
inline constexpr const char* titles[] = {"Инженер", "Бухгалтер", "Менеджер по продажам", "Ведущий специалист",
                                         "Директор"};

// One CSV source keyed by `id`, ten mapped fields (two phones, a date, a department path).
inline constexpr const char* people_yaml =
    "portal:\n  webhook: https://corp.bitrix24.ru/rest/1/benchbenchbench1/\n"
    "sources:\n  - {name: hr, type: csv, path: /srv/hr/export.csv, key: id}\n"
    "mapping:\n"
    "  fields:\n"
    "    EMAIL: \"{mail}\"\n"
    "    NAME: \"{first}\"\n"
    "    LAST_NAME: \"{last}\"\n"
    "    SECOND_NAME: \"{middle}\"\n"
    "    WORK_POSITION: \"{title}\"\n"
    "    PERSONAL_MOBILE: {from: mobile, transform: phone, region: RU}\n"
    "    WORK_PHONE: {from: phone, transform: phone, region: RU}\n"
    "    PERSONAL_BIRTHDAY: {from: birth, transform: date}\n"
    "    UF_DEPARTMENT: {from: dept, departments: {path_separator: \"/\"}}\n";

// i as decimal, zero-padded to `width` digits.
inline std::string num(std::size_t i, int width) {
  std::string s = std::to_string(i);
  return std::string(static_cast<std::size_t>(std::max(0, width - static_cast<int>(s.size()))), '0') + s;
}

// CPU seconds of this thread: on a shared, loaded machine wall time also counts other processes.
inline double thread_cpu() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace b24sync::bench
