// PHP-style query encoding on Boost.URL percent-encoding, and its parse_str-like inverse.
#include "bitrix/php_query.hpp"

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <array>
#include <charconv>
#include <stdexcept>
#include <string>
#include <vector>

namespace b24sync::bitrix {
namespace {

namespace json = boost::json;

std::string pct(std::string_view s) {
  return boost::urls::encode(s, boost::urls::unreserved_chars);
}

void check_key(std::string_view key, bool top_level) {
  if (key.empty()) throw std::invalid_argument("php query: empty key");
  for (char c : key) {
    if (c == '[' || c == ']')
      throw std::invalid_argument("php query: key contains a bracket: " + std::string(key));
    if (top_level && (c == '.' || c == ' '))
      throw std::invalid_argument("php query: top-level key contains '.' or ' ': " + std::string(key));
  }
}

std::string scalar_text(const json::value& v) {
  switch (v.kind()) {
    case json::kind::string:
      return std::string(v.get_string());
    case json::kind::bool_:
      return v.get_bool() ? "Y" : "N";
    case json::kind::int64:
      return std::to_string(v.get_int64());
    case json::kind::uint64:
      return std::to_string(v.get_uint64());
    case json::kind::double_: {
      std::array<char, 64> buf{};
      auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v.get_double());
      if (ec != std::errc{}) throw std::invalid_argument("php query: unprintable double");
      return std::string(buf.data(), end);
    }
    default:
      return {};
  }
}

void emit(std::string& out, const std::string& encoded_key, const json::value& v) {
  auto pair = [&](std::string_view text) {
    if (!out.empty()) out += '&';
    out += encoded_key;
    out += '=';
    out += pct(text);
  };
  if (v.is_object()) {
    const auto& o = v.get_object();
    if (o.empty()) return pair("");
    for (const auto& kv : o) {
      check_key(kv.key(), false);
      emit(out, encoded_key + "%5B" + pct(kv.key()) + "%5D", kv.value());
    }
  } else if (v.is_array()) {
    const auto& a = v.get_array();
    if (a.empty()) return pair("");
    for (std::size_t i = 0; i < a.size(); ++i)
      emit(out, encoded_key + "%5B" + std::to_string(i) + "%5D", a[i]);
  } else {
    pair(scalar_text(v));
  }
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// urldecode(): '+' is a space, %XX a byte.
std::string url_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= s.size()) throw std::invalid_argument("php query: truncated percent escape");
      int hi = hex_digit(s[i + 1]), lo = hex_digit(s[i + 2]);
      if (hi < 0 || lo < 0) throw std::invalid_argument("php query: bad percent escape");
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

// Insert `value` at path base[seg0][seg1]...; an empty segment appends (next integer key).
void insert_at(json::object& root, const std::string& base, const std::vector<std::string>& segs,
               std::string value) {
  json::value* slot = &root[base];
  for (const auto& seg : segs) {
    if (!slot->is_object()) *slot = json::object{};
    auto& o = slot->get_object();
    std::string key = seg;
    if (key.empty()) {  // "[]": PHP appends at max integer key + 1
      long long next = 0;
      for (const auto& kv : o) {
        long long n = 0;
        auto [p, ec] = std::from_chars(kv.key().data(), kv.key().data() + kv.key().size(), n);
        if (ec == std::errc{} && p == kv.key().data() + kv.key().size() && n >= next) next = n + 1;
      }
      key = std::to_string(next);
    }
    slot = &o[key];
  }
  *slot = json::string(value);
}

// Objects keyed "0".."n-1" in order become arrays, recursively.
void listify(json::value& v) {
  if (!v.is_object()) return;
  auto& o = v.get_object();
  for (auto& kv : o) listify(kv.value());
  std::size_t i = 0;
  for (const auto& kv : o) {
    if (kv.key() != std::to_string(i)) return;
    ++i;
  }
  if (o.empty()) return;
  json::array a;
  for (auto& kv : o) a.push_back(std::move(kv.value()));
  v = std::move(a);
}

}  // namespace

void append_php_query(std::string& out, std::string_view key, const json::value& value) {
  // The prefix may already carry brackets ("FILTER[>ID]"): encode each part separately.
  std::string encoded;
  std::size_t open = key.find('[');
  std::string_view base = key.substr(0, open);
  check_key(base, true);
  encoded = pct(base);
  while (open != std::string_view::npos) {
    std::size_t close = key.find(']', open);
    if (close == std::string_view::npos)
      throw std::invalid_argument("php query: unbalanced bracket in key: " + std::string(key));
    encoded += "%5B" + pct(key.substr(open + 1, close - open - 1)) + "%5D";
    open = key.find('[', close);
    if (open != std::string_view::npos && open != close + 1)
      throw std::invalid_argument("php query: text between brackets in key: " + std::string(key));
  }
  emit(out, encoded, value);
}

std::string encode_php_query(const json::object& params) {
  std::string out;
  for (const auto& kv : params) {
    check_key(kv.key(), true);
    emit(out, pct(kv.key()), kv.value());
  }
  return out;
}

json::object parse_php_query(std::string_view query) {
  json::object root;
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    std::size_t eq = pair.find('=');
    std::string key = url_decode(pair.substr(0, eq));
    std::string value = eq == std::string_view::npos ? std::string{} : url_decode(pair.substr(eq + 1));
    std::size_t open = key.find('[');
    std::string base = key.substr(0, open);
    if (base.empty()) continue;  // parse_str ignores pairs without a name
    std::vector<std::string> segs;
    while (open != std::string::npos) {
      std::size_t close = key.find(']', open);
      if (close == std::string::npos) break;  // PHP keeps the rest as part of the last name; we never emit it
      segs.push_back(key.substr(open + 1, close - open - 1));
      open = close + 1 < key.size() && key[close + 1] == '[' ? close + 1 : std::string::npos;
    }
    insert_at(root, base, segs, std::move(value));
  }
  for (auto& kv : root) listify(kv.value());
  return root;
}

}  // namespace b24sync::bitrix
