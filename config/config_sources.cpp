// The `sources` list: CSV and LDIF files, live LDAP directories; keys checked per source type.
#include <algorithm>

#include "config/detail/sections.hpp"
#include "config/text.hpp"

namespace b24sync::config::detail {
namespace {

const std::vector<std::string> file_keys = {"path", "encoding"};
const std::vector<std::string> ldap_only_keys = {"uri",     "starttls",      "base",       "scope",
                                                 "bind_dn", "password_file", "attributes", "page_size"};
const std::vector<std::string> directory_keys = {"filter", "object_classes"};

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Keys valid for one type but given for another are errors that say which type they belong to.
void check_type_keys(const reader& r, const map_view& m, source_type type) {
  for (auto it = m.node().begin(); it != m.node().end(); ++it) {
    const std::string& k = it->first.Scalar();
    std::string_view owner;
    if (type != source_type::csv && k == "delimiter") owner = "csv";
    if (type == source_type::csv && contains(directory_keys, k)) owner = "ldif and ldap";
    if (type != source_type::ldap && contains(ldap_only_keys, k)) owner = "ldap";
    if (type == source_type::ldap && contains(file_keys, k)) owner = "csv and ldif";
    if (!owner.empty())
      r.fail(
          it->first, m.path_of(k),
          "only for " + std::string{owner} + " sources (this one is " + std::string{to_string(type)} + ")");
  }
}

source_config parse_source(const reader& r, const YAML::Node& node, const std::string& path) {
  map_view m(
      r, node, path,
      {"name", "type", "path", "encoding", "delimiter", "key", "filter", "object_classes", "enrich_only",
       "uri", "starttls", "base", "scope", "bind_dn", "password_file", "attributes", "page_size"});
  if (!node.IsMap()) r.fail(node, path, "expected a map with name, type, ...");
  source_config s;
  YAML::Node name_node = m.require("name");
  s.name = r.str(name_node, m.path_of("name"));
  bool ok_name = !s.name.empty() && s.name.size() <= 64;
  for (char c : s.name)
    ok_name = ok_name && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                          c == '_' || c == '-');
  if (!ok_name)
    r.fail(name_node, m.path_of("name"),
           "use letters, digits, '_' and '-' (at most 64), got \"" + s.name + "\"");
  s.type = r.choice<source_type>(
      m.require("type"), m.path_of("type"),
      {{"csv", source_type::csv}, {"ldif", source_type::ldif}, {"ldap", source_type::ldap}});
  check_type_keys(r, m, s.type);
  s.key = r.str(m.require("key"), m.path_of("key"));
  if (trim(s.key).empty())
    r.fail(*m.get("key"), m.path_of("key"), "must name the attribute holding the HR key");
  if (s.type == source_type::ldap) {
    s.uri = r.str(m.require("uri"), m.path_of("uri"));
    if (s.uri.rfind("ldap://", 0) != 0 && s.uri.rfind("ldaps://", 0) != 0 && s.uri.rfind("ldapi://", 0) != 0)
      r.fail(*m.get("uri"), m.path_of("uri"),
             "expected ldap://, ldaps:// or ldapi://, got \"" + s.uri + "\"");
    s.base = r.str(m.require("base"), m.path_of("base"));
    m.read("starttls", s.starttls);
    if (s.starttls && s.uri.rfind("ldaps://", 0) == 0)
      r.fail(*m.get("starttls"), m.path_of("starttls"), "StartTLS on an ldaps:// connection (already TLS)");
    if (auto n = m.get("scope"))
      s.scope = r.choice<ldap_scope>(
          *n, m.path_of("scope"),
          {{"base", ldap_scope::base}, {"one", ldap_scope::one}, {"sub", ldap_scope::sub}});
    m.read("bind_dn", s.bind_dn);
    if (auto n = m.get("password_file")) {
      s.password = read_secret_file(r, *n, m.path_of("password_file"), r.str(*n, m.path_of("password_file")));
    } else if (!s.bind_dn.empty()) {
      r.fail(*m.get("bind_dn"), m.path_of("bind_dn"), "a bind DN needs password_file");
    }
    m.read("attributes", s.attributes);
    if (auto n = m.get("page_size"))
      s.page_size = static_cast<int>(r.integer(*n, m.path_of("page_size"), 0, 100000));
  } else {
    s.path = r.resolve(r.str(m.require("path"), m.path_of("path")));
    if (auto n = m.get("encoding"))
      s.encoding = r.choice<text_encoding>(*n, m.path_of("encoding"),
                                           {{"utf-8", text_encoding::utf8},
                                            {"cp1251", text_encoding::cp1251},
                                            {"auto", text_encoding::auto_detect}});
  }
  if (auto n = m.get("delimiter")) {
    std::string d = r.str(*n, m.path_of("delimiter"));
    if (d == "\\t" || d == "tab") d = "\t";
    if (d == "auto") d = std::string(1, '\0');
    if (d.size() != 1 || d == "\"" || d == "\n" || d == "\r")
      r.fail(*n, m.path_of("delimiter"), "expected one character such as \",\", \";\" or \"\\t\", or auto");
    s.delimiter = d[0];
  }
  m.read("filter", s.filter);
  if (!s.filter.empty()) {
    int depth = 0;
    for (char c : s.filter) {
      depth += c == '(' ? 1 : c == ')' ? -1 : 0;
      if (depth < 0) break;
    }
    if (s.filter.front() != '(' || depth != 0)
      r.fail(*m.get("filter"), m.path_of("filter"),
             "expected an LDAP filter in parentheses, e.g. \"(objectClass=user)\"");
  }
  m.read("object_classes", s.object_classes);
  m.read("enrich_only", s.enrich_only);
  return s;
}

}  // namespace

std::vector<source_config> parse_sources(const reader& r, const YAML::Node& node) {
  if (!node.IsSequence())
    r.fail(node, "sources", "expected a list of sources, got " + std::string{type_name(node)});
  if (node.size() == 0) r.fail(node, "sources", "needs at least one source");
  std::vector<source_config> out;
  for (std::size_t k = 0; k < node.size(); ++k) {
    std::string path = "sources[" + std::to_string(k) + "]";
    source_config s = parse_source(r, node[k], path);
    for (const auto& other : out)
      if (other.name == s.name)
        r.fail(node[k]["name"], path + ".name", "duplicate source name \"" + s.name + "\"");
    out.push_back(std::move(s));
  }
  if (std::all_of(out.begin(), out.end(), [](const source_config& s) { return s.enrich_only; }))
    r.fail(node, "sources", "every source is enrich_only; at least one must list people");
  return out;
}

}  // namespace b24sync::config::detail
