// `b24sync plan` and `b24sync sync` end to end: the real executable against the emulator seeded with
// the demo portal. Every scenario asserts the portal's final state (or that nothing was written).
#include "cli_fixture.hpp"

#include "state/store.hpp"

#include <doctest/doctest.h>

#include <sys/file.h>

#include <chrono>
#include <random>
#include <set>
#include <string>

using namespace b24test_cli;

namespace {

std::string str(const boost::json::object& u, const char* key) {
  auto it = u.find(key);
  if (it == u.end() || !it->value().is_string()) return {};
  return std::string(it->value().as_string());
}

bool active(const boost::json::object& u) {
  auto it = u.find("ACTIVE");
  return it == u.end() || (it->value().is_bool() ? it->value().as_bool() : str(u, "ACTIVE") != "N");
}

const boost::json::object* by_email(const std::map<std::int64_t, boost::json::object>& users, const std::string& e) {
  for (const auto& [id, u] : users)
    if (str(u, "EMAIL") == e) return &u;
  return nullptr;
}

// Runs one REST call inside the portal (as an admin editing by hand would), bypassing the network.
void portal_call(demo_env& env, const std::string& method, const boost::json::object& params) {
  b24emu::http_request req;
  req.method = "POST";
  req.target = std::string("/rest/1/") + webhook_code + "/" + method + ".json";
  req.content_type = "application/json";
  req.body = boost::json::serialize(params);
  const double now = env.emu.portal_now();
  auto h = env.emu.with_portal([&](b24emu::portal& p) { return p.handle(req, now); });
  auto v = boost::json::parse(h.response.body);
  REQUIRE_MESSAGE(v.as_object().contains("result"), h.response.body);
}

std::string cfg_arg(const fs::path& p) { return "-c '" + p.string() + "'"; }

// The demo config reading `hr` (UTF-8) instead of the demo export; the LDIF path made absolute, since
// relative source paths resolve next to the config.
std::string demo_config_with(const fs::path& hr) {
  std::string text = read_file(demo_dir / "b24sync.yaml");
  text.replace(text.find("path: hr.csv"), 12, "path: '" + hr.string() + "'");
  text.replace(text.find("encoding: auto"), 14, "encoding: utf-8");
  text.replace(text.find("path: ad.ldif"), 13, "path: '" + (demo_dir / "ad.ldif").string() + "'");
  return text;
}

}  // namespace

TEST_CASE("plan on the demo: the changes are listed, exit 2 with --detailed-exitcode, nothing written") {
  demo_env env;
  env.write_webhook(std::string("1/") + webhook_code);
  auto r = env.run("plan --detailed-exitcode " + cfg_arg(demo_config()));
  INFO(r.output);
  CHECK(r.exit == 2);
  CHECK(env.writes() == 0);
  CHECK(r.output.find("m.zaytsev@romashka.example") != std::string::npos);  // a new hire
  CHECK(r.output.find("hr.csv:11") != std::string::npos);                   // the bad e-mail row
  CHECK(r.output.find(webhook_code) == std::string::npos);

  auto json = env.run("plan --format json " + cfg_arg(demo_config()) + " -o '" + (env.work / "plan.json").string() + "'");
  INFO(json.output);
  CHECK(json.exit == 0);  // without --detailed-exitcode a plan with changes is still a success
  auto doc = boost::json::parse(read_file(env.work / "plan.json")).as_object();
  CHECK(doc.at("schema_version").to_number<int>() == 2);
  CHECK(doc.at("unchanged").as_array().size() == doc.at("counts").at("unchanged").to_number<std::size_t>());
  CHECK(env.writes() == 0);
}

