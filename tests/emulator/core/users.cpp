// Reading users: user.get / user.search paging over the ID-ordered store, user.current, user.admin,
// user.fields.
#include "core/filter.hpp"
#include "core/methods.hpp"
#include "core/php.hpp"
#include "core/userstore.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

namespace b24emu::detail {

namespace json = boost::json;

namespace {

constexpr std::int64_t page_size = 50;
constexpr std::size_t cache_entries = 8;

struct list_request {
  json::object filter;
  bool admin_mode = false;
  std::string sort_field;  // empty: ID
  bool desc = false;
  std::int64_t start = 0;
  field_select select;
};

list_request parse_list_request(const call_context& c) {
  list_request r;
  auto p = upper_keys(c.params);
  if (auto it = p.find("FILTER"); it != p.end() && it->value().is_object()) {
    r.filter = upper_keys(it->value().get_object());
  } else {
    // Legacy form: every top-level parameter is a filter key (unknown ones are dropped later).
    for (auto& kv : p) {
      auto k = std::string_view(kv.key());
      if (k == "FILTER" || k == "SORT" || k == "ORDER" || k == "ADMIN_MODE" || k == "START" ||
          k == "SELECT" || k == "IMAGE_RESIZE")
        continue;
      r.filter[k] = kv.value();
    }
  }
  if (auto* v = p.if_contains("ADMIN_MODE")) r.admin_mode = php_truthy(*v) && c.caller_admin;
  auto* sort = p.if_contains("SORT");
  auto* order = p.if_contains("ORDER");
  if (sort && order && php_truthy(*sort) && php_truthy(*order) && sort->is_string() && order->is_string()) {
    r.sort_field = ascii_upper(std::string_view(sort->get_string()));
    r.desc = ascii_upper(std::string_view(order->get_string())) == "DESC";
    if (r.sort_field == "ID") r.sort_field.clear();
  }
  if (auto* v = p.if_contains("START")) r.start = php_intval(*v);
  r.select = parse_select(p.if_contains("SELECT"));
  return r;
}

bool visible(const portal_data& d, const user_record& u, bool admin_mode) {
  // Bots etc. never; users without a department only in ADMIN_MODE on extranet portals (trap 3).
  return u.real && (!d.settings.extranet || admin_mode || !u.departments.empty());
}

std::string sort_key(const portal_data& d, const user_record& u, const std::string& field) {
  if (field == "ACTIVE") return u.active ? "Y" : "N";
  if (field == "IS_ONLINE") return u.online ? "Y" : "N";
  if (field == "LOGIN") return fold(u.login);
  auto it = u.fields.find(field);
  (void)d;
  return it == u.fields.end() ? std::string() : fold(php_strval(it->value()));
}

// Ids that can match according to an exact-match field index, when some condition is a
// case-insensitive equality on a text field (=EMAIL, =XML_ID, UF_USR_* without wildcards...).
// Sorted ascending. nullopt: no such condition, scan the ID range instead.
std::optional<std::vector<std::int64_t>> indexed_candidates(portal_data& d, const user_filter& f) {
  for (auto& c : f.conditions()) {
    if (c.kind != field_kind::string || c.folded.empty()) continue;
    if (c.op != filter_op::eq && c.op != filter_op::in && c.op != filter_op::like) continue;
    bool exact = true;
    for (auto& p : c.folded)
      exact = exact && !p.empty() && (c.op != filter_op::like || p.find_first_of("%_") == std::string::npos);
    if (!exact) continue;
    auto& idx = d.field_index(c.field);
    std::vector<std::int64_t> ids;
    for (auto& p : c.folded) {
      auto range = idx.equal_range(p);
      for (auto it = range.first; it != range.second; ++it)
        if (it->second >= f.min_id() && it->second <= f.max_id()) ids.push_back(it->second);
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    return ids;
  }
  return std::nullopt;
}

// Calls fn(user) for every visible matching user in ID order (descending if `desc`) until fn
// returns false.
template <class Fn>
void for_each_match(portal_data& d, const user_filter& f, const list_request& r, bool desc, Fn fn) {
  if (f.min_id() > f.max_id()) return;
  auto accept = [&](const user_record& u) {
    return !visible(d, u, r.admin_mode) || !f.matches(d, u) || fn(u);
  };
  if (auto candidates = indexed_candidates(d, f)) {
    if (desc) std::reverse(candidates->begin(), candidates->end());
    for (auto id : *candidates)
      if (!accept(d.users.at(id))) return;
    return;
  }
  if (!desc) {
    for (auto it = d.users.lower_bound(f.min_id()); it != d.users.end() && it->first <= f.max_id(); ++it)
      if (!accept(it->second)) return;
  } else {
    auto it = d.users.upper_bound(f.max_id());
    while (it != d.users.begin()) {
      --it;
      if (it->first < f.min_id() || !accept(it->second)) return;
    }
  }
}

// Every matching id in result order; cached per (filter, visibility, order) for one data version so
// that 50 exact-offset pages in a batch scan the store once.
const std::vector<std::int64_t>& all_matches(portal_data& d, const user_filter& f, const list_request& r,
                                             bool search) {
  std::string key = json::serialize(r.filter) + (r.admin_mode ? "|A" : "|-") + (search ? "S|" : "G|") +
                    r.sort_field + (r.desc ? "|D" : "|U");
  for (auto& e : d.list_cache)
    if (e.version == d.version && e.key == key) return e.ids;
  std::vector<std::int64_t> ids;
  for_each_match(d, f, r, r.desc && r.sort_field.empty(), [&](const user_record& u) {
    ids.push_back(u.id);
    return true;
  });
  if (!r.sort_field.empty()) {
    std::vector<std::pair<std::string, std::int64_t>> keyed;
    keyed.reserve(ids.size());
    for (auto id : ids) keyed.emplace_back(sort_key(d, d.users.at(id), r.sort_field), id);
    std::stable_sort(keyed.begin(), keyed.end(),
                     [&](auto& a, auto& b) { return r.desc ? a.first > b.first : a.first < b.first; });
    for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = keyed[i].second;
  }
  d.list_cache.erase(std::remove_if(d.list_cache.begin(), d.list_cache.end(),
                                    [&](const list_cache_entry& e) { return e.version != d.version; }),
                     d.list_cache.end());
  if (d.list_cache.size() >= cache_entries) d.list_cache.erase(d.list_cache.begin());
  d.list_cache.push_back({d.version, std::move(key), std::move(ids)});
  return d.list_cache.back().ids;
}

call_result list_users(call_context& c, bool search) {
  auto r = parse_list_request(c);
  user_filter f(c.data, r.filter, search);
  auto& d = c.data;
  std::vector<const user_record*> rows;
  call_result out;
  if (r.start == -1) {
    // No count: walk in ID order and stop after one page (the fast paging recipe).
    if (r.sort_field.empty()) {
      for_each_match(d, f, r, r.desc, [&](const user_record& u) {
        rows.push_back(&u);
        return static_cast<std::int64_t>(rows.size()) < page_size;
      });
    } else {
      auto& ids = all_matches(d, f, r, search);
      for (std::size_t i = 0; i < ids.size() && static_cast<std::int64_t>(i) < page_size; ++i)
        rows.push_back(&d.users.at(ids[i]));
    }
    if (!rows.empty()) out.total = 0;
  } else {
    auto start = std::max<std::int64_t>(0, r.start);
    auto& ids = all_matches(d, f, r, search);
    auto total = static_cast<std::int64_t>(ids.size());
    for (auto i = start; i < total && i < start + page_size; ++i)
      rows.push_back(&d.users.at(ids[static_cast<std::size_t>(i)]));
    if (!rows.empty()) {
      out.total = total;
      auto after = start + static_cast<std::int64_t>(rows.size());
      if (after < total) out.next = after;
    }
  }
  json::array a;
  a.reserve(rows.size());
  for (auto* u : rows) a.push_back(user_output(d, *u, r.select));
  out.result = std::move(a);
  return out;
}

}  // namespace

call_result user_get(call_context& c) {
  return list_users(c, false);
}
call_result user_search(call_context& c) {
  return list_users(c, true);
}

call_result user_current(call_context& c) {
  call_result r;
  r.result = user_output(c.data, c.data.users.at(c.caller_id), field_select());
  return r;
}

call_result user_admin(call_context& c) {
  call_result r;
  r.result = c.caller_admin;
  return r;
}

call_result user_fields(call_context& c) {
  json::object o;
  for (auto& [code, label] : standard_fields()) o[code] = label;
  for (auto& f : c.data.user_fields) o[f.field_name] = f.field_name;
  call_result r;
  r.result = std::move(o);
  return r;
}

call_result profile(call_context& c) {
  auto& u = c.data.users.at(c.caller_id);
  json::object o{{"ID", u.id}, {"ADMIN", u.is_admin}};
  for (const char* f : {"NAME", "LAST_NAME", "PERSONAL_GENDER", "TIME_ZONE"}) {
    auto it = u.fields.find(f);
    o[f] = it == u.fields.end() ? json::value("") : it->value();
  }
  call_result r;
  r.result = std::move(o);
  return r;
}

}  // namespace b24emu::detail
