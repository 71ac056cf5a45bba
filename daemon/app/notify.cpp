// app/notify.cpp: deciding, wording and sending run notifications (see notify.hpp).
#include "app/notify.hpp"

#include "app/exit_codes.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <exception>

namespace b24sync::app {

namespace {

// Guard reasons and error lines come from our own code, but a chat message is not the place for a
// page of text: each line is cut (on a UTF-8 boundary) and only the first few guards are listed.
constexpr std::size_t max_line_bytes = 400;
constexpr std::size_t max_guard_lines = 10;

std::string clip(std::string_view s) {
  // One line: a multi-line error would break the message's layout.
  std::string out;
  out.reserve(std::min(s.size(), max_line_bytes + 3));
  for (char ch : s) out += (ch == '\n' || ch == '\r') ? ' ' : ch;
  if (out.size() <= max_line_bytes) return out;
  std::size_t cut = max_line_bytes;
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;  // not inside a code point
  out.resize(cut);
  return out + "...";
}

bool succeeded(int exit) {
  return exit == to_int(exit_code::ok) || exit == to_int(exit_code::changes);
}

bool succeeded(state::run_outcome o) {
  return o == state::run_outcome::ok || o == state::run_outcome::changes;
}

// The run's own report (JSON copy in reports.dir), when one was written.
void append_report(std::string& text, const run_summary& run) {
  if (!run.report_files.empty()) text += "\nreport: " + run.report_files.front();
}

std::string guard_text(const run_summary& run) {
  std::string text = "b24sync: a safety guard stopped the sync; nothing was written";
  const bool has_guards = run.plan && !run.plan->guards.empty();
  if (has_guards) {
    const auto& guards = run.plan->guards;
    for (std::size_t i = 0; i < guards.size() && i < max_guard_lines; ++i)
      text += "\n- " + clip(guards[i].guard + ": " + guards[i].reason);
    if (guards.size() > max_guard_lines)
      text += fmt::format("\n- ... and {} more", guards.size() - max_guard_lines);
  } else if (!run.message.empty()) {
    text += "\n- " + clip(run.message);  // e.g. a reviewed plan that drifted
  }
  append_report(text, run);
  return text;
}

std::string failure_text(const run_summary& run) {
  std::string text = fmt::format("b24sync: the sync failed (exit {})", run.exit);
  if (!run.message.empty()) text += "\n" + clip(run.message);
  if (run.result) {
    const std::size_t failed = run.result->failed();
    if (failed > 0 || run.result->applied() > 0)
      text += fmt::format("\n{} operation(s) applied, {} failed permanently", run.result->applied(), failed);
  }
  append_report(text, run);
  return text;
}

std::string recovery_text(const run_summary& run, state::run_outcome previous) {
  std::string text = fmt::format("b24sync: the sync succeeded again (the previous run ended: {})",
                                 state::to_string(previous));
  if (!run.message.empty()) text += "\n" + clip(run.message);
  append_report(text, run);
  return text;
}

}  // namespace

std::string_view to_string(notify_event e) noexcept {
  switch (e) {
    case notify_event::guard:
      return "guard";
    case notify_event::failure:
      return "failure";
    case notify_event::recovery:
      return "recovery";
  }
  return "?";
}

std::optional<notification> decide_notification(const config::notify_config& cfg, const run_summary& run,
                                                const notify_history& history) {
  if (!cfg.enabled) return std::nullopt;
  // A guard or a failure is said once, on the first run of a streak: a daemon retrying every few
  // minutes (or a timer every 15) must not repeat it until someone acts; the recovery ends the streak.
  const auto previous_was = [&](std::initializer_list<state::run_outcome> kinds) {
    return history.previous && std::find(kinds.begin(), kinds.end(), *history.previous) != kinds.end();
  };
  if (run.exit == to_int(exit_code::guard_tripped)) {
    if (!cfg.on_guard || previous_was({state::run_outcome::guard_tripped})) return std::nullopt;
    return notification{notify_event::guard, guard_text(run)};
  }
  if (!succeeded(run.exit)) {
    if (!cfg.on_failure || history.stop_requested) return std::nullopt;
    if (previous_was({state::run_outcome::failed, state::run_outcome::partial_failure}))
      return std::nullopt;
    return notification{notify_event::failure, failure_text(run)};
  }
  if (!cfg.on_recovery || !history.previous || succeeded(*history.previous) ||
      *history.previous == state::run_outcome::running)
    return std::nullopt;
  return notification{notify_event::recovery, recovery_text(run, *history.previous)};
}

notify_call make_notify_call(const config::notify_config& cfg, const notification& n) {
  notify_call call;
  if (cfg.via == config::notify_via::system) {
    call.method = "im.notify.system.add";
    // The parser admits only digits here; a failed conversion would still be refused by the portal.
    std::int64_t user = 0;
    for (char ch : cfg.to)
      if (ch >= '0' && ch <= '9') user = user * 10 + (ch - '0');
    call.params = {{"USER_ID", user}, {"MESSAGE", n.text}};
  } else {
    call.method = "im.message.add";
    // SYSTEM=Y: shown as a service notice rather than as a message typed by the webhook's owner;
    // URL_PREVIEW=N: a report path is not a link to unfurl.
    call.params = {{"DIALOG_ID", cfg.to}, {"MESSAGE", n.text}, {"SYSTEM", "Y"}, {"URL_PREVIEW", "N"}};
  }
  return call;
}

std::optional<state::run_outcome> previous_outcome(const std::vector<state::run_record>& recent,
                                                   std::int64_t this_run) {
  // Runs the operator stopped (interrupted) say nothing about the portal or the sources, and were
  // not announced: the streak and recovery rules look past them to the last run that ended on its own.
  for (const auto& r : recent)
    if (r.id != this_run && !r.finished_at.empty() && r.outcome != state::run_outcome::running &&
        r.outcome != state::run_outcome::interrupted)
      return r.outcome;
  return std::nullopt;
}

boost::asio::awaitable<bool> async_send_notification(bitrix::client& c, const config::notify_config& cfg,
                                                     const notification& n, spdlog::logger& log) {
  auto call = make_notify_call(cfg, n);
  bitrix::call_options opts;
  opts.max_attempts = notify_max_attempts;
  bitrix::call_result r;
  try {
    r = co_await c.async_call(call.method, std::move(call.params), opts);
  } catch (const std::exception& e) {  // an unusable method name or parameters: our bug, not the run's
    log.warn("notify: {} to {} not sent: {}", to_string(n.event), cfg.to, e.what());
    co_return false;
  }
  if (r) {
    log.info("notify: {} sent to {} ({})", to_string(n.event), cfg.to, call.method);
    co_return true;
  }
  if (r.ambiguous()) {
    // im.message.add is not idempotent: a resend could post the message twice.
    log.warn("notify: {} to {} may or may not have arrived (no answer from the portal; not resent)",
             to_string(n.event), cfg.to);
  } else {
    log.warn("notify: {} to {} refused by the portal via {}: {}{}{}", to_string(n.event), cfg.to, call.method,
             r.error.error.empty() ? std::string{bitrix::to_string(r.error.kind)} : r.error.error,
             r.error.description.empty() ? "" : ": ", r.error.description);
  }
  co_return false;
}

}  // namespace b24sync::app
