// The batch method: command parsing, $result[...] references, halt, the 50-command cap, result maps.
#include "core/batch.hpp"

#include "core/params.hpp"
#include "core/php.hpp"

namespace b24emu::detail {

namespace json = boost::json;

namespace {

struct reference {
  std::size_t begin = 0, end = 0;  // [begin, end) in the string
  std::string map;                 // result, next, total, time, error
  std::vector<std::string> path;
};

// Finds the next "$name[seg][seg]..." with a known map name at or after `from`.
std::optional<reference> find_reference(std::string_view s, std::size_t from) {
  static const char* names[] = {"result", "next", "total", "time", "error"};
  for (auto pos = s.find('$', from); pos != std::string_view::npos; pos = s.find('$', pos + 1)) {
    for (const char* n : names) {
      std::string_view name(n);
      if (s.size() < pos + 1 + name.size()) continue;
      if (ascii_lower(s.substr(pos + 1, name.size())) != name) continue;
      std::size_t p = pos + 1 + name.size();
      reference r;
      r.begin = pos;
      r.map = std::string(name);
      while (p < s.size() && s[p] == '[') {
        auto close = s.find(']', p + 1);
        if (close == std::string_view::npos) break;
        r.path.emplace_back(s.substr(p + 1, close - p - 1));
        p = close + 1;
      }
      if (r.path.empty()) continue;
      r.end = p;
      return r;
    }
  }
  return std::nullopt;
}

// Walks the path; a missing segment stops at the deepest level found (the portal's quirk, trap 6).
const json::value* walk(const json::object& maps, const reference& r) {
  auto it = maps.find(r.map);
  if (it == maps.end()) return nullptr;
  const json::value* cur = &it->value();
  for (auto& seg : r.path) {
    if (cur->is_object()) {
      auto f = cur->get_object().find(seg);
      if (f == cur->get_object().end()) break;
      cur = &f->value();
    } else if (cur->is_array()) {
      auto& a = cur->get_array();
      bool digits = !seg.empty() && seg.size() < 10;
      for (char c : seg) digits = digits && c >= '0' && c <= '9';
      if (!digits) break;
      auto idx = static_cast<std::size_t>(php_intval(std::string_view(seg)));
      if (idx >= a.size()) break;
      cur = &a[idx];
    } else {
      break;
    }
  }
  return cur;
}

void resolve_string(json::value& v, const json::object& maps) {
  std::string s(v.get_string());
  auto first = find_reference(s, 0);
  if (!first) return;
  if (first->begin == 0 && first->end == s.size()) {
    if (auto* target = walk(maps, *first)) v = *target;  // whole value: keeps the referenced type
    return;
  }
  std::string out;
  std::size_t pos = 0;
  for (auto r = first; r; r = find_reference(s, r->end)) {
    out.append(s, pos, r->begin - pos);
    auto* target = walk(maps, *r);
    if (target && (target->is_string() || target->is_number()))
      out += php_strval(*target);
    else
      out.append(s, r->begin, r->end - r->begin);
    pos = r->end;
  }
  out.append(s, pos);
  v = json::string(out);
}

}  // namespace

void resolve_references(json::value& v, const json::object& maps) {
  if (v.is_string()) {
    resolve_string(v, maps);
  } else if (v.is_object()) {
    for (auto& kv : v.get_object()) resolve_references(kv.value(), maps);
  } else if (v.is_array()) {
    for (auto& x : v.get_array()) resolve_references(x, maps);
  }
}

call_result run_batch(const json::object& params, const limits_config& limits, double now,
                      const sub_runner& run, double& cost_s) {
  cost_s = 0;
  std::vector<std::pair<std::string, json::value>> commands;
  if (auto* cmd = get_ci(params, "cmd")) {
    if (cmd->is_object()) {
      for (auto& kv : cmd->get_object()) commands.emplace_back(std::string(kv.key()), kv.value());
    } else if (cmd->is_array()) {
      std::size_t i = 0;
      for (auto& x : cmd->get_array()) commands.emplace_back(std::to_string(i++), x);
    }
  }
  bool halt = false;
  if (auto* h = get_ci(params, "halt")) halt = php_truthy(*h);
  int max = limits.batch_max > 0 ? limits.batch_max : 50;
  if (limits.batch_overflow_400 && commands.size() > static_cast<std::size_t>(max))
    throw rest_error(400, "ERROR_BATCH_LENGTH_EXCEEDED", "Max batch length exceeded");

  // The maps both as references see them and as the result reports them (insertion order kept).
  json::object maps{{"result", json::object()},
                    {"next", json::object()},
                    {"total", json::object()},
                    {"time", json::object()},
                    {"error", json::object()}};
  auto& m_result = maps["result"].get_object();
  auto& m_next = maps["next"].get_object();
  auto& m_total = maps["total"].get_object();
  auto& m_time = maps["time"].get_object();
  auto& m_error = maps["error"].get_object();
  auto set_error = [&](const std::string& name, const rest_error& e) {
    m_error[name] = json::object{{"error", e.code}, {"error_description", e.description}};
  };
  std::size_t index = 0;
  for (auto& [name, command] : commands) {
    bool failed = false;
    if (index++ >= static_cast<std::size_t>(max)) {
      set_error(name, rest_error(400, "ERROR_BATCH_LENGTH_EXCEEDED", "Max batch length exceeded"));
      failed = true;
    } else {
      std::string text = command.is_string() ? std::string(command.get_string()) : std::string();
      auto q = text.find('?');
      std::string method = ascii_lower(text.substr(0, q));
      json::object sub_params;
      if (q != std::string::npos) parse_str(std::string_view(text).substr(q + 1), sub_params);
      for (auto& kv : sub_params) resolve_references(kv.value(), maps);
      auto outcome = run(method, std::move(sub_params), now + cost_s);
      cost_s += outcome.cost_s;
      if (outcome.ok) {
        m_result[name] = std::move(outcome.ok->result);
        if (outcome.ok->total) m_total[name] = *outcome.ok->total;
        if (outcome.ok->next) m_next[name] = *outcome.ok->next;
        m_time[name] = std::move(outcome.time);
      } else {
        set_error(name, outcome.error ? *outcome.error : rest_error(400, "ERROR_CORE", ""));
        failed = true;
      }
    }
    if (failed && halt) break;
  }
  auto to_php = [](json::object& o) {
    std::vector<std::pair<std::string, json::value>> entries;
    entries.reserve(o.size());
    for (auto& kv : o) entries.emplace_back(std::string(kv.key()), std::move(kv.value()));
    return php_map(std::move(entries));
  };
  call_result r;
  r.result = json::object{{"result", to_php(m_result)},
                          {"result_error", to_php(m_error)},
                          {"result_total", to_php(m_total)},
                          {"result_next", to_php(m_next)},
                          {"result_time", to_php(m_time)}};
  return r;
}

}  // namespace b24emu::detail
