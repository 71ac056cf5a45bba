// The REST method table: name -> handler, required scopes; and the handlers' declarations.
#pragma once

#include "core/state.hpp"

#include <string_view>
#include <vector>

namespace b24emu::detail {

using method_fn = call_result (*)(call_context&);

struct method_info {
  method_fn fn = nullptr;
  std::vector<std::string_view> scopes;  // any one of them suffices; empty = no scope needed
  bool batchable = true;
};

// Null for an unknown method (name must be lower-cased). "batch" is listed with fn == nullptr: the
// portal runs it itself because it needs the call machinery.
const method_info* find_method(std::string_view name);
std::vector<std::string> method_names();
std::vector<std::string> all_scopes();

// users.cpp / users_write.cpp
call_result user_get(call_context& c);
call_result user_search(call_context& c);
call_result user_current(call_context& c);
call_result user_admin(call_context& c);
call_result user_fields(call_context& c);
call_result user_add(call_context& c);
call_result user_update(call_context& c);
call_result profile(call_context& c);

// userfields.cpp
call_result user_userfield_add(call_context& c);
call_result user_userfield_list(call_context& c);

// im.cpp
call_result im_message_add(call_context& c);
call_result im_notify_system_add(call_context& c);

// departments.cpp
call_result department_get(call_context& c);
call_result department_add(call_context& c);
call_result department_update(call_context& c);
call_result department_delete(call_context& c);
call_result department_fields(call_context& c);

}  // namespace b24emu::detail
