// PHP-flavoured value helpers: truthiness, intval, case folding, SQL LIKE, PHP array <-> JSON shapes.
#include "core/php.hpp"

#include <boost/json/array.hpp>

#include <charconv>
#include <cmath>

namespace b24emu::detail {

namespace json = boost::json;

bool php_truthy(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return false;
    case json::kind::bool_:
      return v.get_bool();
    case json::kind::int64:
      return v.get_int64() != 0;
    case json::kind::uint64:
      return v.get_uint64() != 0;
    case json::kind::double_:
      return v.get_double() != 0.0;
    case json::kind::string: {
      auto& s = v.get_string();
      return !(s.empty() || s == "0");
    }
    case json::kind::array:
      return !v.get_array().empty();
    case json::kind::object:
      return !v.get_object().empty();
  }
  return false;
}

std::int64_t php_intval(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  bool neg = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    neg = s[i] == '-';
    ++i;
  }
  std::int64_t n = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
    if (n > (INT64_MAX - 9) / 10) break;
    n = n * 10 + (s[i] - '0');
  }
  return neg ? -n : n;
}

std::int64_t php_intval(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return 0;
    case json::kind::bool_:
      return v.get_bool() ? 1 : 0;
    case json::kind::int64:
      return v.get_int64();
    case json::kind::uint64:
      return static_cast<std::int64_t>(v.get_uint64());
    case json::kind::double_: {
      double d = v.get_double();
      return std::isfinite(d) ? static_cast<std::int64_t>(d) : 0;
    }
    case json::kind::string:
      return php_intval(std::string_view(v.get_string()));
    case json::kind::array:
      return v.get_array().empty() ? 0 : 1;
    case json::kind::object:
      return v.get_object().empty() ? 0 : 1;
  }
  return 0;
}

std::string php_strval(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "";
    case json::kind::bool_:
      return v.get_bool() ? "1" : "";
    case json::kind::int64:
      return std::to_string(v.get_int64());
    case json::kind::uint64:
      return std::to_string(v.get_uint64());
    case json::kind::double_: {
      double d = v.get_double();
      if (std::floor(d) == d && std::fabs(d) < 1e15) return std::to_string(static_cast<std::int64_t>(d));
      char buf[64];
      auto r = std::to_chars(buf, buf + sizeof buf, d);
      return std::string(buf, r.ptr);
    }
    case json::kind::string:
      return std::string(v.get_string());
    case json::kind::array:
    case json::kind::object:
      return "Array";
  }
  return "";
}

std::string php_trim(std::string_view s) {
  auto space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\0' || c == '\v';
  };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return std::string(s);
}

std::string ascii_upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string fold(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 'a' && c <= 'z') {
      out.push_back(static_cast<char>(c - 'a' + 'A'));
    } else if ((c == 0xD0 || c == 0xD1) && i + 1 < s.size()) {
      unsigned cp = ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3Fu);
      if (cp >= 0x430 && cp <= 0x44F)
        cp -= 0x20;  // а..я -> А..Я
      else if (cp >= 0x450 && cp <= 0x45F)
        cp -= 0x50;  // ѐ..џ (incl. ё) -> Ѐ..Џ
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      ++i;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

namespace {
std::size_t utf8_len(unsigned char c) {
  if (c < 0x80) return 1;
  if ((c >> 5) == 0x6) return 2;
  if ((c >> 4) == 0xE) return 3;
  if ((c >> 3) == 0x1E) return 4;
  return 1;
}
}  // namespace

bool like_match(std::string_view t, std::string_view p) {
  // Iterative wildcard matching with backtracking to the last '%'.
  std::size_t ti = 0, pi = 0;
  std::size_t star_p = std::string_view::npos, star_t = 0;
  while (ti < t.size()) {
    if (pi < p.size() && p[pi] == '%') {
      star_p = pi++;
      star_t = ti;
    } else if (pi < p.size() && p[pi] == '_') {
      ti += utf8_len(static_cast<unsigned char>(t[ti]));
      ++pi;
    } else if (pi < p.size() && p[pi] == t[ti]) {
      ++ti;
      ++pi;
    } else if (star_p != std::string_view::npos) {
      pi = star_p + 1;
      star_t += utf8_len(static_cast<unsigned char>(t[star_t]));
      ti = star_t;
    } else {
      return false;
    }
  }
  if (ti > t.size()) return false;
  while (pi < p.size() && p[pi] == '%') ++pi;
  return pi == p.size();
}

std::vector<json::value> php_list(const json::value& v) {
  std::vector<json::value> out;
  if (v.is_array()) {
    out.assign(v.get_array().begin(), v.get_array().end());
  } else if (v.is_object()) {
    for (auto& kv : v.get_object()) out.push_back(kv.value());
  } else {
    out.push_back(v);
  }
  return out;
}

const json::value* get_ci(const json::object& o, std::string_view key) {
  if (auto it = o.find(key); it != o.end()) return &it->value();
  for (auto& kv : o) {
    auto k = kv.key();
    if (k.size() != key.size()) continue;
    bool eq = true;
    for (std::size_t i = 0; i < k.size() && eq; ++i) {
      auto a = k[i], b = key[i];
      if (a >= 'a' && a <= 'z') a = static_cast<char>(a - 'a' + 'A');
      if (b >= 'a' && b <= 'z') b = static_cast<char>(b - 'a' + 'A');
      eq = a == b;
    }
    if (eq) return &kv.value();
  }
  return nullptr;
}

json::object upper_keys(const json::object& o) {
  json::object out;
  for (auto& kv : o) out[ascii_upper(kv.key())] = kv.value();
  return out;
}

json::value php_map(std::vector<std::pair<std::string, json::value>> entries) {
  if (entries.empty()) return json::array();
  bool is_list = true;
  for (std::size_t i = 0; i < entries.size() && is_list; ++i) is_list = entries[i].first == std::to_string(i);
  if (is_list) {
    json::array a;
    a.reserve(entries.size());
    for (auto& e : entries) a.push_back(std::move(e.second));
    return a;
  }
  json::object o;
  for (auto& e : entries) o[e.first] = std::move(e.second);
  return o;
}

}  // namespace b24emu::detail
