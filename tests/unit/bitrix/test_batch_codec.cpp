// batch codec: command strings, body, splitting, and outcome mapping for every answer shape.
#include "bitrix/batch_codec.hpp"

#include <doctest/doctest.h>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>

#include <stdexcept>
#include <vector>

namespace json = boost::json;
using namespace b24sync::bitrix;

namespace {

std::vector<command> three() {
  return {
      {"c0", "user.update", json::object{{"ID", 1}, {"ACTIVE", "N"}}},
      {"c1", "user.add", json::object{{"EMAIL", "a@b.c"}, {"UF_DEPARTMENT", json::array{3}}}},
      {"c2", "user.get", json::object{{"FILTER", json::object{{"=EMAIL", "x_y@z.org"}}}}},
  };
}

}  // namespace

TEST_CASE("batch: command strings and the JSON body") {
  auto cmds = three();
  CHECK(encode_command(cmds[0]) == "user.update?ID=1&ACTIVE=N");
  CHECK(encode_command(command{"c9", "user.current", {}}) == "user.current");
  CHECK(build_batch_body(cmds) == R"({"halt":0,"cmd":{"c0":"user.update?ID=1&ACTIVE=N",)"
                                  R"("c1":"user.add?EMAIL=a%40b.c&UF_DEPARTMENT%5B0%5D=3",)"
                                  R"("c2":"user.get?FILTER%5B%3DEMAIL%5D=x_y%40z.org"}})");
  CHECK(build_batch_body(std::span(cmds).first(1), true) ==
        R"({"halt":1,"cmd":{"c0":"user.update?ID=1&ACTIVE=N"}})");
}

TEST_CASE("batch: invalid bodies are refused") {
  auto cmds = three();
  cmds[1].id = "c0";
  CHECK_THROWS_AS(build_batch_body(cmds), std::invalid_argument);
  cmds[1].id = "7";
  CHECK_THROWS_AS(build_batch_body(cmds), std::invalid_argument);
  cmds[1].id = "c1";
  cmds[1].method = "user.add?x=1";
  CHECK_THROWS_AS(build_batch_body(cmds), std::invalid_argument);
  std::vector<command> many(51, command{"", "user.get", {}});
  assign_command_ids(many);
  CHECK(many[50].id == "c50");
  CHECK_THROWS_AS(build_batch_body(many), std::invalid_argument);
  CHECK_NOTHROW(build_batch_body(std::span(many).first(50)));
  CHECK(is_valid_command_id("u_12"));
  CHECK_FALSE(is_valid_command_id("_x"));
  CHECK_FALSE(is_valid_command_id(""));
  CHECK_FALSE(is_valid_command_id("a-b"));
}

TEST_CASE("batch: splitter keeps order and size bounds") {
  std::vector<command> many(120, command{"", "user.update", {}});
  assign_command_ids(many, "u");
  auto chunks = split_batches(many);
  REQUIRE(chunks.size() == 3);
  CHECK(chunks[0].size() == 50);
  CHECK(chunks[2].size() == 20);
  CHECK(chunks[1].front().id == "u50");
  CHECK(chunks[2].back().id == "u119");
  CHECK(split_batches(many, 500).size() == 3);                    // clamped to 50
  CHECK(split_batches(std::span(many).first(3), 0).size() == 3);  // clamped to 1
  CHECK(split_batches(std::span<const command>{}).empty());
  CHECK(is_idempotent_batch(std::span(many)));
  auto cmds = three();
  CHECK_FALSE(is_idempotent_batch(cmds));
}

TEST_CASE("batch: object-form answer with errors, totals and per-command time") {
  auto cmds = three();
  auto answer = json::parse(R"({
    "result": {"c0": true, "c2": [{"ID":"5"}]},
    "result_error": {"c1": {"error": "ERROR_ARGUMENT", "error_description": "wrong_email",
                            "argument": "EMAIL"}},
    "result_total": {"c2": 1},
    "result_next": [],
    "result_time": {"c0": {"start": 100, "finish": 100.7, "duration": 0.7, "operating": 12.5,
                           "operating_reset_at": 640}}})");
  auto out = parse_batch_result(cmds, answer);
  REQUIRE(out.size() == 3);
  CHECK(out[0].id == "c0");
  CHECK(out[0].ok);
  CHECK(out[0].result.as_bool());
  REQUIRE(out[0].time);
  CHECK(out[0].time->operating == doctest::Approx(12.5));
  CHECK(out[0].time->operating_reset_at == doctest::Approx(640));
  CHECK_FALSE(out[1].ok);
  CHECK(out[1].method == "user.add");
  CHECK(out[1].error.error == "ERROR_ARGUMENT");
  CHECK(out[1].error.argument == "EMAIL");
  CHECK(classify(out[1].error) == error_class::permanent);
  CHECK(out[2].ok);
  CHECK(out[2].total == 1);
  CHECK_FALSE(out[2].next);
}

