// The REST method table: name -> handler, required scopes.
#include "core/methods.hpp"

#include <algorithm>
#include <map>

namespace b24emu::detail {

namespace {

const std::map<std::string, method_info, std::less<>>& table() {
  static const std::vector<std::string_view> user_read = {"user", "user_basic", "user_brief"};
  static const std::map<std::string, method_info, std::less<>> t = {
      {"user.get", {user_get, user_read}},
      {"user.search", {user_search, user_read}},
      {"user.current", {user_current, user_read}},
      {"user.admin", {user_admin, user_read}},
      {"user.fields", {user_fields, user_read}},
      {"user.add", {user_add, {"user"}}},
      {"user.update", {user_update, {"user"}}},
      {"user.userfield.add", {user_userfield_add, {"user.userfield"}}},
      {"user.userfield.list", {user_userfield_list, {"user.userfield"}}},
      {"department.get", {department_get, {"department"}}},
      {"department.add", {department_add, {"department"}}},
      {"department.update", {department_update, {"department"}}},
      {"department.delete", {department_delete, {"department"}}},
      {"department.fields", {department_fields, {"department"}}},
      {"im.message.add", {im_message_add, {"im"}}},
      {"im.notify.system.add", {im_notify_system_add, {"im"}}},
      {"profile", {profile, {}}},
      {"scope", {nullptr, {}}},
      {"methods", {nullptr, {}}},
      {"batch", {nullptr, {}, false}},
  };
  return t;
}

}  // namespace

const method_info* find_method(std::string_view name) {
  auto it = table().find(name);
  return it == table().end() ? nullptr : &it->second;
}

std::vector<std::string> method_names() {
  std::vector<std::string> out;
  for (auto& [k, v] : table()) out.push_back(k);
  return out;
}

std::vector<std::string> all_scopes() {
  return {"department", "im", "user", "user.userfield", "user_basic", "user_brief"};
}

}  // namespace b24emu::detail
