// `b24sync check`: config, sources, mapping and the portal, each with a verdict; writes nothing anywhere.
#include "app/commands.hpp"

#include "app/exit_codes.hpp"
#include "app/portal_settings.hpp"
#include "app/run_context.hpp"
#include "app/schedule.hpp"
#include "bitrix/client.hpp"
#include "bitrix/probe.hpp"
#include "config/mapping.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <optional>

namespace b24sync::app {

namespace {

constexpr std::size_t max_rejects_shown = 10;

std::string where(const connectors::origin& o) {
  if (o.line > 0) return fmt::format("{}:{}", o.location, o.line);
  return o.dn.empty() ? o.location : fmt::format("{} ({})", o.location, o.dn);
}

void print_check(std::string_view name, const bitrix::probe_check& c, const std::string& detail) {
  if (!c.ran) {
    fmt::print("  {:<12} not checked\n", name);
  } else if (c.ok) {
    fmt::print("  {:<12} ok{}{}\n", name, detail.empty() ? "" : "  ", detail);
  } else {
    fmt::print("  {:<12} FAILED  {}\n", name, c.error);
  }
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out.empty() ? "-" : out;
}

void print_probe(const bitrix::probe_result& p) {
  fmt::print("portal  {}\n", p.portal_url);
  print_check("reachable", p.reachable, "");
  if (!p.tls.ran && p.portal_url.starts_with("http://"))
    fmt::print("  {:<12} not used (plain HTTP is allowed for loopback test portals only)\n", "tls");
  else
    print_check("tls", p.tls, "certificate and host name verified");
  print_check("auth", p.auth,
              p.user_id ? fmt::format("as user {} {} <{}>", *p.user_id, p.user_name, p.user_email) : std::string{});
  print_check("admin", p.admin, p.is_admin ? (*p.is_admin ? "yes: may invite users and change ACTIVE/UF_DEPARTMENT"
                                                           : "NO: the webhook's user is not an administrator")
                                           : std::string{});
  print_check("scope", p.scope, fmt::format("granted: {}; missing: {}", join(p.scopes), join(p.missing_scopes)));
  print_check("users", p.users, p.user_count ? fmt::format("{} (dismissed included)", *p.user_count) : "");
  print_check("departments", p.departments, p.department_count ? fmt::format("{}", *p.department_count) : "");
  fmt::print("  {:<12} {} requests/s, burst {}; operating time {} s per 10 min per method ({}){}\n", "limits",
             p.limits.requests_per_second, p.limits.burst, p.operating_limit_s,
             p.operating_reported ? "the portal reports its use" : "the portal does not report it",
             !p.clock_skew_s                ? ""
             : std::abs(*p.clock_skew_s) < 0.5 ? "; portal clock in step with ours"
                                             : fmt::format("; portal clock {:+.1f} s from ours", *p.clock_skew_s));
}

}  // namespace

int run_check(const check_options& options, const log_options& log_opts) {
  auto log = make_logger(log_opts);
  int exit = to_int(exit_code::ok);
  auto loaded = load_config_or_report(options.config_path, *log, exit);
  if (!loaded) {
    fmt::print("verdict: configuration error (see above)\n");
    return exit;
  }
  const config::config& cfg = loaded->cfg;
  // The schedule only matters to `daemon`, but a cron typo should not wait for the service to fail.
  std::string schedule_text;
  try {
    schedule_text = schedule::from_config(cfg.schedule).describe();
  } catch (const schedule_error& e) {
    log->error("{}: schedule: {}", options.config_path, e.what());
    fmt::print("verdict: configuration error (see above)\n");
    return to_int(exit_code::config);
  }
  fmt::print("config  {}: ok ({} source(s), {} mapped field(s); daemon schedule {})\n", options.config_path,
             cfg.sources.size(), cfg.mapping.fields.size(), schedule_text);

  auto sources = read_sources_or_report(cfg, *log, exit);
  if (!sources) {
    fmt::print("verdict: a source is unusable (see above)\n");
    return exit;
  }
  for (const auto& s : sources->summaries)
    fmt::print("source  {} ({}) {}: {} record(s), {} rejected; {}\n", s.name, s.type, s.location, s.records,
               s.rejected, s.detail);
  auto mapped = config::map_records(cfg, sources->records, today_local());
  fmt::print("mapping {} people, {} row(s) rejected\n", mapped.people.size(),
             mapped.rejects.size() + sources->rejects.size());
  std::size_t shown = 0;
  for (const auto* list : {&sources->rejects, &mapped.rejects})
    for (const auto& r : *list)
      if (shown++ < max_rejects_shown) fmt::print("  rejected {}: {}\n", where(r.where), r.reason);
  if (shown > max_rejects_shown) fmt::print("  ... and {} more\n", shown - max_rejects_shown);
  for (const auto& w : mapped.warnings) log->warn("{}", w);

  std::optional<bitrix::probe_result> probe;
  std::exception_ptr failure;
  try {
    boost::asio::io_context ioc;
    bitrix::client client(ioc, make_client_config(cfg, log), log);
    boost::asio::co_spawn(
        ioc,
        [&]() -> boost::asio::awaitable<void> {
          probe = co_await bitrix::async_probe(client);
          co_await client.async_shutdown();
        },
        [&](std::exception_ptr e) { failure = e; });
    ioc.run();
    if (failure) std::rethrow_exception(failure);
  } catch (const config::config_error& e) {
    log->error("{}", e.what());
    fmt::print("verdict: configuration error (see above)\n");
    return to_int(exit_code::config);
  } catch (const std::invalid_argument& e) {
    log->error("portal settings: {}", e.what());
    fmt::print("verdict: configuration error (see above)\n");
    return to_int(exit_code::config);
  } catch (const std::exception& e) {
    log->error("portal check failed: {}", e.what());
    fmt::print("verdict: portal unreachable\n");
    return to_int(exit_code::unavailable);
  }

  print_probe(*probe);
  // Notifications need the im scope: without it each one would be refused (a warning per run).
  bool notify_ready = true;
  if (cfg.notify.enabled && probe->scope.ran && probe->scope.ok) {
    if (std::find(probe->scopes.begin(), probe->scopes.end(), "im") != probe->scopes.end()) {
      fmt::print("  {:<12} ok  to {} via {}\n", "notify", cfg.notify.to, config::to_string(cfg.notify.via));
    } else {
      fmt::print("  {:<12} FAILED  the webhook lacks the im scope that notify: needs (grant it, or remove notify:)\n",
                 "notify");
      notify_ready = false;
    }
  }
  if (!probe->ok() || !notify_ready) {
    fmt::print("verdict: NOT READY: the portal cannot be used as configured (see FAILED above)\n");
    return to_int(exit_code::unavailable);
  }
  fmt::print("verdict: OK: ready to sync {} people into {} ({} users there now)\n", mapped.people.size(),
             probe->portal_url, probe->user_count.value_or(0));
  return exit;
}

}  // namespace b24sync::app
