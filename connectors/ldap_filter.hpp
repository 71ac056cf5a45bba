// A small RFC 4515 LDAP filter (&, |, !, =, =*, substrings, >=, <=, ~=) evaluated against entries.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace b24sync::connectors {

// One attribute value of an entry, as views (multi-valued attributes repeat the name).
struct attribute_value_view {
  std::string_view name;
  std::string_view value;
};

class ldap_filter {
 public:
  // Parses e.g. "(&(objectClass=user)(!(userAccountControl=514))(mail=*@corp.ru))". The outer
  // parentheses may be omitted ("objectClass=person"). Throws std::invalid_argument naming the offset.
  static ldap_filter parse(std::string_view text);

  // Attribute names compare ASCII case-insensitively (options such as ";lang-ru" are part of the
  // name); values compare ASCII case-insensitively, as caseIgnoreMatch does for the common attributes.
  bool matches(std::span<const attribute_value_view> entry) const;
  const std::string& text() const noexcept { return text_; }

 private:
  enum class kind { and_, or_, not_, equal, present, substring, greater_eq, less_eq };
  struct node {
    kind k = kind::equal;
    std::string attr;
    std::string value;                  // equal / ordering
    std::vector<std::string> pieces;    // substring: initial, any..., final ("" when absent at the ends)
    std::vector<std::size_t> children;  // indices into nodes_
  };
  class parser;

  bool eval(std::size_t index, std::span<const attribute_value_view> entry) const;
  static bool value_matches(const node& n, std::string_view v);

  std::string text_;
  std::vector<node> nodes_;  // nodes_[0] is the root
};

}  // namespace b24sync::connectors
