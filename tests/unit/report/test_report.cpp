// Unit tests of daemon/report: golden files, summary wording, UTF-8 alignment, JSON round trip and
// errors, CSV quoting and formula injection, HTML escaping.
#include "fixture.hpp"
#include "report/report.hpp"

#include <doctest/doctest.h>

#include <boost/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace b24sync;
using report::format;

namespace {

// Compares `actual` with tests/data/report/<name>; B24SYNC_UPDATE_GOLDEN=1 rewrites the file instead.
void check_golden(const std::string& name, const std::string& actual) {
  const fs::path path = fs::path(B24SYNC_TEST_DATA_DIR) / "report" / name;
  const char* update = std::getenv("B24SYNC_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream(path, std::ios::binary) << actual;
    MESSAGE("rewrote golden file " << path.string());
    return;
  }
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "missing golden file " << path.string() << " (run with B24SYNC_UPDATE_GOLDEN=1)");
  const std::string expected((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK_MESSAGE(actual == expected, "output differs from " << path.string()
                                                          << " (inspect, then B24SYNC_UPDATE_GOLDEN=1 to accept)");
}

sync::plan run_plan() {
  auto p = test::sample_plan();
  p.guards.clear();  // a run only happens when no guard tripped
  return p;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Code points before the first occurrence of `needle` in `line` (npos when absent).
std::size_t column_of(const std::string& line, std::string_view needle) {
  const auto at = line.find(needle);
  if (at == std::string::npos) return std::string::npos;
  std::size_t n = 0;
  for (std::size_t i = 0; i < at; ++i) n += (static_cast<unsigned char>(line[i]) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

// The plan's JSON as a DOM, to be damaged by the error-case tests.
boost::json::object plan_dom() { return boost::json::parse(report::render_json(test::sample_plan(), nullptr)).as_object(); }

std::string text_of(const boost::json::object& o) { return boost::json::serialize(o); }

}  // namespace

TEST_CASE("golden: plan report in text, JSON, CSV and HTML") {
  const auto p = test::sample_plan();
  check_golden("plan.txt", report::render(format::text, p));
  check_golden("plan.json", report::render(format::json, p));
  check_golden("plan.csv", report::render(format::csv, p));
  check_golden("plan.html", report::render(format::html, p));
}

TEST_CASE("golden: run report in text, JSON, CSV and HTML") {
  const auto p = run_plan();
  const auto r = test::sample_run(p);
  check_golden("run.txt", report::render(format::text, p, &r));
  check_golden("run.json", report::render(format::json, p, &r));
  check_golden("run.csv", report::render(format::csv, p, &r));
  check_golden("run.html", report::render(format::html, p, &r));
}

TEST_CASE("format names parse, unknown ones do not") {
  CHECK(report::format_from_string("text") == format::text);
  CHECK(report::format_from_string("json") == format::json);
  CHECK(report::format_from_string("csv") == format::csv);
  CHECK(report::format_from_string("html") == format::html);
  CHECK_FALSE(report::format_from_string("xml").has_value());
  CHECK_FALSE(report::format_from_string("JSON").has_value());
}

TEST_CASE("text: the summary line gives every count, the updated fields and the rejects") {
  const auto text = report::render_text(test::sample_plan(), nullptr, {});
  CHECK(text.find("2 to create, 2 to update (4 fields), 1 to reactivate, 2 to deactivate, 1 unchanged, "
                  "8 skipped; 3 rejected rows; 2 departments to create") != std::string::npos);
  CHECK(text.find("snapshot 3f9a1c2b7e4d,") != std::string::npos);  // the fingerprint, shortened
}

TEST_CASE("text: a tripped guard is a loud block naming each guard and its reason") {
  const auto text = report::render_text(test::sample_plan(), nullptr, {});
  CHECK(text.find("!!! SAFETY GUARD TRIPPED: this plan will not be applied (exit 3)") != std::string::npos);
  CHECK(text.find("!!! max_deactivations: 2 deactivations exceed policy.max_deactivations = 1") != std::string::npos);
  CHECK(text.find("!!! max_rejected_ratio: 3 of 10 rows rejected") != std::string::npos);
  CHECK(report::render_text(run_plan(), nullptr, {}).find("SAFETY GUARD") == std::string::npos);
}

TEST_CASE("text: a run report adds applied, failed, requests, 503s and seconds") {
  const auto p = run_plan();
  const auto r = test::sample_run(p);
  const auto text = report::render_text(p, &r, {});
  // 2 departments + 4 users done/recovered; 2 failed; the second deactivation not run.
  CHECK(text.find("Run: 6 applied, 2 failed, 1 not run · 23 requests, 2 × 503, 0 × 429, 3 retries · 12.3 s") !=
        std::string::npos);
  CHECK(text.find("Run INTERRUPTED") != std::string::npos);
  CHECK(text.find("Failed (2)") != std::string::npos);
  CHECK(text.find("ERROR_CORE: Email") != std::string::npos);
}

TEST_CASE("text: columns line up by code points with Cyrillic values") {
  const auto lines = lines_of(report::render_text(test::sample_plan(), nullptr, {}));
  // Every table row with an arrow has it at the same code-point column within its table.
  std::size_t tables = 0;
  std::size_t arrow_col = std::string::npos;
  for (const auto& line : lines) {
    if (line.rfind("  KEY", 0) == 0) {
      ++tables;
      arrow_col = std::string::npos;
      continue;
    }
    const auto col = column_of(line, "→");
    if (col == std::string::npos) continue;
    if (arrow_col == std::string::npos) arrow_col = col;
    CHECK_MESSAGE(col == arrow_col, "misaligned row: " << line);
  }
  CHECK(tables == 5);  // create, update, reactivate, deactivate, skip
}

TEST_CASE("text: long values are shortened, max_rows cuts each table with \"... and N more\"") {
  const auto p = test::sample_plan();
  const auto full = report::render_text(p, nullptr, {});
  CHECK(full.find("Ведущий менеджер по работе с ключевыми …") != std::string::npos);
  CHECK(full.find("федерального уровня") == std::string::npos);

  report::report_options opts;
  opts.max_rows = 2;
  const auto cut = report::render_text(p, nullptr, opts);
  CHECK(cut.find("  ... and 10 more\n") != std::string::npos);  // create: 12 rows (5 + 7 changes)
  CHECK(cut.find("  ... and 6 more\n") != std::string::npos);   // skip: 8 rows
  CHECK(cut.find("LAST_NAME") != std::string::npos);
  CHECK(cut.find("PERSONAL_CITY") == std::string::npos);
}

TEST_CASE("text: colour only when asked, and source data cannot inject terminal escapes") {
  const auto p = test::sample_plan();
  const auto plain = report::render_text(p, nullptr, {});
  CHECK(plain.find('\x1b') == std::string::npos);
  CHECK(plain.find("a name carried an escape: \\x1b[31mred") != std::string::npos);
  report::report_options opts;
  opts.color = true;
  const auto coloured = report::render_text(p, nullptr, opts);
  CHECK(coloured.find("\x1b[1;31m") != std::string::npos);
  CHECK(coloured.find("\x1b[31mred") == std::string::npos);  // the warning's ESC stays escaped
}

TEST_CASE("text: rejects show file:line or the DN, then the reason") {
  const auto text = report::render_text(test::sample_plan(), nullptr, {});
  CHECK(text.find("/srv/hr/export.csv:17") != std::string::npos);
  CHECK(text.find("ldaps://dc1.corp.ru (cn=Bad,ou=People)") != std::string::npos);
  CHECK(text.find("missing e-mail") != std::string::npos);
}

TEST_CASE("text: a plan with nothing to do says so") {
  sync::plan p;
  p.counts.unchanged = 3;
  const auto text = report::render_text(p, nullptr, {});
  CHECK(text.find("0 to create, 0 to update (0 fields)") != std::string::npos);
  CHECK(text.find("Nothing to change.") != std::string::npos);
}

TEST_CASE("json: deterministic, versioned, with the fingerprint and every before value") {
  const auto p = test::sample_plan();
  const auto a = report::render_json(p, nullptr);
  CHECK(a == report::render_json(test::sample_plan(), nullptr));
  const auto dom = boost::json::parse(a).as_object();
  CHECK(dom.at("schema").as_string() == "b24sync.plan");
  CHECK(dom.at("schema_version").as_int64() == 2);
  CHECK(dom.at("snapshot_fingerprint").as_string() == p.snapshot_fingerprint);
  const auto& first_update = dom.at("users").as_array().at(2).as_object();
  CHECK(first_update.at("changes").as_array().at(0).at("before").as_string() == "Сидорова");
  CHECK(dom.at("guards").as_array().at(1).at("value").as_double() == 0.3);
  CHECK(a.find("\"value\": 0.3,") != std::string::npos);  // shortest form, not 2.9999999999999999E-1
  CHECK_FALSE(dom.contains("outcomes"));
}

TEST_CASE("json: parse_plan_json reads back exactly what render_json wrote") {
  SUBCASE("the sample plan") {
    const auto p = test::sample_plan();
    CHECK(report::parse_plan_json(report::render_json(p, nullptr)) == p);
  }
  SUBCASE("a run report: outcomes are ignored") {
    const auto p = run_plan();
    const auto r = test::sample_run(p);
    CHECK(report::parse_plan_json(report::render_json(p, &r)) == p);
  }
  SUBCASE("an empty plan") {
    const sync::plan p;
    CHECK(report::parse_plan_json(report::render_json(p, nullptr)) == p);
  }
  SUBCASE("awkward doubles, control characters and invalid-looking text") {
    auto p = test::sample_plan();
    p.guards[0].value = 0.1 + 0.2;  // 0.30000000000000004: 17 significant digits
    p.guards[0].limit = 1.0 / 3.0;
    p.guards[1].value = 1e-300;
    p.guards[1].limit = 123456789.125;
    p.users[0].name = std::string("nul\0tab\tcr\rquote\"back\\slash", 28);
    p.users[0].user_id = -7;
    CHECK(report::parse_plan_json(report::render_json(p, nullptr)) == p);
  }
  SUBCASE("a version 1 file: its unchanged entries among users land in the compact list") {
    const auto p = test::sample_plan();
    auto o = plan_dom();
    o["schema_version"] = 1;
    o.erase("unchanged");
    boost::json::object same{{"kind", "unchanged"}, {"key", "E007"}, {"user_id", 47},
                             {"matched_by", "identity_field"}, {"email", "same@corp.ru"}, {"name", "Same Person"},
                             {"skip", "none"}, {"reason", ""}, {"changes", boost::json::array{}},
                             {"origins", boost::json::array{}}, {"needs_departments", boost::json::array{}}};
    auto& users = o["users"].as_array();
    users.insert(users.begin() + 3, same);
    const sync::plan back = report::parse_plan_json(text_of(o));
    CHECK(back.users == p.users);
    CHECK(back.unchanged == p.unchanged);
    CHECK(back.schema_version == sync::plan_schema_version);
  }
}

TEST_CASE("json: a run report adds outcomes with statuses and stats") {
  const auto p = run_plan();
  const auto r = test::sample_run(p);
  const auto dom = boost::json::parse(report::render_json(p, &r)).as_object();
  const auto& out = dom.at("outcomes").as_object();
  CHECK(out.at("applied").as_int64() == 6);
  CHECK(out.at("failed").as_int64() == 2);
  CHECK(out.at("interrupted").as_bool());
  CHECK(out.at("users").as_array().size() == p.users.size());
  CHECK(out.at("users").as_array().at(1).at("status").as_string() == "failed");
  CHECK(out.at("departments").as_array().at(0).at("id").as_int64() == 101);
  CHECK(out.at("stats").at("http_503").as_int64() == 2);
}

TEST_CASE("json: unusable plan files are refused with the place and the problem") {
  using report::plan_file_error;
  SUBCASE("not JSON") {
    CHECK_THROWS_WITH_AS(report::parse_plan_json("{\n  \"schema\": \"b24sync.plan\",\n  oops"),
                         "plan.json: not valid JSON at line 3, column 3: syntax error", plan_file_error);
  }
  SUBCASE("trailing garbage") {
    CHECK_THROWS_AS(report::parse_plan_json(report::render_json(test::sample_plan(), nullptr) + "}"),
                    plan_file_error);
  }
  SUBCASE("not an object") {
    CHECK_THROWS_WITH_AS(report::parse_plan_json("[]"), "plan.json: expected an object, got an array",
                         plan_file_error);
  }
  SUBCASE("another schema") {
    auto o = plan_dom();
    o["schema"] = "b24sync.config";
    CHECK_THROWS_WITH_AS(report::parse_plan_json(text_of(o)),
                         "plan.json: schema: \"b24sync.config\" is not a b24sync plan (expected \"b24sync.plan\")",
                         plan_file_error);
  }
  SUBCASE("a newer schema version") {
    auto o = plan_dom();
    o["schema_version"] = 3;
    CHECK_THROWS_WITH_AS(report::parse_plan_json(text_of(o)),
                         "plan.json: schema_version: unsupported version 3 (this b24sync reads versions 1 to 2)",
                         plan_file_error);
  }
  SUBCASE("an unchanged person without the user it matched") {
    auto o = plan_dom();
    o["unchanged"].as_array()[0].as_object()["user_id"] = nullptr;
    CHECK_THROWS_WITH_AS(report::parse_plan_json(text_of(o)),
                         "plan.json: unchanged[0].user_id: an unchanged person needs the portal user it matched",
                         plan_file_error);
  }
  SUBCASE("a missing field deep inside, with the file name given") {
    auto o = plan_dom();
    o["users"].as_array()[3].as_object()["changes"].as_array()[0].as_object().erase("field");
    CHECK_THROWS_WITH_AS(report::parse_plan_json(text_of(o), "/tmp/p.json"),
                         "/tmp/p.json: users[3].changes[0]: missing \"field\"", plan_file_error);
  }
  SUBCASE("a missing top-level list") {
    auto o = plan_dom();
    o.erase("users");
    CHECK_THROWS_WITH_AS(report::parse_plan_json(text_of(o)), "plan.json: missing \"users\"", plan_file_error);
  }
  SUBCASE("a wrong type") {
    auto o = plan_dom();
    o["users"].as_array()[2].as_object()["user_id"] = "42";
    CHECK_THROWS_WITH_AS(report::parse_plan_json(text_of(o)),
                         "plan.json: users[2].user_id: expected an integer or null, got a string", plan_file_error);
  }
  SUBCASE("an unknown operation kind") {
    auto o = plan_dom();
    o["users"].as_array()[0].as_object()["kind"] = "delete";
    CHECK_THROWS_WITH_AS(report::parse_plan_json(text_of(o)), "plan.json: users[0].kind: unknown value \"delete\"",
                         plan_file_error);
  }
  SUBCASE("an unknown skip reason") {
    auto o = plan_dom();
    o["users"].as_array()[8].as_object()["skip"] = "vip";
    CHECK_THROWS_WITH_AS(report::parse_plan_json(text_of(o)), "plan.json: users[8].skip: unknown value \"vip\"",
                         plan_file_error);
  }
  SUBCASE("a negative count") {
    auto o = plan_dom();
    o["counts"].as_object()["create"] = -1;
    CHECK_THROWS_WITH_AS(report::parse_plan_json(text_of(o)),
                         "plan.json: counts.create: expected a non-negative integer, got an integer", plan_file_error);
  }
  SUBCASE("a list value with a non-string item") {
    auto o = plan_dom();
    o["users"].as_array()[0].as_object()["changes"].as_array()[3].as_object()["value"] = boost::json::array{1};
    CHECK_THROWS_WITH_AS(report::parse_plan_json(text_of(o)),
                         "plan.json: users[0].changes[3].value[0]: expected a string, got an integer",
                         plan_file_error);
  }
  SUBCASE("a department needed that the plan does not create") {
    auto o = plan_dom();
    o["users"].as_array()[0].as_object()["needs_departments"] = boost::json::array{5};
    CHECK_THROWS_WITH_AS(report::parse_plan_json(text_of(o)),
                         "plan.json: users[0].needs_departments[0]: department 5 does not exist (2 in the plan)",
                         plan_file_error);
  }
  SUBCASE("a parent department listed after its child") {
    auto o = plan_dom();
    o["departments"].as_array()[1].as_object()["parent_op"] = 1;
    CHECK_THROWS_WITH_AS(report::parse_plan_json(text_of(o)),
                         "plan.json: departments[1].parent_op: 1 is not an earlier department (parents come first)",
                         plan_file_error);
  }
}

TEST_CASE("csv: UTF-8 BOM, header, CRLF and one row per field change or per op without changes") {
  const auto p = test::sample_plan();
  const auto csv = report::render_csv(p, nullptr);
  REQUIRE(csv.rfind("\xEF\xBB\xBF", 0) == 0);
  CHECK(csv.substr(3, csv.find("\r\n") - 3) == "action,key,user_id,email,name,field,before,after,reason");
  // Every line ends in CRLF; a bare LF appears only inside a quoted cell (the note with a line break).
  std::size_t crlf = 0;
  for (std::size_t i = csv.find("\r\n"); i != std::string::npos; i = csv.find("\r\n", i + 2)) ++crlf;
  // header + 2 departments + 5 + 7 (creates) + 3 + 1 (updates) + 2 (reactivate) + 1 + 1 (deactivate) + 8 skips
  CHECK(crlf == 1 + 2 + 12 + 4 + 2 + 2 + 8);
  CHECK(csv.find("deactivate,E006,45,p.orlov@corp.ru,Пётр Орлов,ACTIVE,Y,N,terminated: Дата увольнения 2026-11-30\r\n") !=
        std::string::npos);
  CHECK(csv.find("skip,,1,admin@corp.ru,Portal Admin,,,,protected: listed in policy.protected\r\n") !=
        std::string::npos);
  CHECK(csv.find("E007") == std::string::npos);  // unchanged users are not rows
}

TEST_CASE("csv: formula injection is neutralised and RFC 4180 quoting holds") {
  const auto csv = report::render_csv(test::sample_plan(), nullptr);
  SUBCASE("= at the start") {
    CHECK(csv.find(",'=cmd@corp.ru,") != std::string::npos);
    CHECK(csv.find(",\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"Смирнова\"\")\",") != std::string::npos);
  }
  SUBCASE("+ at the start, with a comma inside") { CHECK(csv.find(",\"'+SUM(1,2)\",") != std::string::npos); }
  SUBCASE("+ of a phone number") { CHECK(csv.find(",'+79161234567,") != std::string::npos); }
  SUBCASE("@ at the start") { CHECK(csv.find(",'@cmd,") != std::string::npos); }
  SUBCASE("TAB at the start") { CHECK(csv.find(",'\tTab-led,") != std::string::npos); }
  SUBCASE("- at the start") {
    sync::plan p;
    sync::user_op op;
    op.kind = sync::op_kind::update;
    op.key = "-2+3";
    op.changes = {test::change("NAME", "\rx", "a-b")};
    p.users.push_back(op);
    const auto one = report::render_csv(p, nullptr);
    CHECK(one.find("update,'-2+3,,,,NAME,\"'\rx\",a-b,\r\n") != std::string::npos);
  }
  SUBCASE("quotes doubled, line breaks kept inside quotes") {
    CHECK(csv.find(",\"Отдел \"\"Продаж\"\", 2\nэтаж & <b>bold</b>\",") != std::string::npos);
  }
  SUBCASE("no cell starts with a formula character outside quotes") {
    for (const auto& line : lines_of(csv)) {
      std::size_t pos = 0;
      while (pos < line.size()) {
        const char c = line[pos];
        CHECK_MESSAGE((c != '=' && c != '+' && c != '@' && c != '-'), "cell starts with a formula: " << line);
        if (c == '"') {  // skip a quoted cell
          for (++pos; pos < line.size(); ++pos) {
            if (line[pos] == '"' && (pos + 1 >= line.size() || line[pos + 1] != '"')) break;
            if (line[pos] == '"') ++pos;
          }
        }
        const auto next = line.find(',', pos);
        if (next == std::string::npos) break;
        pos = next + 1;
      }
    }
  }
}

TEST_CASE("csv: a run report adds status and error columns") {
  const auto p = run_plan();
  const auto r = test::sample_run(p);
  const auto csv = report::render_csv(p, &r);
  CHECK(csv.find(",reason,status,error\r\n") != std::string::npos);
  CHECK(csv.find("create,E001,501,ivan.petrov@corp.ru,Иван Петров,NAME,,Иван,,done,\r\n") != std::string::npos);
  CHECK(csv.find("create_department,,,,Продажи,department,,Головной офис / Продажи,,done,\r\n") !=
        std::string::npos);
  CHECK(csv.find(",failed,\"ERROR_CORE: Email \"\"'=cmd@corp.ru\"\" is <invalid>\"") == std::string::npos);
  CHECK(csv.find(",failed,\"ERROR_CORE: Email \"\"=cmd@corp.ru\"\" is <invalid>\"\r\n") != std::string::npos);
  CHECK(csv.find("deactivate,,46,old@corp.ru,Old Account,ACTIVE,Y,N,missing from all sources,not_run,\r\n") !=
        std::string::npos);
}

TEST_CASE("html: self-contained, with the summary counts where a test can find them") {
  const auto html = report::render_html(test::sample_plan(), nullptr, {});
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(html.find("<section id=\"summary\" data-create=\"2\" data-update=\"2\" data-reactivate=\"1\" "
                  "data-deactivate=\"2\" data-unchanged=\"1\" data-skip=\"8\" data-rejects=\"3\" "
                  "data-departments=\"2\"") != std::string::npos);
  CHECK(html.find("<svg id=\"chart\"") != std::string::npos);
  CHECK(html.find("<title>b24sync plan</title>") != std::string::npos);
  CHECK(html.find("id=\"guards\"") != std::string::npos);
  // No external assets: nothing is fetched (the SVG namespace URI is an identifier, not a fetch).
  CHECK(html.find("src=") == std::string::npos);
  CHECK(html.find("href=") == std::string::npos);
  CHECK(html.find("url(") == std::string::npos);
  CHECK(html.find("@import") == std::string::npos);
}

TEST_CASE("html: hostile source text is rendered as text") {
  auto p = test::sample_plan();
  report::report_options opts;
  opts.title = "Run </title><script>x()</script>";
  const auto html = report::render_html(p, nullptr, opts);
  SUBCASE("no element comes from the data") {
    CHECK(html.find("<script") == std::string::npos);
    CHECK(html.find("<b>bold") == std::string::npos);
    CHECK(html.find("<b>31.02") == std::string::npos);
  }
  SUBCASE("the text is there, escaped") {
    CHECK(html.find("&lt;script&gt;alert(1)&lt;/script&gt; Смирнова") != std::string::npos);
    CHECK(html.find("Отдел &quot;Продаж&quot;, 2\\x0aэтаж &amp; &lt;b&gt;bold&lt;/b&gt;") != std::string::npos);
    CHECK(html.find("<title>Run &lt;/title&gt;&lt;script&gt;x()&lt;/script&gt;</title>") != std::string::npos);
    CHECK(html.find("&#39;") == std::string::npos);  // the sample has no apostrophe; see the next subcase
  }
  SUBCASE("quotes cannot break out of an attribute") {
    p.users[0].name = "x\" onmouseover=\"alert(1)' y";
    const auto h = report::render_html(p, nullptr, {});
    CHECK(h.find("onmouseover=\"") == std::string::npos);
    CHECK(h.find("x&quot; onmouseover=&quot;alert(1)&#39; y") != std::string::npos);
  }
}

TEST_CASE("html: a run report lists the failures and the run figures") {
  const auto p = run_plan();
  const auto r = test::sample_run(p);
  const auto html = report::render_html(p, &r, {});
  CHECK(html.find("data-applied=\"6\" data-failed=\"2\" data-not-run=\"1\"") != std::string::npos);
  CHECK(html.find("<section id=\"failures\" data-count=\"2\">") != std::string::npos);
  CHECK(html.find("ERROR_CORE: Email &quot;=cmd@corp.ru&quot; is &lt;invalid&gt;") != std::string::npos);
  CHECK(html.find("<title>b24sync run</title>") != std::string::npos);
  CHECK(html.find("id=\"guards\"") == std::string::npos);
}

TEST_CASE("run_result tallies applied and failed over departments and users") {
  const auto p = run_plan();
  const auto r = test::sample_run(p);
  CHECK(r.applied() == 6);
  CHECK(r.failed() == 2);
  CHECK(sync::to_string(sync::op_status::recovered) == "recovered");
}

TEST_CASE("plan enum names round-trip through their strings") {
  for (const auto k : {sync::op_kind::create, sync::op_kind::update, sync::op_kind::reactivate,
                       sync::op_kind::deactivate, sync::op_kind::unchanged, sync::op_kind::skip}) {
    CHECK(sync::op_kind_from_string(sync::to_string(k)) == k);
  }
  for (const auto r : {sync::skip_reason::none, sync::skip_reason::protected_user, sync::skip_reason::webhook_user,
                       sync::skip_reason::not_managed, sync::skip_reason::conflict, sync::skip_reason::rejected_row,
                       sync::skip_reason::policy, sync::skip_reason::unknown_department,
                       sync::skip_reason::inactive_new}) {
    CHECK(sync::skip_reason_from_string(sync::to_string(r)) == r);
  }
  CHECK(sync::to_string(sync::skip_reason::protected_user) == "protected");
  for (const auto m : {sync::match_kind::none, sync::match_kind::identity_field, sync::match_kind::state,
                       sync::match_kind::email}) {
    CHECK(sync::match_kind_from_string(sync::to_string(m)) == m);
  }
  CHECK_FALSE(sync::op_kind_from_string("Create").has_value());
}