TEST_CASE("sync on the demo applies every change; the next plan is empty and the next sync sends nothing") {
  demo_env env;
  env.write_webhook(std::string("1/") + webhook_code);
  auto r = env.run("sync --yes " + cfg_arg(demo_config()));
  INFO(r.output);
  REQUIRE(r.exit == 0);

  auto users = env.users();
  // New hires: invited once each, with their HR key and department.
  CHECK(env.invitations() == 3);
  for (const char* email : {"a.lebedeva@romashka.example", "m.zaytsev@romashka.example", "sean.oconnor@romashka.example"}) {
    const auto* u = by_email(users, email);
    REQUIRE_MESSAGE(u != nullptr, email);
    CHECK(!str(*u, "UF_USR_HR_ID").empty());
  }
  CHECK(str(*by_email(users, "m.zaytsev@romashka.example"), "UF_USR_HR_ID") == "0008");
  CHECK(str(*by_email(users, "m.zaytsev@romashka.example"), "PERSONAL_MOBILE") == "+79265550108");
  // Terminated in HR (30.09.2026): dismissed. Rehired (0006): reinstated with the new position.
  CHECK_FALSE(active(users.at(6)));
  CHECK(active(users.at(7)));
  CHECK(str(users.at(7), "WORK_POSITION") == "Ведущий программист");
  CHECK(str(users.at(4), "WORK_POSITION") == "Директор по персоналу");
  CHECK(str(users.at(2), "WORK_PHONE") == "+74951000001");  // from the AD export
  // Untouched: the admin (protected), the unmanaged support user, the extranet partner.
  CHECK(active(users.at(1)));
  CHECK(active(users.at(8)));
  CHECK(active(users.at(10)));
  // The bad e-mail row was neither created nor anything else.
  CHECK(by_email(users, "v.kim@romashka") == nullptr);
  CHECK(fs::exists(env.work / "state.db"));
  CHECK(fs::exists(env.work / "reports"));
  // Every person matched to an account is remembered (key -> ID), the unchanged ones included.
  {
    const auto ids = b24sync::state::store::open(env.work / "state.db").identities_by_key();
    std::size_t remembered = 0;
    for (const auto& [id, u] : users) {
      const std::string key = str(u, "UF_USR_HR_ID");
      if (key.empty() || !active(u)) continue;
      CAPTURE(key);
      REQUIRE(ids.contains(key));
      CHECK(ids.at(key) == id);
      ++remembered;
    }
    CHECK(remembered >= 6);
  }

  const auto writes = env.writes();
  auto again = env.run("plan --detailed-exitcode " + cfg_arg(demo_config()));
  INFO(again.output);
  CHECK(again.exit == 0);
  auto resync = env.run("sync --yes " + cfg_arg(demo_config()));
  INFO(resync.output);
  CHECK(resync.exit == 0);
  CHECK(env.writes() == writes);
  CHECK(env.invitations() == 3);
}

TEST_CASE("sync --plan applies a reviewed plan, and refuses with the drifted user named when the portal changed") {
  demo_env env;
  env.write_webhook(std::string("1/") + webhook_code);
  const auto plan_file = env.work / "reviewed.json";
  REQUIRE(env.run("plan --format json -o '" + plan_file.string() + "' " + cfg_arg(demo_config())).exit == 0);

  // An admin edits the HR director's position by hand after the review.
  portal_call(env, "user.update", {{"ID", 4}, {"WORK_POSITION", "HRD"}});
  const auto writes_before = env.writes();
  auto refused = env.run("sync --plan '" + plan_file.string() + "' " + cfg_arg(demo_config()));
  INFO(refused.output);
  CHECK(refused.exit == 3);
  CHECK(refused.output.find("0003") != std::string::npos);
  CHECK(refused.output.find("WORK_POSITION") != std::string::npos);
  CHECK(env.writes() == writes_before);

  REQUIRE(env.run("plan --format json -o '" + plan_file.string() + "' " + cfg_arg(demo_config())).exit == 0);
  auto applied = env.run("sync --plan '" + plan_file.string() + "' " + cfg_arg(demo_config()));
  INFO(applied.output);
  CHECK(applied.exit == 0);
  CHECK(str(env.users().at(4), "WORK_POSITION") == "Директор по персоналу");
}

