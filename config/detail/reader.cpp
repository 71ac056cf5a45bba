// Typed YAML reads with positions: every error names file:line:column and the key path.
#include "config/detail/reader.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "config/text.hpp"

namespace b24sync::config::detail {

std::string_view type_name(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a scalar";
    default:
      return "nothing";
  }
}

reader::reader(std::string file, std::string_view text, const parse_options& options,
               std::vector<std::string>& warnings)
    : file_(std::move(file)), text_(text), options_(options), warnings_(warnings) {}

std::string reader::location(const YAML::Mark& at) const {
  int line = at.line < 0 ? 1 : at.line + 1;
  int column = at.column < 0 ? 1 : at.column + 1;
  return file_ + ":" + std::to_string(line) + ":" + std::to_string(column);
}

void reader::fail(const YAML::Mark& at, std::string_view path, std::string_view message) const {
  std::string m = location(at) + ": ";
  if (!path.empty()) m += std::string{path} + ": ";
  throw config_error(m + std::string{message});
}

void reader::fail(const YAML::Node& at, std::string_view path, std::string_view message) const {
  fail(at.Mark(), path, message);
}

void reader::fail_choice(const YAML::Node& n, std::string_view path, const std::string& v,
                         const std::vector<std::string>& names) const {
  std::string list;
  for (const auto& name : names) list += (list.empty() ? "" : ", ") + name;
  fail(n, path, "bad value \"" + v + "\" (expected one of: " + list + ")" + did_you_mean(v, names));
}

std::optional<std::string> reader::getenv(const std::string& name) const {
  if (options_.getenv) return options_.getenv(name);
  const char* v = std::getenv(name.c_str());
  if (!v) return std::nullopt;
  return std::string{v};
}

std::string reader::resolve(const std::string& p) const {
  if (p.empty() || options_.base_dir.empty()) return p;
  std::filesystem::path path{p};
  if (path.is_absolute()) return p;
  return (options_.base_dir / path).lexically_normal().string();
}

std::string reader::expand(const YAML::Node& at, std::string_view path, std::string_view text) const {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    if (text.compare(i, 3, "$${") == 0) {
      out += "${";
      i += 3;
    } else if (text.compare(i, 2, "${") == 0) {
      std::size_t close = text.find('}', i + 2);
      if (close == std::string_view::npos) fail(at, path, "unterminated ${...} (write $${ for a literal ${)");
      std::string_view inner = text.substr(i + 2, close - i - 2);
      std::optional<std::string> fallback;
      if (std::size_t dash = inner.find(":-"); dash != std::string_view::npos) {
        fallback = std::string{inner.substr(dash + 2)};
        inner = inner.substr(0, dash);
      }
      std::string name{inner};
      bool ok_name = !name.empty();
      for (char c : name)
        ok_name = ok_name &&
                  (c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'));
      if (!ok_name) fail(at, path, "bad environment variable name \"" + name + "\" in ${...}");
      auto value = getenv(name);
      if (!value && !fallback) fail(at, path, "environment variable " + name + " is not set");
      out += value ? *value : *fallback;
      i = close + 1;
    } else {
      out += text[i++];
    }
  }
  return out;
}

std::string reader::raw_str(const YAML::Node& n, std::string_view path) const {
  if (!n.IsScalar()) fail(n, path, "expected a string, got " + std::string{type_name(n)});
  return n.Scalar();
}

std::string reader::str(const YAML::Node& n, std::string_view path) const {
  return expand(n, path, raw_str(n, path));
}

bool reader::boolean(const YAML::Node& n, std::string_view path) const {
  std::string v = str(n, path);
  for (const char* t : {"true", "yes", "on"})
    if (iequals(v, t)) return true;
  for (const char* f : {"false", "no", "off"})
    if (iequals(v, f)) return false;
  fail(n, path, "expected true or false, got \"" + v + "\"");
}

std::int64_t reader::integer(const YAML::Node& n, std::string_view path, std::int64_t min,
                             std::int64_t max) const {
  std::string v = str(n, path);
  std::int64_t out = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc{} || end != v.data() + v.size())
    fail(n, path, "expected a whole number, got \"" + v + "\"");
  if (out < min || out > max)
    fail(n, path, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " + v);
  return out;
}

double reader::number(const YAML::Node& n, std::string_view path, double min, double max) const {
  std::string v = str(n, path);
  char* end = nullptr;
  double out = v.empty() ? NAN : std::strtod(v.c_str(), &end);
  if (v.empty() || end != v.c_str() + v.size() || !std::isfinite(out))
    fail(n, path, "expected a number, got \"" + v + "\"");
  if (out < min || out > max) {
    auto fmt = [](double d) {
      std::string s = std::to_string(d);
      s.erase(s.find_last_not_of('0') + 1);
      if (!s.empty() && s.back() == '.') s.pop_back();
      return s;
    };
    fail(n, path, "must be between " + fmt(min) + " and " + fmt(max) + ", got " + v);
  }
  return out;
}

double reader::ratio(const YAML::Node& n, std::string_view path) const {
  std::string v = str(n, path);
  if (!v.empty() && v.back() == '%') {
    char* end = nullptr;
    std::string digits = v.substr(0, v.size() - 1);
    double p = digits.empty() ? NAN : std::strtod(digits.c_str(), &end);
    if (digits.empty() || end != digits.c_str() + digits.size() || !std::isfinite(p) || p < 0 || p > 100)
      fail(n, path, "expected a share like 0.5 or \"50%\", got \"" + v + "\"");
    return p / 100;
  }
  return number(n, path, 0, 1);
}

