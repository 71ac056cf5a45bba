// load_config / parse_config: the document's top level, portal, policy, schedule, state, reports, metrics,
// notify.
#include "config/config.hpp"

#include <fstream>
#include <sstream>

#include "config/detail/sections.hpp"
#include "config/text.hpp"

namespace b24sync::config {
namespace detail {
namespace {

std::string normalize_url(const reader& r, const YAML::Node& at, std::string_view path, std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  bool https = url.rfind("https://", 0) == 0;
  if (!https && url.rfind("http://", 0) != 0)
    r.fail(at, path, "expected an http:// or https:// URL, got \"" + url + "\"");
  std::string host = url.substr(url.find("//") + 2);
  if (host.empty() || host.find('/') != std::string::npos)
    r.fail(at, path, "expected the portal address only (https://host[:port]), got \"" + url + "\"");
  bool loopback =
      host.rfind("127.", 0) == 0 || host.rfind("localhost", 0) == 0 || host.rfind("[::1]", 0) == 0;
  if (!https && !loopback)
    r.warn(r.location(at.Mark()) + ": " + std::string{path} +
           ": plain http://; Bitrix24 refuses webhooks without HTTPS");
  return url;
}

}  // namespace

portal_config parse_portal(const reader& r, const YAML::Node& node) {
  map_view m(r, node, "portal", {"url", "webhook", "webhook_file", "oauth", "limits", "tls", "timeouts"});
  portal_config p;
  if (auto n = m.get("url")) p.url = normalize_url(r, *n, m.path_of("url"), r.str(*n, m.path_of("url")));
  bool has_webhook = m.has("webhook") || m.has("webhook_file");
  if (has_webhook && m.has("oauth"))
    r.fail(*m.get("oauth"), m.path_of("oauth"), "give either a webhook or oauth, not both");
  if (has_webhook) {
    p.auth = auth_kind::webhook;
    secret hook = read_secret(r, m, "webhook");
    std::string key = m.has("webhook") ? "webhook" : "webhook_file";
    YAML::Node at = *m.get(key);
    p.webhook = split_webhook(r, at, m.path_of(key), hook, p.url);
    if (p.url.empty()) {
      p.url = normalize_url(r, at, m.path_of(key), p.webhook.portal_url);
      p.webhook.portal_url = p.url;
    } else if (!iequals(p.url, p.webhook.portal_url)) {
      r.fail(at, m.path_of(key),
             "the webhook's portal " + p.webhook.portal_url + " differs from portal.url " + p.url);
    }
  } else if (auto o = m.get("oauth")) {
    p.auth = auth_kind::oauth;
    map_view om(r, *o, m.path_of("oauth"),
                {"client_id", "client_secret", "client_secret_file", "refresh_token_file", "token_url"});
    p.oauth.client_id = r.str(om.require("client_id"), om.path_of("client_id"));
    p.oauth.client_secret = read_secret(r, om, "client_secret");
    if (p.oauth.client_secret.empty()) om.require("client_secret_file");
    p.oauth.refresh_token_file =
        r.resolve(r.str(om.require("refresh_token_file"), om.path_of("refresh_token_file")));
    if (auto t = om.get("token_url")) p.oauth.token_url = r.str(*t, om.path_of("token_url"));
    if (p.url.empty()) m.require("url");
  } else {
    r.fail(node, "portal", "needs webhook, webhook_file or oauth");
  }
  if (auto l = m.get("limits")) {
    map_view lm(r, *l, m.path_of("limits"), {"requests_per_second", "burst"});
    if (auto n = lm.get("requests_per_second"))
      p.limits.requests_per_second = r.number(*n, lm.path_of("requests_per_second"), 0.01, 1000);
    if (auto n = lm.get("burst"))
      p.limits.burst = static_cast<int>(r.integer(*n, lm.path_of("burst"), 1, 10000));
  }
  if (auto t = m.get("tls")) {
    map_view tm(r, *t, m.path_of("tls"), {"ca_file", "verify"});
    tm.read("ca_file", p.tls.ca_file);
    p.tls.ca_file = r.resolve(p.tls.ca_file);
    tm.read("verify", p.tls.verify);
  }
  if (auto t = m.get("timeouts")) {
    map_view tm(r, *t, m.path_of("timeouts"), {"connect", "request"});
    if (auto n = tm.get("connect")) p.timeouts.connect = r.duration(*n, tm.path_of("connect"));
    if (auto n = tm.get("request")) p.timeouts.request = r.duration(*n, tm.path_of("request"));
  }
  return p;
}

policy_config parse_policy(const reader& r, const YAML::Node& node) {
  map_view m(r, node, "policy",
             {"create", "update", "on_terminated", "on_missing", "reactivate", "max_deactivations",
              "min_source_ratio", "max_rejected_ratio", "protected"});
  policy_config p;
  m.read("create", p.create);
  m.read("update", p.update);
  m.read("reactivate", p.reactivate);
  for (auto [key, out] :
       {std::pair{"on_terminated", &p.on_terminated}, std::pair{"on_missing", &p.on_missing}})
    if (auto n = m.get(key))
      *out = r.choice<leaver_action>(
          *n, m.path_of(key), {{"deactivate", leaver_action::deactivate}, {"ignore", leaver_action::ignore}});
  if (auto n = m.get("max_deactivations")) {
    std::string v = r.str(*n, m.path_of("max_deactivations"));
    if (!v.empty() && v.back() == '%') {
      p.max_deactivations = {true, r.ratio(*n, m.path_of("max_deactivations")) * 100};
    } else {
      p.max_deactivations = {
          false, static_cast<double>(r.integer(*n, m.path_of("max_deactivations"), 0, 10'000'000))};
    }
  }
  if (auto n = m.get("min_source_ratio")) p.min_source_ratio = r.ratio(*n, m.path_of("min_source_ratio"));
  if (auto n = m.get("max_rejected_ratio"))
    p.max_rejected_ratio = r.ratio(*n, m.path_of("max_rejected_ratio"));
  if (auto n = m.get("protected")) {
    std::string path = m.path_of("protected");
    if (!n->IsSequence())
      r.fail(*n, path, "expected a list of user IDs and e-mails, got " + std::string{type_name(*n)});
    for (std::size_t k = 0; k < n->size(); ++k) {
      std::string item_path = path + "[" + std::to_string(k) + "]";
      YAML::Node item = (*n)[k];
      std::string v = trim(r.str(item, item_path));
      bool digits = !v.empty() && v.size() <= 12 && v.find_first_not_of("0123456789") == std::string::npos;
      if (digits && v != "0") {
        p.protected_ids.push_back(std::stoll(v));
      } else if (is_valid_email(v)) {
        p.protected_emails.push_back(utf8_lower(v));
      } else {
        r.fail(item, item_path, "expected a portal user ID or an e-mail, got \"" + v + "\"");
      }
    }
  }
  return p;
}

namespace {

schedule_config parse_schedule(const reader& r, const YAML::Node& node) {
  map_view m(r, node, "schedule", {"every", "cron", "on_source_change"});
  schedule_config s;
  if (m.has("every") && m.has("cron"))
    r.fail(*m.get("cron"), m.path_of("cron"), "give either every or cron, not both");
  if (auto n = m.get("every")) {
    auto d = r.duration(*n, m.path_of("every"));
    if (d < std::chrono::seconds{1}) r.fail(*n, m.path_of("every"), "must be at least 1s");
    s.every = std::chrono::duration_cast<std::chrono::seconds>(d);
  }
  m.read("on_source_change", s.on_source_change);
  if (auto n = m.get("cron")) {
    s.cron = r.str(*n, m.path_of("cron"));
    std::istringstream in(s.cron);
    std::vector<std::string> fields{std::istream_iterator<std::string>{in}, {}};
    bool ok = fields.size() == 5;
    for (const auto& f : fields)
      ok = ok && f.find_first_not_of("0123456789*,/-ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") ==
                     std::string::npos;
    if (!ok)
      r.fail(*n, m.path_of("cron"),
             "expected 5 fields: minute hour day-of-month month day-of-week (e.g. \"*/15 * * * *\")");
  }
  return s;
}

void parse_small_sections(const reader& r, const map_view& top, config& c) {
  if (auto n = top.get("state")) {
    map_view m(r, *n, "state", {"path"});
    m.read("path", c.state.path);
  }
  c.state.path = r.resolve(c.state.path);
  if (auto n = top.get("reports")) {
    map_view m(r, *n, "reports", {"dir", "keep"});
    m.read("dir", c.reports.dir);
    if (auto k = m.get("keep"))
      c.reports.keep = static_cast<int>(r.integer(*k, m.path_of("keep"), 0, 1'000'000));
  }
  c.reports.dir = r.resolve(c.reports.dir);
  if (auto n = top.get("metrics")) {
    map_view m(r, *n, "metrics", {"listen"});
    if (auto l = m.get("listen")) {
      c.metrics.listen = r.str(*l, m.path_of("listen"));
      std::size_t colon = c.metrics.listen.rfind(':');
      std::string port = colon == std::string::npos ? "" : c.metrics.listen.substr(colon + 1);
      bool ok = colon != std::string::npos && colon > 0 && !port.empty() && port.size() <= 5 &&
                port.find_first_not_of("0123456789") == std::string::npos && std::stoi(port) <= 65535;
      if (!ok)
        r.fail(*l, m.path_of("listen"),
               "expected host:port (e.g. 127.0.0.1:9464), got \"" + c.metrics.listen + "\"");
    }
  }
}

bool all_digits(std::string_view s) {
  return !s.empty() && s.size() <= 18 && s.find_first_not_of("0123456789") == std::string_view::npos &&
         s.find_first_not_of('0') != std::string_view::npos;
}

// `notify:` — who gets told about guards, failures and recoveries, and through which method.
notify_config parse_notify(const reader& r, const YAML::Node& node, const portal_config& portal) {
  map_view m(r, node, "notify", {"to", "on", "via"});
  notify_config n;
  n.enabled = true;
  if (auto v = m.get("via"))
    n.via = r.choice<notify_via>(*v, m.path_of("via"),
                                 {{"message", notify_via::message}, {"system", notify_via::system}});
  YAML::Node to = m.require("to");
  n.to = trim(r.str(to, m.path_of("to")));
  const bool user = all_digits(n.to);
  const bool chat =
      n.to.size() > 4 && n.to.rfind("chat", 0) == 0 && all_digits(std::string_view{n.to}.substr(4));
  if (!user && !chat)
    r.fail(to, m.path_of("to"), "expected a user ID (\"1\") or a chat (\"chat42\"), got \"" + n.to + "\"");
  if (chat && n.via == notify_via::system)
    r.fail(to, m.path_of("to"),
           "via: system (im.notify.system.add) notifies one user; expected a user ID, got \"" + n.to + "\"");
  if (n.via == notify_via::system && portal.auth == auth_kind::webhook)
    r.warn(r.location(m.get("via")->Mark()) + ": " + m.path_of("via") +
           ": im.notify.system.add is documented for OAuth applications only; a webhook portal may refuse it "
           "(via: message works with webhooks)");
  if (auto on = m.get("on")) {
    const std::string path = m.path_of("on");
    auto words = r.str_list(*on, path);
    if (words.empty()) r.fail(*on, path, "empty list: name at least one of guard, failure, recovery");
    n.on_guard = n.on_failure = n.on_recovery = false;
    for (std::size_t k = 0; k < words.size(); ++k) {
      YAML::Node at = on->IsSequence() ? (*on)[k] : *on;
      std::string item_path = on->IsSequence() ? path + "[" + std::to_string(k) + "]" : path;
      bool* flag = r.choice<bool*>(
          at, item_path, {{"guard", &n.on_guard}, {"failure", &n.on_failure}, {"recovery", &n.on_recovery}});
      *flag = true;
    }
  }
  return n;
}

}  // namespace
}  // namespace detail

loaded_config parse_config(std::string_view text, const std::string& display_name,
                           const parse_options& options) {
  loaded_config out;
  detail::reader r(display_name, text, options, out.warnings);
  YAML::Node root;
  try {
    root = YAML::Load(std::string{text});
  } catch (const YAML::Exception& e) {
    r.fail(e.mark, "", "YAML syntax error: " + e.msg);
  }
  if (!root.IsDefined() || root.IsNull()) r.fail(root, "", "the configuration is empty");
  detail::map_view top(
      r, root, "",
      {"portal", "sources", "mapping", "policy", "schedule", "state", "reports", "metrics", "notify"});
  try {
    out.cfg.portal = detail::parse_portal(r, top.require("portal"));
    out.cfg.sources = detail::parse_sources(r, top.require("sources"));
    out.cfg.mapping = detail::parse_mapping(r, top.require("mapping"), out.cfg.sources);
    if (auto n = top.get("policy")) out.cfg.policy = detail::parse_policy(r, *n);
    if (auto n = top.get("schedule")) out.cfg.schedule = detail::parse_schedule(r, *n);
    detail::parse_small_sections(r, top, out.cfg);
    if (auto n = top.get("notify")) {
      out.cfg.notify = detail::parse_notify(r, *n, out.cfg.portal);
    } else if (const YAML::Node& croot = root; croot["notify"]) {
      // A bare `notify:` reads as null; it would silently mean "off", which is not what was written.
      r.fail(croot["notify"], "notify", "needs at least `to:` (a user ID or \"chat<id>\")");
    }
  } catch (const YAML::Exception& e) {
    // yaml-cpp conversions we did not anticipate; keep the position, never the value.
    r.fail(e.mark, "", "cannot read: " + e.msg);
  }
  return out;
}

loaded_config load_config(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw config_error(path.string() + ": cannot open the configuration file");
  std::ostringstream text;
  text << in.rdbuf();
  parse_options options;
  options.base_dir = path.parent_path().empty() ? std::filesystem::current_path()
                                                : std::filesystem::absolute(path.parent_path());
  return parse_config(text.str(), path.string(), options);
}

std::string_view to_string(source_type t) {
  switch (t) {
    case source_type::csv:
      return "csv";
    case source_type::ldif:
      return "ldif";
    case source_type::ldap:
      return "ldap";
  }
  return "?";
}

std::string_view to_string(transform_kind t) {
  switch (t) {
    case transform_kind::none:
      return "none";
    case transform_kind::phone:
      return "phone";
    case transform_kind::date:
      return "date";
    case transform_kind::department:
      return "department";
  }
  return "?";
}

std::string_view to_string(notify_via v) {
  switch (v) {
    case notify_via::message:
      return "message";
    case notify_via::system:
      return "system";
  }
  return "?";
}

std::string_view to_string(inactive_condition c) {
  switch (c) {
    case inactive_condition::disabled_bit:
      return "disabled_bit";
    case inactive_condition::nonempty:
      return "nonempty";
    case inactive_condition::past_date:
      return "past_date";
    case inactive_condition::equals:
      return "equals";
    case inactive_condition::not_equals:
      return "not_equals";
  }
  return "?";
}

}  // namespace b24sync::config
