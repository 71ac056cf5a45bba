// Helpers for the engine tests: a literal configuration, people from literal HR rows (through the real
// mapping), and a literal portal snapshot built user by user.
#pragma once

#include "bitrix/portal_snapshot.hpp"
#include "config/config.hpp"
#include "config/mapping.hpp"
#include "sync/diff.hpp"

#include <doctest/doctest.h>

#include <boost/json/value.hpp>

#include <chrono>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace b24sync::sync::test {

using namespace std::chrono;

inline constexpr year_month_day today{year{2026}, month{12}, day{1}};

/// The mapping every engine test starts from; `policy` and `extra_mapping` are appended YAML.
inline std::string base_yaml(const std::string& policy = {}, const std::string& fields_extra = {},
                             const std::string& mapping_extra = {}) {
  return "portal:\n  webhook: ${HOOK}\n"
         "sources:\n  - {name: hr, type: csv, path: hr.csv, key: id}\n"
         "mapping:\n" +
         mapping_extra +
         "  fields:\n"
         "    EMAIL: \"{mail}\"\n"
         "    NAME: \"{first}\"\n"
         "    LAST_NAME: \"{last}\"\n"
         "    WORK_POSITION: \"{title}\"\n"
         "    PERSONAL_MOBILE: {from: mobile, transform: phone, region: RU}\n"
         "    PERSONAL_BIRTHDAY: {from: birth, transform: date}\n"
         "    UF_DEPARTMENT: {from: dept, departments: {path_separator: \"/\"}}\n" +
         fields_extra +
         "  active: {from: fired, inactive_when: nonempty}\n" +
         (policy.empty() ? std::string{} : "policy:\n" + policy);
}

inline config::config make_config(const std::string& yaml) {
  config::parse_options o;
  o.getenv = [](const std::string& name) -> std::optional<std::string> {
    if (name == "HOOK") return std::string{"https://corp.bitrix24.ru/rest/1/s3cr3tc0de42/"};
    return std::nullopt;
  };
  return config::parse_config(yaml, "b24sync.yaml", o).cfg;
}

using row = std::vector<std::pair<std::string, std::string>>;

/// One HR row: id, mail, first, last, title, mobile, birth, dept, fired (others given explicitly).
inline connectors::source_record rec(std::size_t line, const row& attrs) {
  connectors::source_record r;
  r.where.source = "hr";
  r.where.location = "hr.csv";
  r.where.line = line;
  for (const auto& [k, v] : attrs) r.attributes.push_back({k, {v}});
  return r;
}

/// A typical employee row.
inline connectors::source_record person(std::size_t line, std::string id, std::string mail, std::string first,
                                        std::string last, std::string dept = "Sales",
                                        std::string mobile = "+79161234567", std::string birth = "1990-02-28",
                                        std::string title = "Engineer", std::string fired = "") {
  return rec(line, {{"id", std::move(id)},
                    {"mail", std::move(mail)},
                    {"first", std::move(first)},
                    {"last", std::move(last)},
                    {"title", std::move(title)},
                    {"mobile", std::move(mobile)},
                    {"birth", std::move(birth)},
                    {"dept", std::move(dept)},
                    {"fired", std::move(fired)}});
}

inline config::mapping_result map(const config::config& cfg, const std::vector<connectors::source_record>& rows) {
  return config::map_records(cfg, rows, today);
}

/// A portal user matching person(...) defaults, with the HR key in UF_USR_HR_ID unless empty.
inline bitrix::portal_user user(std::int64_t id, std::string email, std::string name, std::string last,
                                std::string hr_key = {}, std::vector<std::int64_t> depts = {2}) {
  bitrix::portal_user u;
  u.id = bitrix::user_id{id};
  u.set(bitrix::user_text::email, std::move(email));
  u.set(bitrix::user_text::name, std::move(name));
  u.set(bitrix::user_text::last_name, std::move(last));
  u.set(bitrix::user_text::work_position, "Engineer");
  u.set(bitrix::user_text::personal_mobile, "+79161234567");
  u.personal_birthday = year_month_day{year{1990}, February, day{28}};
  for (auto d : depts) u.departments.push_back(bitrix::department_id{d});
  if (!hr_key.empty()) u.uf.emplace("UF_USR_HR_ID", boost::json::value(hr_key));
  u.type = bitrix::user_type::employee;
  return u;
}

inline bitrix::portal_department dept(std::int64_t id, std::string name, std::optional<std::int64_t> parent) {
  bitrix::portal_department d;
  d.id = bitrix::department_id{id};
  d.name = std::move(name);
  if (parent) d.parent = bitrix::department_id{*parent};
  return d;
}

/// Company(1) > Sales(2) > Moscow(3); Company > IT(4) > Sales(5); Company > Support(7), Support(6).
inline std::vector<bitrix::portal_department> tree() {
  return {dept(1, "Company", std::nullopt), dept(2, "Sales", 1), dept(3, "Moscow", 2), dept(4, "IT", 1),
          dept(5, "Sales", 4),           dept(6, "Support", 1), dept(7, "Support", 1)};
}

inline bitrix::snapshot snap(std::vector<bitrix::portal_user> users,
                             std::vector<bitrix::portal_department> depts = tree()) {
  bitrix::snapshot s;
  s.users = std::move(users);
  s.departments = std::move(depts);
  return s;
}

/// Everything make_plan needs, owned in one place.
struct scenario {
  config::config cfg;
  config::mapping_result desired;
  bitrix::snapshot portal;
  known_identities identities;
  std::optional<std::int64_t> webhook_user;

  plan run() const {
    diff_input in;
    in.cfg = &cfg;
    in.desired = &desired;
    in.portal = &portal;
    in.identities = identities;
    in.webhook_user = webhook_user;
    in.portal_url = "https://corp.bitrix24.ru";
    in.created_at = "2026-12-01T00:00:00Z";
    return make_plan(in);
  }
};

inline scenario make(const std::string& yaml, const std::vector<connectors::source_record>& rows,
                     std::vector<bitrix::portal_user> users,
                     std::vector<bitrix::portal_department> depts = tree()) {
  scenario s{make_config(yaml), {}, snap(std::move(users), std::move(depts)), {}, std::nullopt};
  s.desired = map(s.cfg, rows);
  REQUIRE(s.desired.rejects.empty());
  return s;
}

/// The op for an HR key (nullptr when none).
inline const user_op* op_for_key(const plan& p, const std::string& key) {
  for (const auto& op : p.users)
    if (op.key == key) return &op;
  return nullptr;
}

/// The unchanged entry for an HR key (nullptr when the person is not unchanged).
inline const unchanged_user* unchanged_for_key(const plan& p, const std::string& key) {
  for (const auto& u : p.unchanged)
    if (u.key == key) return &u;
  return nullptr;
}

inline const user_op* op_for_user(const plan& p, std::int64_t id) {
  for (const auto& op : p.users)
    if (op.user_id == id) return &op;
  return nullptr;
}

/// "FIELD: before -> after" for each change, in order.
inline std::vector<std::string> changes(const user_op& op) {
  std::vector<std::string> out;
  for (const auto& c : op.changes) out.push_back(c.field + ": " + c.before + " -> " + c.after);
  return out;
}

inline std::vector<std::string> fields(const user_op& op) {
  std::vector<std::string> out;
  for (const auto& c : op.changes) out.push_back(c.field);
  return out;
}

}  // namespace b24sync::sync::test
