// A hand-built plan (and a run over it) that exercises every part of a report: every op kind and
// skip reason, new departments, guards, rejects, Cyrillic, and hostile text (HTML, formulas, ESC).
#pragma once

#include "sync/outcome.hpp"
#include "sync/plan.hpp"

namespace b24sync::test {

inline sync::field_change change(std::string field, std::string before, std::string after) {
  sync::field_change c{std::move(field), std::move(before), std::move(after), {}};
  c.value = c.after;
  return c;
}

inline connectors::origin csv_row(std::size_t line) { return {"hr", "/srv/hr/export.csv", line, ""}; }

inline sync::plan sample_plan() {
  using sync::op_kind;
  using sync::skip_reason;
  sync::plan p;
  p.portal_url = "https://corp.bitrix24.ru";
  p.snapshot_fingerprint = "3f9a1c2b7e4d5f60718293a4b5c6d7e8f9a0b1c2";
  p.created_at = "2026-12-01T21:30:00Z";

  p.departments.push_back({"Головной офис / Продажи", "Продажи", 1, std::nullopt});
  p.departments.push_back({"Головной офис / Продажи / Опт", "Опт", std::nullopt, 0});

  sync::user_op ivan{op_kind::create, "E001", std::nullopt, sync::match_kind::none, "ivan.petrov@corp.ru",
                     "Иван Петров", {}, skip_reason::none, "", {csv_row(12)}, {1}};
  ivan.changes = {change("NAME", "", "Иван"), change("LAST_NAME", "", "Петров"),
                  change("EMAIL", "", "ivan.petrov@corp.ru"),
                  change("UF_DEPARTMENT", "", "Головной офис / Продажи / Опт"), change("UF_USR_HR_ID", "", "E001")};
  ivan.changes[3].value = std::vector<std::string>{"0"};
  p.users.push_back(ivan);

  sync::user_op hostile{op_kind::create, "E002", std::nullopt, sync::match_kind::none, "=cmd@corp.ru",
                        "<script>alert(1)</script> Смирнова", {}, skip_reason::none, "", {csv_row(13)}, {}};
  hostile.changes = {change("NAME", "", "<script>alert(1)</script>"),
                     change("LAST_NAME", "", "=HYPERLINK(\"http://evil.example\",\"Смирнова\")"),
                     change("WORK_POSITION", "", "+SUM(1,2)"), change("PERSONAL_MOBILE", "", "+79161234567"),
                     change("PERSONAL_CITY", "", "@cmd"), change("WORK_DEPARTMENT", "", "\tTab-led"),
                     change("UF_USR_NOTE", "", "Отдел \"Продаж\", 2\nэтаж & <b>bold</b>")};
  p.users.push_back(hostile);

  sync::user_op sidorova{op_kind::update, "E003", 42, sync::match_kind::identity_field, "a.sidorova@corp.ru",
                         "Анна Сидорова-Петрова", {}, skip_reason::none, "", {csv_row(14)}, {}};
  sidorova.changes = {
      change("LAST_NAME", "Сидорова", "Сидорова-Петрова"),
      change("WORK_POSITION", "Менеджер", "Ведущий менеджер по работе с ключевыми клиентами федерального уровня"),
      change("EMAIL", "A.Sidorova@corp.ru", "a.sidorova@corp.ru")};
  p.users.push_back(sidorova);

  sync::user_op lee{op_kind::update, "E004", 43, sync::match_kind::email, "lee@corp.ru", "Li Lee", {},
                    skip_reason::none, "", {csv_row(15), {"ldap", "ldaps://dc1.corp.ru", 0, "cn=Li Lee,ou=People"}},
                    {}};
  lee.changes = {change("PERSONAL_MOBILE", "+79160000000", "+79160000001")};
  p.users.push_back(lee);

  sync::user_op rehire{op_kind::reactivate, "E005", 44, sync::match_kind::state, "o.kuznetsov@corp.ru",
                       "Олег Кузнецов", {}, skip_reason::none, "rehired", {csv_row(16)}, {}};
  rehire.changes = {change("ACTIVE", "N", "Y"), change("UF_DEPARTMENT", "Склад", "Головной офис / Продажи")};
  rehire.changes[1].value = std::vector<std::string>{"7", "12"};
  p.users.push_back(rehire);

  sync::user_op leaver{op_kind::deactivate, "E006", 45, sync::match_kind::identity_field, "p.orlov@corp.ru",
                       "Пётр Орлов", {change("ACTIVE", "Y", "N")}, skip_reason::none,
                       "terminated: Дата увольнения 2026-11-30", {csv_row(18)}, {}};
  p.users.push_back(leaver);
  sync::user_op gone{op_kind::deactivate, "", 46, sync::match_kind::none, "old@corp.ru", "Old Account",
                     {change("ACTIVE", "Y", "N")}, skip_reason::none, "missing from all sources", {}, {}};
  p.users.push_back(gone);

  p.unchanged.push_back({"E007", 47, sync::match_kind::identity_field});

  auto skip = [&](std::string key, std::optional<std::int64_t> id, std::string email, std::string name,
                  skip_reason why, std::string reason) {
    p.users.push_back({op_kind::skip, std::move(key), id, sync::match_kind::none, std::move(email), std::move(name),
                       {}, why, std::move(reason), {}, {}});
  };
  skip("", 1, "admin@corp.ru", "Portal Admin", skip_reason::protected_user, "listed in policy.protected");
  skip("", 2, "robot@corp.ru", "Webhook Robot", skip_reason::webhook_user, "the webhook acts as this user");
  skip("", 60, "manual@corp.ru", "Hand Made", skip_reason::not_managed, "not created by b24sync, no source key");
  skip("E008", std::nullopt, "dup@corp.ru", "Дубль Дублев", skip_reason::conflict,
       "two portal users (#50, #51) have e-mail dup@corp.ru");
  skip("E009", 52, "bad@corp.ru", "Row Rejected", skip_reason::rejected_row, "row rejected at /srv/hr/export.csv:17");
  skip("E010", std::nullopt, "nocreate@corp.ru", "No Create", skip_reason::policy, "policy.create is false");
  skip("E011", std::nullopt, "lost@corp.ru", "Lost Dept", skip_reason::unknown_department,
       "department \"Марс / База\" is not on the portal");
  skip("E012", std::nullopt, "left@corp.ru", "Left Early", skip_reason::inactive_new, "terminated before hire");

  p.rejects = {{csv_row(17), "missing e-mail"},
               {{"ldap", "ldaps://dc1.corp.ru", 0, "cn=Bad,ou=People"}, "no value for the key attribute"},
               {csv_row(21), "bad date \"<b>31.02.2026</b>\" in Дата приёма"}};
  p.warnings = {"column \"Отчество\" is not mapped", "a name carried an escape: \x1b[31mred"};
  p.guards = {{"max_deactivations", "2 deactivations exceed policy.max_deactivations = 1", 2, 1},
              {"max_rejected_ratio", "3 of 10 rows rejected (0.3) exceeds policy.max_rejected_ratio = 0.25", 0.3,
               0.25}};

  auto& c = p.counts;
  c.create = 2, c.update = 2, c.reactivate = 1, c.deactivate = 2, c.unchanged = 1, c.skip = 8;
  c.departments = 2;
  c.field_changes = 5 + 7 + 3 + 1 + 2 + 1 + 1;
  c.source_people = 12, c.source_rejects = 3, c.portal_users = 1200, c.managed_users = 1000;
  return p;
}

/// A run over sample_plan(): mostly applied, one create and one deactivation failed, one not run.
inline sync::run_result sample_run(const sync::plan& p) {
  sync::run_result r;
  r.departments = {{sync::op_status::done, 101, "", "", 1}, {sync::op_status::done, 102, "", "", 1}};
  r.users.resize(p.users.size());
  r.users[0] = {sync::op_status::done, 501, "", "", 1};
  r.users[1] = {sync::op_status::failed, std::nullopt, "ERROR_CORE", "Email \"=cmd@corp.ru\" is <invalid>", 1};
  r.users[2] = {sync::op_status::recovered, std::nullopt, "", "", 2};
  r.users[3] = {sync::op_status::done, std::nullopt, "", "", 1};
  r.users[4] = {sync::op_status::done, std::nullopt, "", "", 1};
  r.users[5] = {sync::op_status::failed, std::nullopt, "ACCESS_DENIED", "", 3};
  r.users[6] = {sync::op_status::not_run, std::nullopt, "", "", 0};
  r.interrupted = true;
  r.stats = {23, 2, 0, 3, 1, 1, 12.34};
  return r;
}

}  // namespace b24sync::test