TEST_CASE("a header-only export trips the empty-source guard: exit 3, nothing written") {
  demo_env env;
  env.write_webhook(std::string("1/") + webhook_code);
  auto empty = env.write_work_file(
      "empty.csv", "Табельный номер;Фамилия;Имя;Отчество;Должность;Подразделение;Дата увольнения;Email;Мобильный телефон\n");
  auto cfg_path = env.write_work_file("empty.yaml", demo_config_with(empty));
  auto r = env.run("sync --yes " + cfg_arg(cfg_path));
  INFO(r.output);
  CHECK(r.exit == 3);
  CHECK(r.output.find("empty") != std::string::npos);
  CHECK(env.writes() == 0);
}

TEST_CASE("mass termination trips max_deactivations; --allow-deactivations N lets the reviewed number through") {
  demo_env env;
  env.write_webhook(std::string("1/") + webhook_code);
  // Everyone but the director leaves at the end of October: 4 deactivations > the demo limit of 3.
  std::string csv =
      "Табельный номер;Фамилия;Имя;Должность;Подразделение;Дата увольнения;Email\n"
      "0001;Петров;Игорь;Генеральный директор;ООО «Ромашка»;;director@romashka.example\n"
      "0002;Иванова;Светлана;Главный бухгалтер;ООО «Ромашка»/Бухгалтерия;31.10.2026;buh@romashka.example\n"
      "0003;Смирнова;Ольга;Директор по персоналу;ООО «Ромашка»/Отдел кадров;31.10.2026;hr@romashka.example\n"
      "0004;Кузнецов;Алексей;Руководитель ИТ;ООО «Ромашка»/ИТ-отдел;31.10.2026;cto@romashka.example\n"
      "0005;Соколов;Дмитрий;Программист;ООО «Ромашка»/ИТ-отдел/Разработка;31.10.2026;dev1@romashka.example\n";
  auto hr = env.write_work_file("layoff.csv", csv);
  std::string text = demo_config_with(hr);
  for (const char* f : {"    SECOND_NAME: \"{Отчество | trim | title}\"\n",
                        "    PERSONAL_MOBILE: {from: \"Мобильный телефон\", transform: phone, region: RU, on_invalid: keep}\n"})
    text.erase(text.find(f), std::string(f).size());
  auto cfg = env.write_work_file("layoff.yaml", text);

  auto stopped = env.run("sync --yes " + cfg_arg(cfg));
  INFO(stopped.output);
  CHECK(stopped.exit == 3);
  CHECK(stopped.output.find("--allow-deactivations") != std::string::npos);
  CHECK(env.writes() == 0);

  auto allowed = env.run("sync --yes --allow-deactivations 4 " + cfg_arg(cfg));
  INFO(allowed.output);
  CHECK(allowed.exit == 0);
  auto users = env.users();
  for (std::int64_t id : {3, 4, 5, 6}) CHECK_FALSE(active(users.at(id)));
  CHECK(active(users.at(2)));
}

TEST_CASE("a sync while another holds the lock exits 75 and writes nothing") {
  demo_env env;
  env.write_webhook(std::string("1/") + webhook_code);
  const auto lock_path = env.work / "state.db.lock";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  REQUIRE(fd >= 0);
  REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
  auto r = env.run("sync --yes " + cfg_arg(demo_config()));
  ::close(fd);
  INFO(r.output);
  CHECK(r.exit == 75);
  CHECK(r.output.find("lock") != std::string::npos);
  CHECK(env.writes() == 0);
}

