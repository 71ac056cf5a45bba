// The emulator's inspection and control endpoints under /emu (outside /rest: never rate-limited or faulted).
#include "server/limits_json.hpp"
#include "server/pipeline.hpp"

#include <boost/json.hpp>

#include <stdexcept>

namespace b24emu {
namespace {

http_response json_ok(boost::json::value v) {
  http_response r;
  r.body = boost::json::serialize(v);
  return r;
}

http_response emu_error(int status, std::string_view code, std::string_view description) {
  http_response r;
  r.status = status;
  r.body = boost::json::serialize(boost::json::object{{"error", code}, {"error_description", description}});
  return r;
}

// An empty or all-blank body parses as null.
boost::json::value parse_body(const std::string& body) {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return nullptr;
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (ec) throw std::invalid_argument("body is not valid JSON: " + ec.message());
  return v;
}

double number_of(const boost::json::value& v, const char* key) {
  if (v.is_double()) return v.get_double();
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  throw std::invalid_argument(std::string(key) + " must be a number");
}

}  // namespace

boost::json::value pipeline::time_unlocked(std::chrono::steady_clock::time_point at) const {
  return boost::json::object{{"now", time_.now(at)}, {"time_scale", time_.scale()}};
}

boost::json::value pipeline::faults_unlocked() const {
  boost::json::value v = to_json(faults_.spec());
  auto& rules = v.get_object()["rules"].get_array();
  for (std::size_t i = 0; i < rules.size(); ++i) rules[i].get_object()["injected"] = faults_.injected(i);
  return v;
}

http_response pipeline::process_emu(const http_request& req, std::chrono::steady_clock::time_point at) {
  const std::string path = req.target.substr(0, req.target.find('?'));
  const bool get = req.method == "GET";
  const bool post = req.method == "POST";
  try {
    if (path == "/emu/users" && get) return json_ok(portal_.dump_users());
    if (path == "/emu/departments" && get) return json_ok(portal_.dump_departments());
    if (path == "/emu/invitations" && get) return json_ok(portal_.invitations());
    if (path == "/emu/notifications" && get) return json_ok(portal_.notifications());
    if (path == "/emu/stats" && get) return json_ok(stats_unlocked());
    if (path == "/emu/time" && get) return json_ok(time_unlocked(at));
    if (path == "/emu/limits" && get) return json_ok(limits_to_json(portal_.limits()));
    if (path == "/emu/faults" && get) return json_ok(faults_unlocked());
    if (path == "/emu/reset" && post) {
      // A seed body reloads all data; either way the stats start again from zero.
      const auto seed = parse_body(req.body);
      if (!seed.is_null()) portal_.load_seed(seed);
      stats_ = server_stats{};
      portal_.reset_stats();
      return json_ok(boost::json::object{{"ok", true}, {"reloaded", !seed.is_null()}});
    }
    if (path == "/emu/limits" && post) {
      apply_limits_patch(portal_.limits(), parse_body(req.body));
      return json_ok(limits_to_json(portal_.limits()));
    }
    if (path == "/emu/faults" && post) {
      const auto spec = parse_body(req.body);
      faults_ = fault_injector(spec.is_null() ? fault_spec{} : parse_fault_spec(spec));
      return json_ok(faults_unlocked());
    }
    if (path == "/emu/time" && post) {
      // {"advance_s": 600} jumps portal time forward; {"time_scale": 100} changes the pace from now on.
      const auto body = parse_body(req.body);
      if (!body.is_object()) throw std::invalid_argument("expected {\"advance_s\": N} and/or {\"time_scale\": X}");
      for (const auto& [key, value] : body.get_object()) {
        if (key == "advance_s") time_.advance(number_of(value, "advance_s"));
        else if (key == "time_scale") time_.set_scale(number_of(value, "time_scale"), at);
        else throw std::invalid_argument("unknown key " + std::string(key));
      }
      return json_ok(time_unlocked(at));
    }
  } catch (const std::invalid_argument& e) {
    return emu_error(400, "EMU_BAD_REQUEST", e.what());
  }
  static constexpr std::string_view known[] = {"/emu/users",  "/emu/departments", "/emu/invitations",
                                                "/emu/notifications", "/emu/stats", "/emu/time",
                                                "/emu/limits", "/emu/faults",      "/emu/reset"};
  for (auto k : known)
    if (path == k) return emu_error(405, "EMU_METHOD_NOT_ALLOWED", req.method + " " + path);
  return emu_error(404, "EMU_NOT_FOUND", "no such endpoint: " + path);
}

}  // namespace b24emu
