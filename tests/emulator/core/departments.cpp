// Departments: department.get (exact filters, tree order, page-based paging), add, update, delete, fields.
#include "core/methods.hpp"
#include "core/php.hpp"
#include "core/seed.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <functional>

namespace b24emu::detail {

namespace json = boost::json;

namespace {

constexpr std::int64_t page_size = 50;

void require_admin(const call_context& c) {
  if (!c.caller_admin) throw rest_error(400, "ERROR_CORE", "Access denied");
}

// Parents first, siblings by SORT, NAME, ID (the iblock's LEFT_MARGIN order).
std::vector<const department*> tree_order(const portal_data& d) {
  std::map<std::int64_t, std::vector<const department*>> children;
  std::vector<const department*> roots;
  for (auto& [id, dep] : d.departments) {
    if (dep.parent && d.departments.count(*dep.parent))
      children[*dep.parent].push_back(&dep);
    else
      roots.push_back(&dep);
  }
  auto by_sort = [](const department* a, const department* b) {
    return std::tie(a->sort, a->name, a->id) < std::tie(b->sort, b->name, b->id);
  };
  std::vector<const department*> out;
  std::function<void(const department*)> visit = [&](const department* dep) {
    out.push_back(dep);
    auto it = children.find(dep->id);
    if (it == children.end()) return;
    auto kids = it->second;
    std::sort(kids.begin(), kids.end(), by_sort);
    for (auto* k : kids) visit(k);
  };
  std::sort(roots.begin(), roots.end(), by_sort);
  for (auto* r : roots) visit(r);
  return out;
}

std::string value_of(const department& dep, std::string_view key) {
  if (key == "ID") return std::to_string(dep.id);
  if (key == "NAME") return dep.name;
  if (key == "SORT") return std::to_string(dep.sort);
  if (key == "PARENT") return dep.parent ? std::to_string(*dep.parent) : std::string();
  return dep.head ? std::to_string(*dep.head) : std::string();
}

bool would_cycle(const portal_data& d, std::int64_t id, std::int64_t new_parent) {
  for (std::optional<std::int64_t> p = new_parent; p;) {
    if (*p == id) return true;
    auto it = d.departments.find(*p);
    p = it == d.departments.end() ? std::nullopt : it->second.parent;
  }
  return false;
}

department& existing(call_context& c, const json::object& p) {
  auto id = p.if_contains("ID") ? php_intval(p.at("ID")) : 0;
  auto it = c.data.departments.find(id);
  if (it == c.data.departments.end()) throw rest_error(400, "ERROR_CORE", "Department not found");
  return it->second;
}

void written(call_context& c) {
  ++c.data.version;
  ++c.stats.writes;
}

}  // namespace

call_result department_get(call_context& c) {
  static const char* keys[] = {"ID", "NAME", "SORT", "PARENT", "UF_HEAD"};
  const json::object* source = &c.params;
  if (auto* f = get_ci(c.params, "filter"); f && f->is_object()) source = &f->get_object();
  std::vector<std::pair<std::string, std::vector<std::string>>> filter;
  for (auto* k : keys) {
    auto it = source->find(k);  // keys are matched exactly (upper case), no operators
    if (it == source->end()) continue;
    std::vector<std::string> values;
    for (auto& v : php_list(it->value())) values.push_back(php_strval(v));
    filter.emplace_back(k, std::move(values));
  }
  auto all = tree_order(c.data);
  std::vector<const department*> rows;
  for (auto* dep : all) {
    bool ok = true;
    for (auto& [k, values] : filter) {
      auto v = value_of(*dep, k);
      ok = ok && std::find(values.begin(), values.end(), v) != values.end();
    }
    if (ok) rows.push_back(dep);
  }
  auto* sort = get_ci(c.params, "sort");
  if (sort && sort->is_string()) {
    auto field = ascii_upper(std::string_view(sort->get_string()));
    auto* order = get_ci(c.params, "order");
    bool desc = order && ascii_upper(php_strval(*order)) == "DESC";
    if (std::find_if(std::begin(keys), std::end(keys), [&](const char* k) { return field == k; }) !=
        std::end(keys)) {
      std::stable_sort(rows.begin(), rows.end(), [&](const department* a, const department* b) {
        if (field == "ID" || field == "SORT" || field == "PARENT" || field == "UF_HEAD") {
          auto x = php_intval(value_of(*a, field)), y = php_intval(value_of(*b, field));
          return desc ? x > y : x < y;
        }
        return desc ? a->name > b->name : a->name < b->name;
      });
    }
  }
  auto total = static_cast<std::int64_t>(rows.size());
  auto* start_v = get_ci(c.params, "start");
  std::int64_t page = start_v ? std::max<std::int64_t>(0, php_intval(*start_v)) / page_size : 0;
  if (page * page_size >= total) page = 0;  // out of range: page 1 again (trap 7)
  json::array a;
  for (auto i = page * page_size; i < total && i < (page + 1) * page_size; ++i)
    a.push_back(department_output(*rows[static_cast<std::size_t>(i)]));
  call_result r;
  r.result = std::move(a);
  r.total = total;
  if ((page + 1) * page_size < total) r.next = (page + 1) * page_size;
  return r;
}

call_result department_add(call_context& c) {
  require_admin(c);
  auto p = upper_keys(c.params);
  auto& d = c.data;
  department dep;
  dep.name = p.if_contains("NAME") ? php_strval(p.at("NAME")) : std::string();
  if (dep.name.empty()) throw rest_error(400, "ERROR_CORE", "Department name not provided.<br>");
  auto parent = p.if_contains("PARENT") ? php_intval(p.at("PARENT")) : 0;
  if (parent <= 0) {
    for (auto& [id, x] : d.departments)
      if (!x.parent) throw rest_error(400, "ERROR_CORE", "There can only be one top-level department.");
  } else {
    if (!d.departments.count(parent)) throw rest_error(400, "ERROR_CORE", "Parent department not found");
    dep.parent = parent;
  }
  if (auto* v = p.if_contains("SORT")) dep.sort = php_intval(*v);
  if (auto* v = p.if_contains("UF_HEAD"); v && php_intval(*v) > 0) dep.head = php_intval(*v);
  dep.id = d.next_department_id++;
  d.departments.emplace(dep.id, dep);
  written(c);
  call_result r;
  r.result = dep.id;
  return r;
}

call_result department_update(call_context& c) {
  require_admin(c);
  auto p = upper_keys(c.params);
  auto& dep = existing(c, p);
  if (auto* v = p.if_contains("NAME")) {
    auto name = php_strval(*v);
    if (name.empty()) throw rest_error(400, "ERROR_CORE", "Department name not provided.<br>");
    dep.name = name;
  }
  if (auto* v = p.if_contains("PARENT")) {
    auto parent = php_intval(*v);
    if (parent <= 0) {
      if (dep.parent) throw rest_error(400, "ERROR_CORE", "There can only be one top-level department.");
    } else {
      if (!c.data.departments.count(parent))
        throw rest_error(400, "ERROR_CORE", "Parent department not found");
      if (would_cycle(c.data, dep.id, parent)) throw rest_error(400, "ERROR_CORE", "Wrong parent department");
      dep.parent = parent;
    }
  }
  if (auto* v = p.if_contains("SORT")) dep.sort = php_intval(*v);
  if (auto* v = p.if_contains("UF_HEAD")) {
    if (php_intval(*v) > 0)
      dep.head = php_intval(*v);
    else
      dep.head.reset();
  }
  written(c);
  call_result r;
  r.result = true;
  return r;
}

call_result department_delete(call_context& c) {
  require_admin(c);
  auto p = upper_keys(c.params);
  auto& dep = existing(c, p);
  auto id = dep.id;
  for (auto& [k, x] : c.data.departments)
    if (x.parent && *x.parent == id) throw rest_error(400, "ERROR_CORE", "Department has subdepartments");
  for (auto& [k, u] : c.data.users)
    if (std::find(u.departments.begin(), u.departments.end(), id) != u.departments.end())
      throw rest_error(400, "ERROR_CORE", "Department has employees");
  c.data.departments.erase(id);
  written(c);
  call_result r;
  r.result = true;
  return r;
}

call_result department_fields(call_context&) {
  call_result r;
  r.result = json::object{
      {"ID", "ID"}, {"NAME", "Name"}, {"SORT", "Sort"}, {"PARENT", "Parent department"}, {"UF_HEAD", "Head"}};
  return r;
}

}  // namespace b24emu::detail
