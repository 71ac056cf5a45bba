// Parsing and evaluating the RFC 4515 filter subset used to pick entries out of LDIF files.
#include "connectors/ldap_filter.hpp"

#include <stdexcept>

#include "connectors/source_record.hpp"

namespace b24sync::connectors {
namespace {

char lower_ascii(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

// Case-insensitive find of `needle` in `hay` from `from`; npos when absent.
std::size_t ifind(std::string_view hay, std::string_view needle, std::size_t from) noexcept {
  if (needle.empty()) return from;
  for (std::size_t i = from; i + needle.size() <= hay.size(); ++i)
    if (iequals_ascii(hay.substr(i, needle.size()), needle)) return i;
  return std::string_view::npos;
}

int icompare(std::string_view a, std::string_view b) noexcept {
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    char x = lower_ascii(a[i]), y = lower_ascii(b[i]);
    if (x != y) return static_cast<unsigned char>(x) < static_cast<unsigned char>(y) ? -1 : 1;
  }
  return a.size() == b.size() ? 0 : (a.size() < b.size() ? -1 : 1);
}

int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  c = lower_ascii(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

class ldap_filter::parser {
 public:
  parser(std::string_view text, std::vector<node>& nodes) : s_(text), nodes_(nodes) {}

  std::size_t parse_filter(int depth) {
    if (depth > 64) fail("filter nested too deeply");
    expect('(');
    std::size_t index = nodes_.size();
    nodes_.emplace_back();
    char c = peek();
    if (c == '&' || c == '|' || c == '!') {
      ++i_;
      nodes_[index].k = c == '&' ? kind::and_ : (c == '|' ? kind::or_ : kind::not_);
      while (peek() == '(') {
        std::size_t child = parse_filter(depth + 1);
        nodes_[index].children.push_back(child);
      }
      if (nodes_[index].k == kind::not_ && nodes_[index].children.size() != 1)
        fail("'!' takes exactly one filter");
    } else {
      parse_item(index);
    }
    expect(')');
    return index;
  }

  void finish() {
    if (i_ != s_.size()) fail("unexpected text after the filter");
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::invalid_argument("LDAP filter: " + what + " at offset " + std::to_string(i_));
  }
  char peek() const noexcept { return i_ < s_.size() ? s_[i_] : '\0'; }
  void expect(char c) {
    if (peek() != c) {
      std::string what = "expected '";
      what += c;
      what += '\'';
      fail(what);
    }
    ++i_;
  }

  void parse_item(std::size_t index) {
    std::size_t start = i_;
    while (i_ < s_.size() && s_[i_] != '=' && s_[i_] != '~' && s_[i_] != '>' && s_[i_] != '<' &&
           s_[i_] != '(' && s_[i_] != ')')
      ++i_;
    std::string attr(s_.substr(start, i_ - start));
    if (attr.empty()) fail("missing attribute name");
    kind k = kind::equal;
    char op = peek();
    if (op == '>' || op == '<' || op == '~') {
      ++i_;
      k = op == '>' ? kind::greater_eq : (op == '<' ? kind::less_eq : kind::equal);
    }
    expect('=');
    // The value up to ')': '*' separates substring pieces (escaped as \2a when literal).
    std::vector<std::string> pieces(1);
    while (i_ < s_.size() && s_[i_] != ')') {
      char c = s_[i_];
      if (c == '(') fail("unescaped '(' in a value");
      if (c == '*' && k == kind::equal) {
        pieces.emplace_back();
        ++i_;
      } else if (c == '\\') {
        int hi = i_ + 1 < s_.size() ? hex_digit(s_[i_ + 1]) : -1;
        int lo = i_ + 2 < s_.size() ? hex_digit(s_[i_ + 2]) : -1;
        if (hi < 0 || lo < 0) fail("bad escape (use \\XX hex)");
        pieces.back().push_back(static_cast<char>(hi * 16 + lo));
        i_ += 3;
      } else {
        pieces.back().push_back(c);
        ++i_;
      }
    }
    node& n = nodes_[index];
    n.attr = std::move(attr);
    if (pieces.size() == 1) {
      n.k = k;
      n.value = std::move(pieces[0]);
    } else if (pieces.size() == 2 && pieces[0].empty() && pieces[1].empty()) {
      n.k = kind::present;
    } else {
      n.k = kind::substring;
      n.pieces = std::move(pieces);
    }
  }

  std::string_view s_;
  std::vector<node>& nodes_;
  std::size_t i_ = 0;
};

ldap_filter ldap_filter::parse(std::string_view text) {
  ldap_filter f;
  f.text_ = std::string(text);
  std::string wrapped;
  std::string_view s = text;
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (s.empty()) throw std::invalid_argument("LDAP filter: empty");
  if (s.front() != '(') {
    wrapped.reserve(s.size() + 2);
    wrapped += '(';
    wrapped += s;
    wrapped += ')';
    s = wrapped;
  }
  parser p(s, f.nodes_);
  p.parse_filter(0);
  p.finish();
  return f;
}

bool ldap_filter::value_matches(const node& n, std::string_view v) {
  switch (n.k) {
    case kind::present:
      return true;
    case kind::equal:
      return iequals_ascii(v, n.value);
    case kind::greater_eq:
      return icompare(v, n.value) >= 0;
    case kind::less_eq:
      return icompare(v, n.value) <= 0;
    case kind::substring: {
      const std::string& initial = n.pieces.front();
      const std::string& final_piece = n.pieces.back();
      if (v.size() < initial.size() + final_piece.size()) return false;
      if (!iequals_ascii(v.substr(0, initial.size()), initial)) return false;
      if (!iequals_ascii(v.substr(v.size() - final_piece.size()), final_piece)) return false;
      std::string_view middle = v.substr(initial.size(), v.size() - initial.size() - final_piece.size());
      std::size_t at = 0;
      for (std::size_t i = 1; i + 1 < n.pieces.size(); ++i) {
        at = ifind(middle, n.pieces[i], at);
        if (at == std::string_view::npos) return false;
        at += n.pieces[i].size();
      }
      return true;
    }
    default:
      return false;
  }
}

bool ldap_filter::eval(std::size_t index, std::span<const attribute_value_view> entry) const {
  const node& n = nodes_[index];
  switch (n.k) {
    case kind::and_:
      for (std::size_t c : n.children)
        if (!eval(c, entry)) return false;
      return true;
    case kind::or_:
      for (std::size_t c : n.children)
        if (eval(c, entry)) return true;
      return false;
    case kind::not_:
      return !eval(n.children.front(), entry);
    default:
      for (const auto& av : entry)
        if (iequals_ascii(av.name, n.attr) && value_matches(n, av.value)) return true;
      return false;
  }
}

bool ldap_filter::matches(std::span<const attribute_value_view> entry) const {
  return nodes_.empty() || eval(0, entry);
}

}  // namespace b24sync::connectors
