// Instant messaging, as far as b24sync's notifications need it: im.message.add (to a user's private
// dialog or a seeded chat) and im.notify.system.add (applications only). Accepted messages are
// recorded in portal_data::notifications for tests (GET /emu/notifications); they are not counted
// in stats.writes, which stays "directory data changed" (a guard test checks it is 0).
#include "core/methods.hpp"
#include "core/php.hpp"

#include <boost/json/array.hpp>

#include <algorithm>

namespace b24emu::detail {

namespace json = boost::json;

namespace {

std::string param(const json::object& p, std::string_view key) {
  auto* v = p.if_contains(key);
  return v ? php_trim(php_strval(*v)) : std::string();
}

bool active_user(const portal_data& d, std::int64_t id) {
  auto it = d.users.find(id);
  return it != d.users.end() && it->second.active && it->second.real;
}

std::int64_t record(call_context& c, json::object entry) {
  const std::int64_t id = c.data.next_message_id++;
  entry["id"] = id;
  entry["method"] = c.method;
  entry["from_user_id"] = c.caller_id;
  entry["at"] = c.now;
  c.data.notifications.push_back(std::move(entry));
  return id;
}

}  // namespace

call_result im_message_add(call_context& c) {
  auto p = upper_keys(c.params);
  const std::string dialog = param(p, "DIALOG_ID");
  if (dialog.rfind("chat", 0) == 0) {
    const std::int64_t chat = php_intval(std::string_view(dialog).substr(4));
    if (chat <= 0)
      throw rest_error(400, "CHAT_ID_EMPTY",
                       "Recipient chat identifier is not specified when sending a message in a chat");
    const auto& chats = c.data.settings.chats;
    if (std::find(chats.begin(), chats.end(), chat) == chats.end())
      throw rest_error(400, "ACCESS_ERROR", "Insufficient permissions to send a message");
  } else {
    const std::int64_t user = php_intval(dialog);
    if (user <= 0)
      throw rest_error(400, "USER_ID_EMPTY",
                       "Recipient identifier is not specified when sending a message in a one-on-one chat");
    if (!active_user(c.data, user))
      throw rest_error(400, "ACCESS_ERROR", "Insufficient permissions to send a message");
  }
  const std::string message = param(p, "MESSAGE");
  if (message.empty()) throw rest_error(400, "MESSAGE_EMPTY", "Message text is not provided");
  const std::string system = param(p, "SYSTEM");
  const std::string preview = param(p, "URL_PREVIEW");
  call_result r;
  r.result = record(c, json::object{{"dialog_id", dialog},
                                    {"message", message},
                                    {"system", system == "Y"},
                                    {"url_preview", preview != "N"}});
  return r;
}

call_result im_notify_system_add(call_context& c) {
  // Documented as "only available when called through the application".
  if (c.caller_webhook)
    throw rest_error(403, "WRONG_AUTH_TYPE", "Access for this method not allowed by session authorization.");
  auto p = upper_keys(c.params);
  const std::int64_t user = p.if_contains("USER_ID") ? php_intval(p.at("USER_ID")) : 0;
  if (user <= 0) throw rest_error(400, "USER_ID_EMPTY", "User ID can't be empty");
  const std::string message = param(p, "MESSAGE");
  if (message.empty()) throw rest_error(400, "MESSAGE_EMPTY", "Message can't be empty");
  call_result r;
  // An unknown or dismissed recipient: the portal creates nothing and answers `false` (docs).
  if (!active_user(c.data, user)) {
    r.result = false;
    return r;
  }
  r.result = record(c, json::object{{"user_id", user}, {"message", message}});
  return r;
}

}  // namespace b24emu::detail