TEST_CASE("kill -9 at random moments during a 1,500-user initial load: reruns converge, nobody invited twice") {
  demo_env env;
  env.write_webhook(std::string("1/") + webhook_code);
  constexpr int people = 1500;
  std::string csv = "id;last;first;email;dept\n";
  for (int i = 1; i <= people; ++i)
    csv += "E" + std::to_string(10000 + i) + ";Тестов;Сотрудник" + std::to_string(i) + ";user" + std::to_string(i) +
           "@load.example;ООО «Ромашка»/Отдел продаж\n";
  auto hr = env.write_work_file("load.csv", csv);
  auto cfg = env.write_work_file("load.yaml", "portal:\n  url: ${B24_DEMO_PORTAL}\n  webhook_file: ${B24_DEMO_WEBHOOK_FILE}\n"
                                              "sources:\n  - {name: hr, type: csv, path: '" + hr.string() +
                                              "', encoding: utf-8, delimiter: ';', key: id}\n"
                                              "mapping:\n  identity_field: UF_USR_HR_ID\n  fields:\n"
                                              "    EMAIL: \"{email}\"\n    NAME: \"{first}\"\n    LAST_NAME: \"{last}\"\n"
                                              "    UF_DEPARTMENT: {from: dept}\n"
                                              "policy:\n  protected: [1]\n  on_missing: ignore\n"
                                              "state: {path: '" + (env.work / "state.db").string() + "'}\n"
                                              "reports: {dir: '" + (env.work / "reports").string() + "', keep: 3}\n");
  // Every REST answer takes 50 ms, so a kill usually finds a batch in flight.
  env.faults(R"({"seed": 7, "rules": [{"fault": "latency", "p": 1, "latency_ms": 50}]})");

  // Kill points are protocol points, not times: after the portal has received K REST requests of this
  // run (K random, from "before the first" to "around the last"), while the next ones are in flight.
  // K is drawn over the work still left (one batch per 50 missing users, plus the snapshot), so the
  // kills stay inside the run as it shrinks.
  std::mt19937 rng(20261201);
  auto rest_requests = [&] { return env.emu.stats().at("server").at("rest_requests").to_number<std::int64_t>(); };
  auto loaded_now = [&] {
    int n = 0;
    for (const auto& [id, u] : env.users()) n += str(u, "EMAIL").ends_with("@load.example") ? 1 : 0;
    return n;
  };
  int killed_mid_run = 0;
  for (int round = 0; round < 10; ++round) {
    const std::int64_t need = (people - loaded_now() + 49) / 50 + 2;
    const std::int64_t target = rest_requests() + std::uniform_int_distribution<std::int64_t>(0, need)(rng);
    pid_t pid = env.spawn({"sync", "--yes", "-c", cfg.string()});
    int status = 0;
    bool exited = false;
    // Woken by the emulator at the target request; between wake-ups (every 20 ms) it notices a sync
    // that ended before reaching it.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!env.emu.wait_rest_requests(static_cast<std::uint64_t>(target), std::chrono::milliseconds(20)) &&
           std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        exited = true;
        break;
      }
    }
    if (!exited) {
      ::kill(pid, SIGKILL);
      if (demo_env::wait_for(pid) == -SIGKILL) ++killed_mid_run;
    }
  }
  CHECK(killed_mid_run >= 5);

  int final_rc = -1;
  for (int attempt = 0; attempt < 5 && final_rc != 0; ++attempt) {
    pid_t pid = env.spawn({"sync", "--yes", "-c", cfg.string()});
    final_rc = demo_env::wait_for(pid);
  }
  INFO(read_file(env.work / "spawn.log").substr(0, 20000));
  REQUIRE(final_rc == 0);

  auto users = env.users();
  std::set<std::string> emails;
  int loaded = 0;
  for (const auto& [id, u] : users) {
    const auto e = str(u, "EMAIL");
    CHECK_MESSAGE(emails.insert(e).second, "duplicate user for " << e);
    if (e.ends_with("@load.example")) ++loaded;
  }
  CHECK(loaded == people);
  CHECK(env.invitations() == static_cast<std::size_t>(people));
  env.faults(R"({"seed": 1, "rules": []})");
  auto plan = env.run("plan --detailed-exitcode " + cfg_arg(cfg));
  INFO(plan.output);
  CHECK(plan.exit == 0);
}
