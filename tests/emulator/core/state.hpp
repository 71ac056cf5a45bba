// The portal's internal data model (users, departments, user fields, credentials) and the per-call context.
#pragma once

#include "core/portal.hpp"

#include <boost/json/array.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/object.hpp>
#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

namespace b24emu::detail {

// A REST error as the portal reports it: HTTP status + {error, error_description[, argument]}.
struct rest_error : std::runtime_error {
  rest_error(int status_, std::string code_, std::string description_,
             std::optional<std::string> argument_ = std::nullopt)
      : std::runtime_error(code_),
        status(status_),
        code(std::move(code_)),
        description(std::move(description_)),
        argument(std::move(argument_)) {}
  int status;
  std::string code;
  std::string description;
  std::optional<std::string> argument;
};

struct user_record {
  explicit user_record(boost::json::storage_ptr sp = {}) : fields(std::move(sp)) {}
  std::int64_t id = 0;
  bool active = true;
  bool is_admin = false;
  bool real = true;       // IS_REAL_USER: bots, e-mail users etc. are never listed
  bool extranet = false;  // USER_TYPE "extranet" (else "employee")
  bool online = false;
  std::string login;
  std::vector<std::int64_t> departments;
  boost::json::object fields;  // every other field (EMAIL, NAME, XML_ID, UF_USR_*...); dates canonical
};

struct department {
  std::int64_t id = 0;
  std::string name;
  std::optional<std::int64_t> parent;
  std::int64_t sort = 500;
  std::optional<std::int64_t> head;
};

struct user_field_def {
  std::int64_t id = 0;
  std::string field_name;  // UF_USR_...
  std::string type = "string";
  std::string xml_id;
  std::int64_t sort = 100;
  bool multiple = false;
  bool mandatory = false;
  bool show_filter = false;
  boost::json::value label;  // EDIT_FORM_LABEL as given
  boost::json::object settings;
};

struct webhook {
  std::int64_t user_id = 0;
  std::string secret;
  std::vector<std::string> scopes;  // empty = every scope
  double expires_at = 0;            // 0 = never
};

struct oauth_app {
  std::string client_id;
  std::string client_secret;
  std::int64_t user_id = 0;
  std::vector<std::string> scopes;
};

struct token_info {
  std::string client_id;
  double expires_at = 0;
};

struct portal_settings {
  std::string domain = "emulator.bitrix24.test";
  std::string member_id = "emulator0member0id";
  int tz_offset_s = 3 * 3600;  // portal time zone offset from UTC
  bool extranet = true;        // users without a department are hidden unless ADMIN_MODE
  std::vector<std::int64_t> sonet_groups;
  std::vector<std::int64_t> chats;  // chat IDs im.message.add may post to as "chat<id>"
};

struct portal_stats {
  std::uint64_t http_requests = 0;
  std::map<std::string, std::uint64_t> calls;
  std::map<std::string, std::uint64_t> errors;
  double max_bucket_level = 0;
  std::uint64_t writes = 0;
};

// A cached ordered list of user ids for one (filter, order, visibility) key; valid for one data version.
struct list_cache_entry {
  std::uint64_t version = 0;
  std::string key;
  std::vector<std::int64_t> ids;
};

struct portal_data {
  // User fields live in one arena: loading 100,000 users is a few bump allocations instead of
  // millions of mallocs. Replaced values are not reclaimed until the next seed load (fine for tests).
  boost::json::storage_ptr storage = boost::json::make_shared_resource<boost::json::monotonic_resource>();
  portal_settings settings;
  std::map<std::int64_t, user_record> users;
  std::int64_t next_user_id = 1;
  // Built on first use (a seed load stays cheap), then kept up to date by index_user/unindex_user.
  std::int64_t seats_used = 0;  // active real intranet users with a department (the licence count)
  bool logins_indexed = false;
  std::unordered_map<std::string, std::int64_t> login_index;  // folded login -> user id
  std::map<std::int64_t, department> departments;
  std::int64_t next_department_id = 1;
  std::vector<user_field_def> user_fields;
  std::int64_t next_user_field_id = 1;
  std::vector<webhook> webhooks;
  std::vector<oauth_app> apps;
  std::unordered_map<std::string, token_info> access_tokens;
  std::unordered_map<std::string, token_info> refresh_tokens;
  std::uint64_t token_counter = 0;
  boost::json::array invitations;
  boost::json::array notifications;  // one entry per accepted im.message.add / im.notify.system.add
  std::int64_t next_message_id = 1;
  std::uint64_t version = 0;  // bumped on every user write; invalidates list caches
  std::vector<list_cache_entry> list_cache;

  // Lazily built exact-match indexes: field -> folded value -> user ids. Kept up to date (with
  // seats_used) by index_user/unindex_user, which bracket every user write.
  std::unordered_map<std::string, std::unordered_multimap<std::string, std::int64_t>> field_indexes;

  const user_field_def* find_user_field(std::string_view name) const;
  user_record new_user();  // a record whose fields use `storage`
  void index_user(const user_record& u);
  void unindex_user(const user_record& u);
  const std::unordered_multimap<std::string, std::int64_t>& field_index(const std::string& field);
  bool login_taken(const std::string& login);
};

// What a method handler returns: the result and, for lists, next/total.
struct call_result {
  boost::json::value result;
  std::optional<std::int64_t> next;
  std::optional<std::int64_t> total;
};

// Everything a method handler sees.
struct call_context {
  portal_data& data;
  portal_stats& stats;
  const limits_config& limits;
  double now = 0;
  std::int64_t caller_id = 0;
  bool caller_admin = false;
  std::string method;  // lower-cased
  boost::json::object params;
  bool caller_webhook = false;  // an inbound webhook called (some methods are for applications only)
};

}  // namespace b24emu::detail
