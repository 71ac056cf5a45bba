// The b24sync configuration as typed aggregates. Every default lives here, as an in-class initialiser;
// config.cpp only reads YAML into these structs. Parsed once and passed around by const&.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "config/secret.hpp"
#include "config/template.hpp"
#include "connectors/text_encoding.hpp"

namespace b24sync::config {

// An inbound webhook, split so that the code never sits in a plain string.
struct webhook_config {
  std::string portal_url;    // "https://corp.bitrix24.ru" (scheme + host[:port], no trailing slash)
  std::int64_t user_id = 0;  // the webhook owner's user ID (the "1" in /rest/1/<code>/)
  secret code;               // the webhook code (the "<code>" in /rest/1/<code>/)
};

struct oauth_config {
  std::string client_id;           // the local application's client_id
  secret client_secret;            // from client_secret or client_secret_file
  std::string refresh_token_file;  // where the rotating refresh token is kept (read and rewritten)
  std::string token_url = "https://oauth.bitrix.info/oauth/token/";  // the OAuth server's token endpoint
};

struct limits_config {
  double requests_per_second = 2;  // leak rate of the portal's request bucket (enterprise plans: 5)
  int burst = 50;                  // bucket size (enterprise plans: 250)
};

struct tls_config {
  std::string ca_file;  // PEM bundle to trust instead of the system store; empty = system store
  bool verify = true;   // verify the portal's certificate and host name; false only for test portals
};

struct timeouts_config {
  std::chrono::milliseconds connect = std::chrono::seconds{10};  // TCP + TLS handshake
  std::chrono::milliseconds request = std::chrono::seconds{70};  // one HTTP exchange (cloud limit: 60 s)
};

enum class auth_kind { webhook, oauth };

struct portal_config {
  std::string url;                      // portal base URL; taken from the webhook URL when not given
  auth_kind auth = auth_kind::webhook;  // which of webhook / oauth is configured (exactly one must be)
  webhook_config webhook;               // auth == webhook
  oauth_config oauth;                   // auth == oauth
  limits_config limits;                 // the plan's request-rate limits
  tls_config tls;                       // certificate checks
  timeouts_config timeouts;             // network deadlines
};

enum class source_type { csv, ldif, ldap };
using connectors::text_encoding;  // auto_detect: BOM / valid UTF-8, else cp1251
enum class ldap_scope { base, one, sub };

struct source_config {
  std::string name;                     // unique; names the source in reports and `precedence`
  source_type type = source_type::csv;  // required
  std::string path;                     // csv/ldif: the file (relative = to the config file's folder)
  text_encoding encoding = text_encoding::auto_detect;  // csv/ldif: the file's character set
  char delimiter = 0;  // csv: field separator (';' 1C, ',' HRIS, '\t'); 0 = detect from the header
  std::string key;     // required: the attribute holding the HR key (employee number)
  std::string filter;  // ldif/ldap: RFC 4515 filter; empty = every entry
  std::vector<std::string> object_classes;  // ldif/ldap: keep entries of one of these classes; empty = person, user, inetOrgPerson (LDIF reader default)
  bool enrich_only = false;                 // records only add fields to people found in other sources
  std::string uri;                          // ldap: ldap://host or ldaps://host[:port]
  bool starttls = false;                    // ldap: StartTLS on an ldap:// connection
  std::string base;                         // ldap: search base DN
  ldap_scope scope = ldap_scope::sub;       // ldap: search scope
  std::string bind_dn;                      // ldap: simple-bind DN; empty = anonymous
  secret password;                          // ldap: bind password (from password_file)
  std::vector<std::string> attributes;      // ldap: attributes to fetch; empty = the ones the mapping reads
  int page_size = 500;                      // ldap: paged-results size (RFC 2696); 0 = no paging
};

enum class match_key { employee_id, email };  // employee_id = identity_field holding the HR key
enum class transform_kind { none, phone, date, department };
// An unreadable phone or date: reject the person / keep the raw text / leave the field empty.
enum class invalid_action { reject, keep, drop };

// How one Bitrix24 field is computed.
struct field_rule {
  std::string field;                         // the Bitrix24 field code ("EMAIL", "UF_USR_HR_ID")
  value_template value;                      // the template, or "{from}" for the object form
  std::vector<value_template> alternatives;  // `from: [a, b]`: "{b}"... used for a record lacking `a`
  std::shared_ptr<const value_table> map;    // inline `map:` table applied after the template; null = none
  transform_kind transform = transform_kind::none;  // typed conversion after the template
  std::string region = "RU";                        // phone: region for numbers without a country code
  std::vector<std::string> formats;  // date: input formats tried in order; empty = default_date_formats()
  bool excel_serial = false;         // date: also accept Excel serial day numbers
  std::string path_separator = "/";  // department: separator between levels of a path
  bool create_missing = false;       // department: let the sync create unknown departments
  invalid_action on_invalid = invalid_action::reject;  // phone/date: what an unreadable value does
  bool multiple = false;             // keep every value as a list (else the first value is used)
  std::size_t max_length = 0;        // characters; 0 = the Bitrix24 limit for the field (50 or 255)
  std::vector<std::string> sources;  // source precedence for this field; empty = mapping.precedence
};

enum class inactive_condition { disabled_bit, nonempty, past_date, equals, not_equals };

// One rule deciding that a person is not (or no longer) employed. Any rule firing makes them inactive.
struct active_rule {
  std::string from;                                        // the attribute tested
  inactive_condition when = inactive_condition::nonempty;  // the test
  std::uint64_t disabled_bit = 2;    // disabled_bit: the bit (AD userAccountControl ACCOUNTDISABLE = 2)
  std::vector<std::string> values;   // equals/not_equals: compared after trim, case-insensitively
  std::vector<std::string> formats;  // past_date: date formats; empty = default_date_formats()
  std::string source;                // only this source's records; empty = first source having it
};

struct mapping_config {
  // Identity: the first key that finds a portal user wins.
  std::vector<match_key> match = {match_key::employee_id, match_key::email};
  std::string identity_field = "UF_USR_HR_ID";  // where the HR key is written (UF_USR_* string or XML_ID)
  std::vector<field_rule> fields;               // in config order; EMAIL and NAME or LAST_NAME required
  std::vector<active_rule> active;              // empty = everyone listed is active
  std::vector<std::string> precedence;          // default source order per field; empty = order of `sources`
  std::map<std::string, std::vector<std::string>> field_precedence;  // per-field overrides of `precedence`
  std::map<std::string, value_table> tables;  // named tables for the map("name") filter
};

// What happens to terminated people, and to managed users no source lists any more.
enum class leaver_action { deactivate, ignore };

struct deactivation_limit {
  bool percent = true;  // true: `value` is a percentage of managed users; false: a count
  double value = 5;     // above it the run stops with exit 3; 0 = no deactivations allowed
};

struct policy_config {
  bool create = true;                                       // add people missing on the portal
  bool update = true;                                       // change fields that differ
  leaver_action on_terminated = leaver_action::deactivate;  // people the active rules mark inactive
  leaver_action on_missing = leaver_action::deactivate;     // managed users no source lists any more
  bool reactivate = true;                // re-activate dismissed users who are active again
  deactivation_limit max_deactivations;  // "5%" or a count
  double min_source_ratio = 0.5;    // stop when sources hold fewer people than this share of the last run
  double max_rejected_ratio = 0.1;  // stop when more than this share of rows is rejected
  std::vector<std::int64_t> protected_ids;    // portal user IDs never touched
  std::vector<std::string> protected_emails;  // e-mails (lower-case) never touched
};

struct schedule_config {
  std::chrono::seconds every = std::chrono::minutes{15};  // daemon: pause between run starts
  std::string cron;  // daemon: 5-field cron expression used instead of `every`; empty = use every
  bool on_source_change = false;  // daemon: also run when a file source (CSV/LDIF) changes (debounced)
};

struct state_config {
  std::string path = "/var/lib/b24sync/state.db";  // SQLite database (runs, journal, identities)
};

struct reports_config {
  std::string dir = "/var/lib/b24sync/reports";  // where run reports are written
  int keep = 100;                                // newest reports kept; 0 = keep all
};

struct metrics_config {
  std::string listen;  // "127.0.0.1:9464" for a Prometheus endpoint; empty = off
};

// Which REST method carries a notification.
enum class notify_via {
  message,  // im.message.add: a chat or private-dialog message; works with webhooks (scope im)
  system,   // im.notify.system.add: a system notification; documented for OAuth applications only
};

// Run notifications (off unless the `notify:` section is present). One message per sync run at most.
struct notify_config {
  bool enabled = false;     // true when `notify:` is present
  std::string to;           // DIALOG_ID: a user ID ("1") or a chat ("chat42"); via=system: a user ID
  bool on_guard = true;     // a safety guard stopped the run (exit 3)
  bool on_failure = true;   // the run failed (exit 4, 65, 69, 75, ...)
  bool on_recovery = true;  // the run succeeded and the previous finished run did not
  notify_via via = notify_via::message;  // which method sends it
};

struct config {
  portal_config portal;                // where and how to reach Bitrix24
  std::vector<source_config> sources;  // at least one
  mapping_config mapping;              // source records -> Bitrix24 fields
  policy_config policy;                // what a run may do, and its safety guards
  schedule_config schedule;            // daemon timing
  state_config state;                  // persistent state
  reports_config reports;              // run reports
  metrics_config metrics;              // metrics endpoint
  notify_config notify;                // chat notifications about guards, failures, recoveries
};

// A configuration that cannot be used. what() = "file:line:column: key.path: problem" (no secret values).
class config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct loaded_config {
  config cfg;                         // the configuration
  std::vector<std::string> warnings;  // things to fix that do not stop a run (a world-readable secret file)
};

struct parse_options {
  // Folder relative paths are resolved against (load_config: the config file's folder); empty = as written.
  std::filesystem::path base_dir;
  // ${NAME} lookup; empty = the process environment (also used for CREDENTIALS_DIRECTORY).
  std::function<std::optional<std::string>(const std::string&)> getenv;
};

// Reads and parses a file. Throws config_error.
loaded_config load_config(const std::filesystem::path& path);
// Parses YAML text; `display_name` is the file name used in messages. Throws config_error.
loaded_config parse_config(std::string_view text, const std::string& display_name,
                           const parse_options& options = {});

// Names as written in YAML, for messages and reports.
std::string_view to_string(source_type t);
std::string_view to_string(transform_kind t);
std::string_view to_string(inactive_condition c);
std::string_view to_string(notify_via v);

}  // namespace b24sync::config
