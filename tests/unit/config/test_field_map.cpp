// field_map and origin_list: a person's fields and origins in one block each. Every kind of value
// round-trips, order is by name, replacing and erasing keep the rest intact, copies are deep, and
// names are interned once.
#include <doctest/doctest.h>

#include "config/field_map.hpp"
#include "config/origin_list.hpp"

#include <thread>

using namespace b24sync::config;
using namespace std::chrono;
using strings = std::vector<std::string>;

namespace {

const department_list two_paths{department_path{{"Компания", "Продажи", "Москва"}},
                                department_path{{"Support"}}};

field_map sample() {
  field_map m;
  m.set("WORK_POSITION", "Ведущий инженер");
  m.set("EMAIL", "anna@corp.ru");
  m.set("PERSONAL_BIRTHDAY", field_value{year_month_day{year{1990}, month{2}, day{28}}});
  m.set("UF_SKILLS", field_value{strings{"C++", "", "SQL"}});
  m.set("UF_DEPARTMENT", field_value{two_paths});
  return m;
}

strings names_of(const field_map& m) {
  strings out;
  for (const field_ref f : m) out.emplace_back(f.name());
  return out;
}

}  // namespace

TEST_CASE("field_map: every kind round-trips, iteration is by name") {
  field_map m = sample();
  CHECK(m.size() == 5);
  CHECK(names_of(m) == strings{"EMAIL", "PERSONAL_BIRTHDAY", "UF_DEPARTMENT", "UF_SKILLS", "WORK_POSITION"});
  CHECK(m.at("WORK_POSITION") == field_value{std::string{"Ведущий инженер"}});
  CHECK(m.find("EMAIL")->text() == "anna@corp.ru");
  CHECK(m.find("EMAIL")->kind() == field_kind::text);
  CHECK(m.find("PERSONAL_BIRTHDAY")->date() == year_month_day{year{1990}, month{2}, day{28}});
  CHECK(m.at("UF_SKILLS") == field_value{strings{"C++", "", "SQL"}});
  CHECK(m.at("UF_DEPARTMENT") == field_value{two_paths});
  CHECK_FALSE(m.get("NAME").has_value());
  CHECK(m.find("NAME") == m.end());
  CHECK_THROWS_AS(m.at("NAME"), std::out_of_range);

  std::vector<std::string_view> levels;
  auto cursor = m.find("UF_DEPARTMENT")->paths();
  REQUIRE(cursor.next(levels));
  CHECK(levels == std::vector<std::string_view>{"Компания", "Продажи", "Москва"});
  REQUIRE(cursor.next(levels));
  CHECK(levels == std::vector<std::string_view>{"Support"});
  CHECK_FALSE(cursor.next(levels));
  CHECK(levels.empty());

  std::vector<std::string_view> items;
  m.find("UF_SKILLS")->list(items);
  CHECK(items == std::vector<std::string_view>{"C++", "", "SQL"});
  items.clear();
  m.find("EMAIL")->list(items);
  CHECK(items == std::vector<std::string_view>{"anna@corp.ru"});
  CHECK(to_string(*m.find("UF_DEPARTMENT")) == "Компания / Продажи / Москва; Support");
  CHECK(to_string(*m.find("PERSONAL_BIRTHDAY")) == "1990-02-28");
}