std::chrono::milliseconds reader::duration(const YAML::Node& n, std::string_view path) const {
  std::string v = str(n, path);
  using namespace std::chrono;
  milliseconds total{0};
  std::size_t i = 0;
  auto bad = [&](const std::string& why) {
    fail(n, path, "bad duration \"" + v + "\": " + why + " (write e.g. 90s, 15m, 1h30m, 1d, 500ms)");
  };
  if (v.empty()) bad("empty");
  while (i < v.size()) {
    std::size_t start = i;
    std::int64_t amount = 0;
    while (i < v.size() && v[i] >= '0' && v[i] <= '9') {
      if (amount > 1'000'000'000) bad("too large");
      amount = amount * 10 + (v[i++] - '0');
    }
    if (i == start) bad("expected a number");
    std::size_t u = i;
    while (i < v.size() && v[i] >= 'a' && v[i] <= 'z') ++i;
    std::string unit = v.substr(u, i - u);
    if (unit == "ms")
      total += milliseconds{amount};
    else if (unit == "s")
      total += seconds{amount};
    else if (unit == "m")
      total += minutes{amount};
    else if (unit == "h")
      total += hours{amount};
    else if (unit == "d")
      total += hours{24 * amount};
    else if (unit.empty())
      bad("missing unit");
    else
      bad("unknown unit \"" + unit + "\"");
    if (total > hours{24 * 366}) bad("longer than a year");
  }
  if (total.count() <= 0) bad("must be longer than zero");
  return total;
}

std::vector<std::string> reader::str_list(const YAML::Node& n, std::string_view path) const {
  std::vector<std::string> out;
  if (n.IsScalar()) {
    out.push_back(str(n, path));
    return out;
  }
  if (!n.IsSequence()) fail(n, path, "expected a list, got " + std::string{type_name(n)});
  for (std::size_t k = 0; k < n.size(); ++k)
    out.push_back(str(n[k], std::string{path} + "[" + std::to_string(k) + "]"));
  return out;
}

YAML::Mark reader::mark_in_scalar(const YAML::Node& n, std::size_t offset) const {
  YAML::Mark m = n.Mark();
  if (m.pos < 0 || static_cast<std::size_t>(m.pos) >= text_.size() || !n.IsScalar()) return m;
  std::size_t pos = static_cast<std::size_t>(m.pos);
  std::size_t quote = (text_[pos] == '"' || text_[pos] == '\'') ? 1 : 0;
  std::string_view raw = text_.substr(pos + quote);
  const std::string& value = n.Scalar();
  // Only when the scalar is written verbatim on one line can we point inside it.
  if (offset > value.size() || raw.substr(0, offset) != std::string_view{value}.substr(0, offset) ||
      value.find('\n') != std::string::npos)
    return m;
  m.column += static_cast<int>(quote + offset);
  m.pos += static_cast<int>(quote + offset);
  return m;
}

map_view::map_view(const reader& r, const YAML::Node& node, std::string path,
                   std::vector<std::string> allowed)
    : r_(r), node_(node), path_(std::move(path)) {
  if (!node_.IsDefined() || node_.IsNull()) return;
  if (!node_.IsMap()) r_.fail(node_, path_, "expected a map, got " + std::string{type_name(node_)});
  std::vector<std::string> seen;
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    const YAML::Node key = it->first;  // a copy: the iterator hands out a temporary pair
    if (!key.IsScalar()) r_.fail(key, path_, "keys must be plain names, got " + std::string{type_name(key)});
    const std::string& k = key.Scalar();
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end())
      r_.fail(key, path_of(k), "unknown key" + did_you_mean(k, allowed));
    if (std::find(seen.begin(), seen.end(), k) != seen.end()) r_.fail(key, path_of(k), "duplicate key");
    seen.push_back(k);
  }
}

std::optional<YAML::Node> map_view::get(std::string_view key) const {
  if (!node_.IsMap()) return std::nullopt;
  for (auto it = node_.begin(); it != node_.end(); ++it)
    if (it->first.IsScalar() && it->first.Scalar() == key) {
      if (it->second.IsNull()) return std::nullopt;
      return it->second;
    }
  return std::nullopt;
}

YAML::Node map_view::require(std::string_view key) const {
  if (auto n = get(key)) return *n;
  // Point at the key when it is present without a value, else at the map itself.
  if (node_.IsMap())
    for (auto it = node_.begin(); it != node_.end(); ++it)
      if (it->first.IsScalar() && it->first.Scalar() == key)
        r_.fail(it->first, path_of(key), "needs a value");
  r_.fail(node_, path_of(key), "missing required key");
}

void map_view::read(std::string_view key, std::string& out) const {
  if (auto n = get(key)) out = r_.str(*n, path_of(key));
}
void map_view::read(std::string_view key, bool& out) const {
  if (auto n = get(key)) out = r_.boolean(*n, path_of(key));
}
void map_view::read(std::string_view key, std::vector<std::string>& out) const {
  if (auto n = get(key)) out = r_.str_list(*n, path_of(key));
}

}  // namespace b24sync::config::detail
