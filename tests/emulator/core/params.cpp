// Request parameters the way CRestUtil::getRequestData builds them: query string + body, body wins.
#include "core/params.hpp"

#include "core/php.hpp"

#include <boost/json/parse.hpp>

#include <vector>

namespace b24emu::detail {

namespace json = boost::json;

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The next index for "[]": one past the largest non-negative integer key (PHP nextIndex).
std::string next_index(const json::object& o) {
  std::int64_t next = 0;
  for (auto& kv : o) {
    auto k = std::string_view(kv.key());
    if (k.empty() || k.size() > 18) continue;
    bool digits = true;
    for (char c : k) digits = digits && c >= '0' && c <= '9';
    if (!digits || (k.size() > 1 && k[0] == '0')) continue;
    next = std::max(next, php_intval(k) + 1);
  }
  return std::to_string(next);
}

void assign(json::object& out, std::string_view key, std::string value) {
  // Split "base[a][b][]" into base and segments; text after the last complete "[...]" is ignored,
  // as PHP does.
  auto open = key.find('[');
  std::string base(key.substr(0, open));
  while (!base.empty() && base.front() == ' ') base.erase(base.begin());
  if (base.empty()) return;
  for (auto& ch : base)
    if (ch == ' ' || ch == '.') ch = '_';  // PHP mangles these in variable names
  std::vector<std::string> segs;
  bool has_segs = false;
  if (open != std::string_view::npos) {
    std::size_t pos = open;
    while (pos < key.size() && key[pos] == '[') {
      auto close = key.find(']', pos + 1);
      if (close == std::string_view::npos) break;
      segs.emplace_back(key.substr(pos + 1, close - pos - 1));
      has_segs = true;
      pos = close + 1;
    }
    if (!has_segs) {  // "a[b" without ']': PHP turns the '[' into '_' and keeps the rest
      base += '_';
      base += key.substr(open + 1);
    }
  }
  if (!has_segs) {
    out[base] = json::string(value);
    return;
  }
  json::value* cur = &out[base];
  for (std::size_t i = 0; i < segs.size(); ++i) {
    if (!cur->is_object()) *cur = json::object();
    auto& obj = cur->get_object();
    std::string k = segs[i].empty() ? next_index(obj) : segs[i];
    cur = &obj[k];
  }
  *cur = json::string(value);
}

}  // namespace

std::string url_decode(std::string_view s, bool plus_as_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+' && plus_as_space) {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < s.size() && hex_digit(s[i + 1]) >= 0 && hex_digit(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void parse_str(std::string_view query, json::object& out) {
  std::size_t pos = 0;
  while (pos <= query.size()) {
    auto amp = query.find('&', pos);
    auto part = query.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
    if (!part.empty()) {
      auto eq = part.find('=');
      std::string key = url_decode(part.substr(0, eq));
      std::string value = eq == std::string_view::npos ? std::string() : url_decode(part.substr(eq + 1));
      assign(out, key, std::move(value));
    }
    if (amp == std::string_view::npos) break;
    pos = amp + 1;
  }
}

json::object parse_str(std::string_view query) {
  json::object out;
  parse_str(query, out);
  return out;
}

json::object request_params(std::string_view query, std::string_view content_type, std::string_view body) {
  json::object params = parse_str(query);
  auto semi = content_type.find(';');
  auto mime = ascii_lower(content_type.substr(0, semi));
  while (!mime.empty() && mime.back() == ' ') mime.pop_back();
  while (!mime.empty() && mime.front() == ' ') mime.erase(mime.begin());
  if (body.empty()) return params;
  json::object from_body;
  if (mime == "application/json") {
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    if (!ec && v.is_object()) from_body = std::move(v.get_object());
  } else {
    parse_str(body, from_body);
  }
  for (auto& kv : from_body) params[kv.key()] = std::move(kv.value());
  return params;
}

}  // namespace b24emu::detail