TEST_CASE("batch: every command failed - result is [] and errors carry OPERATION_TIME_LIMIT") {
  auto cmds = three();
  auto answer = json::parse(R"({"result": [], "result_error": {
      "c0": {"error": "OPERATION_TIME_LIMIT",
             "error_description": "Method is blocked due to operation time limit."},
      "c1": {"error": "OPERATION_TIME_LIMIT", "error_description": "blocked"},
      "c2": {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"}},
      "result_total": [], "result_next": [], "result_time": []})");
  time_info top;
  top.operating_reset_at = 1234;
  auto out = parse_batch_result(cmds, answer, top);
  for (const auto& o : out) CHECK_FALSE(o.ok);
  CHECK(classify(out[0].error) == error_class::retry_operating_limit);
  CHECK(out[0].error.operating_reset_at == 1234);
  CHECK(classify(out[1].error) == error_class::retry_operating_limit);  // even for user.add: it never ran
  CHECK(classify(out[2].error) == error_class::retry_rate_limited);
}

TEST_CASE("batch: positional (array) answers and gaps map by position") {
  auto cmds = three();
  auto answer = json::parse(R"({"result": {"0": true, "2": []},
      "result_error": {"1": {"error": "ERROR_CORE", "error_description": "access_denied"}}})");
  auto out = parse_batch_result(cmds, answer);
  CHECK(out[0].ok);
  CHECK(out[1].error.error == "ERROR_CORE");
  CHECK(out[2].ok);
  CHECK(out[2].result.as_array().empty());

  auto arr = json::parse(R"({"result": [true, 42, [{"ID":"9"}]], "result_error": [],
      "result_total": [null, null, 1]})");
  auto out2 = parse_batch_result(cmds, arr);
  CHECK(out2[1].ok);
  CHECK(out2[1].result.as_int64() == 42);
  CHECK(out2[2].total == 1);
}

TEST_CASE("batch: commands missing from the answer were not executed and are retryable") {
  auto cmds = three();
  auto answer = json::parse(R"({"result": {"c0": true}, "result_error": []})");
  auto out = parse_batch_result(cmds, answer);
  CHECK(out[0].ok);
  CHECK(out[1].error.kind == fault_kind::not_executed);
  CHECK(classify(out[1].error) == error_class::retry_not_executed);
  CHECK(out[2].error.kind == fault_kind::not_executed);
}

TEST_CASE("batch: wrong-shaped answer and whole-batch failures") {
  auto cmds = three();
  auto out = parse_batch_result(cmds, json::value(true));
  REQUIRE(out.size() == 3);
  CHECK(out[0].error.kind == fault_kind::malformed_envelope);
  CHECK(classify(out[0].error) == error_class::retry_server);  // user.update: idempotent
  CHECK(classify(out[1].error) == error_class::ambiguous);     // user.add: outcome unknown

  auto lost = fail_all(cmds, make_transport_diagnostics("reset after write", true, false));
  CHECK(classify(lost[0].error) == error_class::retry_transport);
  CHECK(classify(lost[1].error) == error_class::ambiguous);
  CHECK(classify(lost[2].error) == error_class::retry_transport);
  auto early = fail_all(cmds, make_transport_diagnostics("connection refused", false, false));
  CHECK(classify(early[1].error) == error_class::retry_transport);
}

TEST_CASE("batch: a consumed answer hands each result over in its arena, equal to the copying form") {
  std::vector<command> cmds{{"a", "user.get", {}}, {"b", "user.get", {}}, {"a", "user.get", {}}};
  const char* text = R"({"result": {"a": [{"ID": "1", "NAME": "Ann"}], "b": [{"ID": "2"}]},
                         "result_total": {"a": 1, "b": 1}})";
  auto arena = json::make_shared_resource<json::monotonic_resource>();
  json::value answer = json::parse(text, arena);
  const json::value copy = json::parse(text);
  auto copied = parse_batch_result(cmds, copy);
  auto moved = parse_batch_result(cmds, std::move(answer));
  REQUIRE(moved.size() == 3);
  for (std::size_t i = 0; i < moved.size(); ++i) {
    CHECK(moved[i].ok == copied[i].ok);
    CHECK(moved[i].result == copied[i].result);
    CHECK(moved[i].total == copied[i].total);
  }
  CHECK(moved[0].result.at(0).at("NAME") == "Ann");
  // Moved, not copied: the results still live in the answer's arena, which they keep alive.
  CHECK(moved[0].result.storage() == arena);
  CHECK(moved[1].result.storage() == arena);
  // The copying form detaches from the answer (default storage).
  CHECK(copied[0].result.storage() == json::storage_ptr());
  // Two commands naming the same entry both get it (copied, in the arena), neither a moved-from husk.
  CHECK(moved[2].result.at(0).at("ID") == "1");
  CHECK(moved[2].result.storage() == arena);
  // The answer itself may go: the results outlive it.
  answer = nullptr;
  arena = json::storage_ptr();
  CHECK(moved[1].result.at(0).at("ID") == "2");
}