TEST_CASE("field_map: long values and lengths past one varint byte") {
  field_map m;
  const std::string long_text(70'000, 'x');  // a length of three LEB128 bytes
  const std::string mid(200, 'y');           // two bytes
  m.set("NAME", long_text);
  m.set("LAST_NAME", mid);
  m.set("EMPTY", "");
  m.shrink_to_fit();
  CHECK(m.find("NAME")->text() == long_text);
  CHECK(m.find("LAST_NAME")->text() == mid);
  CHECK(m.find("EMPTY")->text().empty());
  CHECK(m.heap_bytes() == 8 + 3 * 8 + (3 + 70'000) + (2 + 200) + 1);
}

TEST_CASE("field_map: replacing a value keeps the others; shrink_to_fit drops the old bytes") {
  field_map m = sample();
  m.set("EMAIL", "anna.petrova@corp.ru");
  m.set("UF_SKILLS", "Go");  // another kind
  CHECK(m.size() == 5);
  CHECK(m.find("EMAIL")->text() == "anna.petrova@corp.ru");
  CHECK(m.at("UF_SKILLS") == field_value{std::string{"Go"}});
  CHECK(m.at("UF_DEPARTMENT") == field_value{two_paths});
  const std::size_t before = m.heap_bytes();
  m.shrink_to_fit();
  CHECK(m.heap_bytes() < before);
  field_map fresh;
  for (const field_ref f : m) fresh.set(f.name(), f.value());
  fresh.shrink_to_fit();
  CHECK(fresh.heap_bytes() == m.heap_bytes());
  CHECK(fresh == m);
  CHECK(m.find("PERSONAL_BIRTHDAY")->date() == year_month_day{year{1990}, month{2}, day{28}});
}

TEST_CASE("field_map: erase, clear, copies are deep, equality is by content") {
  field_map m = sample();
  field_map copy = m;
  CHECK(copy == m);
  CHECK(copy.erase("EMAIL"));
  CHECK_FALSE(copy.erase("EMAIL"));
  CHECK(copy.size() == 4);
  CHECK(m.size() == 5);  // the original is untouched
  CHECK(m.find("EMAIL")->text() == "anna@corp.ru");
  CHECK_FALSE(copy == m);
  copy.set("EMAIL", "other@corp.ru");
  CHECK_FALSE(copy == m);
  copy.set("EMAIL", "anna@corp.ru");
  CHECK(copy == m);  // same fields, different history

  field_map moved = std::move(copy);
  CHECK(moved == m);
  copy = moved;  // a moved-from map is reusable
  CHECK(copy == m);
  copy.clear();
  CHECK(copy.empty());
  CHECK(copy.begin() == copy.end());
  CHECK(copy == field_map{});
  field_map empty;
  empty.shrink_to_fit();
  CHECK(empty.heap_bytes() == 0);
}

TEST_CASE("field_map: each field keeps the index of its source") {
  field_map m;
  m.set("EMAIL", "anna@corp.ru", 2);
  m.set("NAME", field_value{std::string{"Анна"}}, 0);
  m.set("UF_USR_HR_ID", "7");
  m.set("LAST_NAME", "Петрова", max_sources + 5);  // beyond what an entry holds: kept as none
  CHECK(m.find("EMAIL")->source() == 2);
  CHECK(m.find("NAME")->source() == 0);
  CHECK(m.find("UF_USR_HR_ID")->source() == no_source);
  CHECK(m.find("LAST_NAME")->source() == no_source);
  CHECK(m.find("LAST_NAME")->text() == "Петрова");
  m.set("EMAIL", "anna@corp.ru", 1);  // a replaced value takes its new source
  CHECK(m.find("EMAIL")->source() == 1);
  field_map other = m;
  other.set("NAME", field_value{std::string{"Анна"}}, 1);
  CHECK_FALSE(other == m);  // same values, different source
  CHECK(other.erase("UF_USR_HR_ID"));
  CHECK(other.find("EMAIL")->source() == 1);  // erase keeps the others' sources
}

TEST_CASE("field names: interned once, found without interning, shared across threads") {
  const field_name_id id = intern_field_name("UF_USR_TEST_INTERN");
  CHECK(intern_field_name("UF_USR_TEST_INTERN") == id);
  CHECK(field_name(id) == "UF_USR_TEST_INTERN");
  CHECK(find_field_name("UF_USR_TEST_INTERN") == id);
  CHECK_FALSE(find_field_name("UF_USR_NEVER_SEEN_ANYWHERE").has_value());
  CHECK(field_name(65535).empty());

  // Many threads interning overlapping names agree on every ID.
  std::vector<std::vector<field_name_id>> seen(4);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < seen.size(); ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 600; ++i) seen[t].push_back(intern_field_name("UF_USR_T" + std::to_string(i)));
    });
  for (auto& th : threads) th.join();
  for (std::size_t t = 1; t < seen.size(); ++t) CHECK(seen[t] == seen[0]);
  for (int i = 0; i < 600; ++i) CHECK(field_name(seen[0][i]) == "UF_USR_T" + std::to_string(i));
}

TEST_CASE("origin_list: origins round-trip in order, copies are deep") {
  using b24sync::connectors::origin;
  origin_list l;
  CHECK(l.empty());
  CHECK(l.heap_bytes() == 0);
  CHECK_THROWS_AS(l[0], std::out_of_range);
  const origin csv{"hr", "/srv/hr/Сотрудники.csv", 3, {}};
  const origin ldap{"ad", "ldaps://dc1.corp.local", 0, "CN=Анна Петрова,OU=Staff,DC=corp,DC=local"};
  const origin far{"big", std::string(300, 'p'), 5'000'000'000ULL, {}};  // lengths and a line past 32 bits
  l.push_back(csv);
  l.push_back(ldap);
  l.push_back(far);
  REQUIRE(l.size() == 3);
  CHECK(l.front() == csv);
  CHECK(l[1] == ldap);
  CHECK(l[2] == far);
  CHECK(l.to_vector() == std::vector<origin>{csv, ldap, far});
  std::vector<origin> walked;
  for (auto o : l) walked.push_back(o);
  CHECK(walked == l.to_vector());

  origin_list copy = l;
  CHECK(copy == l);
  copy.push_back(csv);
  CHECK_FALSE(copy == l);
  CHECK(l.size() == 3);
  origin_list moved = std::move(copy);
  CHECK(moved.size() == 4);
  CHECK(moved[3] == csv);
  copy = l;
  CHECK(copy == l);
}
