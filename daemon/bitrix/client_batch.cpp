// bitrix/client_batch.cpp: async_batch: a queue of commands drained by max_in_flight workers, each
// sending paced `batch` requests and re-queueing the commands that hit a transient per-command error.
#include "bitrix/client.hpp"

#include "bitrix/client_impl.hpp"

#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <spdlog/logger.h>

#include <algorithm>
#include <cctype>
#include <deque>
#include <limits>
#include <map>
#include <memory>

namespace b24sync::bitrix {

namespace {

// True when a string inside `v` holds a batch reference such as "$result[a][0]": the portal would
// substitute it inside a batch (there is no escape), so such a command must go as a single call.
bool has_batch_reference(const boost::json::value& v) {
  if (v.is_string()) {
    std::string_view s = v.get_string();
    for (auto pos = s.find('$'); pos != std::string_view::npos; pos = s.find('$', pos + 1)) {
      for (std::string_view name : {"result", "next", "total", "time", "error"}) {
        if (s.size() <= pos + 1 + name.size() || s[pos + 1 + name.size()] != '[') continue;
        bool same = true;
        for (std::size_t k = 0; k < name.size(); ++k) {
          same = same && std::tolower(static_cast<unsigned char>(s[pos + 1 + k])) == name[k];
        }
        if (same) return true;
      }
    }
    return false;
  }
  if (v.is_array()) return std::any_of(v.get_array().begin(), v.get_array().end(), has_batch_reference);
  if (v.is_object()) {
    return std::any_of(v.get_object().begin(), v.get_object().end(),
                       [](const auto& kv) { return has_batch_reference(kv.value()); });
  }
  return false;
}

}  // namespace

struct client_batch_run {
  client::impl& m;
  batch_options opts;
  std::vector<command> cmds;
  std::vector<command_outcome> results;
  std::vector<bool> finished;
  std::vector<int> requeues;
  std::deque<std::size_t> pending;
  std::size_t in_flight = 0;
  std::size_t running = 0;  ///< workers that have not returned yet
  bool stopped = false;
  bool cancelled = false;  ///< the caller was cancelled: no new batches
  /// The caller's cancellation state. Its flag is set the moment the caller's slot is emitted, before
  /// any handler runs, so a worker checking it never starts a batch after the cancellation.
  net::cancellation_state caller_state;
  [[nodiscard]] bool caller_cancelled() const noexcept {
    return caller_state.cancelled() != net::cancellation_type::none;
  }
  bool refreshed_once = false;
  backoff whole_batch_wait;
  async_event wake;
  async_event all_done;  ///< a worker returned

  client_batch_run(client::impl& impl, std::vector<command> c, batch_options o)
      : m(impl), opts(o), cmds(std::move(c)), results(cmds.size()), finished(cmds.size(), false), requeues(cmds.size(), 0),
        whole_batch_wait(impl.backoff_settings(static_cast<unsigned>(impl.cfg.retry.max_attempts))) {
    for (std::size_t i = 0; i < cmds.size(); ++i) pending.push_back(i);
  }

  void finish(std::size_t i, command_outcome o) {
    if (!o.ok && is_ambiguous(classify(o.error))) ++m.stats.ambiguous;
    // Re-constructed, not move-assigned: assignment would deep-copy a result that lives in its
    // answer's arena into the slot's storage (see parse_batch_result).
    std::destroy_at(&results[i]);
    std::construct_at(&results[i], std::move(o));
    finished[i] = true;
  }

  // Put commands back at the head of the queue, in their original order.
  void requeue(const std::vector<std::size_t>& idx) {
    for (auto it = idx.rbegin(); it != idx.rend(); ++it) pending.push_front(*it);
  }

  // A transient per-command failure: re-queue unless the command has used up its re-queues.
  void requeue_or_finish(std::size_t i, command_outcome o, std::vector<std::size_t>& again) {
    if (++requeues[i] > m.cfg.retry.max_command_requeues) {
      m.log->warn("bitrix: {} command {} gave up after {} re-queues: {}", cmds[i].method, cmds[i].id, requeues[i] - 1,
                  o.error.error);
      finish(i, std::move(o));
      return;
    }
    ++m.stats.commands_requeued;
    again.push_back(i);
  }

  // The next batch: up to batch_size commands from the head of the queue, as far as the pacer admits
  // each method. Returns the picked indices and fills `grants`; when nothing is admitted,
  // `not_before` says when to ask again.
  std::vector<std::size_t> take(std::map<std::string, pacing_grant>& grants, double& not_before) {
    std::vector<std::size_t> head;
    std::map<std::string, std::size_t> wanted;
    for (std::size_t k = 0; k < pending.size() && head.size() < m.cfg.batch_size; ++k) {
      head.push_back(pending[k]);
      ++wanted[cmds[pending[k]].method];
    }
    const double now = m.portal_now();
    std::map<std::string, std::size_t> allowed;
    not_before = std::numeric_limits<double>::max();
    for (auto& [method, n] : wanted) {
      auto g = m.pacer.admit(method, now, n);
      allowed[method] = g.calls;
      if (g.calls > 0) {
        grants[method] = g;
      } else {
        not_before = std::min(not_before, g.not_before);
      }
    }
    std::vector<std::size_t> picked;
    std::deque<std::size_t> rest;
    std::size_t k = 0;
    for (; k < head.size(); ++k) {
      auto& left = allowed[cmds[head[k]].method];
      if (left > 0) {
        --left;
        picked.push_back(head[k]);
      } else {
        rest.push_back(head[k]);
      }
    }
    for (std::size_t j = head.size(); j < pending.size(); ++j) rest.push_back(pending[j]);
    pending = std::move(rest);
    return picked;
  }

  // A whole-batch failure: retry it all, re-queue the commands that may be resent, or finish them.
  net::awaitable<void> on_batch_failed(const std::vector<std::size_t>& idx, std::span<const command> sent, posted& p) {
    diagnostics d = m.redacted(std::move(p.env.error));
    error_class kind = classify(d);
    if (kind == error_class::retry_rate_limited) ++m.stats.query_limit_exceeded;
    if (kind == error_class::auth_refresh) {
      if (co_await m.async_fresh_token(p.auth_generation, refreshed_once)) {
        requeue(idx);
        co_return;
      }
      kind = error_class::auth_fatal;
    }
    if (p.tls_rejected) kind = error_class::auth_fatal;  // nothing will get through: stop the run
    if (kind == error_class::auth_fatal) {
      m.log->error("bitrix: batch refused for good ({} {}): stopping, {} command(s) not run", d.error,
                   d.description.empty() ? d.detail : d.description, pending.size() + idx.size());
      stopped = true;
      auto all = idx;
      all.insert(all.end(), pending.begin(), pending.end());
      pending.clear();
      for (auto i : all) finish(i, fail_all(std::span<const command>(&cmds[i], 1), d).front());
      co_return;
    }
    if (is_retryable(kind) || kind == error_class::retry_operating_limit) {
      if (auto delay = whole_batch_wait.next_from(m.rng)) {
        ++m.stats.retries;
        m.log->info("bitrix: batch of {} failed ({}: {} {}), retrying in {} ms", idx.size(), to_string(kind), d.error,
                    d.detail.empty() ? d.description : d.detail, delay->count());
        co_await m.async_wait_scaled(*delay, m.stats.waited_backoff_s);
        requeue(idx);
        co_return;
      }
    }
    // No retry for the batch as a whole: decide per command (idempotent ones may still be re-sent
    // when the batch's outcome is unknown).
    auto outcomes = fail_all(sent, d);
    std::vector<std::size_t> again;
    for (std::size_t k = 0; k < idx.size(); ++k) {
      auto ck = classify(outcomes[k].error);
      if (kind == error_class::ambiguous && is_retryable(ck)) {
        requeue_or_finish(idx[k], std::move(outcomes[k]), again);
      } else {
        finish(idx[k], std::move(outcomes[k]));
      }
    }
    requeue(again);
  }

  void on_batch_answered(const std::vector<std::size_t>& idx, std::span<const command> sent, posted& p) {
    whole_batch_wait.reset();
    auto outcomes = opts.stream_user_rows
                        ? parse_streamed_batch_result(sent, std::move(*p.env.value), std::move(p.pages))
                        : parse_batch_result(sent, std::move(p.env.value->result), p.env.value->time);
    std::vector<std::size_t> again;
    for (std::size_t k = 0; k < idx.size(); ++k) {
      auto& o = outcomes[k];
      const std::size_t i = idx[k];
      if (o.ok) {
        if (o.time) m.pacer.observe(o.method, *o.time);
        finish(i, std::move(o));
        continue;
      }
      o.error = m.redacted(std::move(o.error));
      switch (classify(o.error)) {
        case error_class::retry_operating_limit:
          ++m.stats.operation_time_limit;
          m.pacer.on_refused(o.method, m.portal_now(), o.error.operating_reset_at);
          requeue_or_finish(i, std::move(o), again);
          break;
        case error_class::retry_rate_limited:
          ++m.stats.query_limit_exceeded;
          m.limiter.on_rate_limited(m.virtual_now());
          requeue_or_finish(i, std::move(o), again);
          break;
        case error_class::retry_not_executed:
        case error_class::retry_server:
        case error_class::retry_transport:
        case error_class::auth_refresh:  // the token expired mid-batch: the next batch refreshes it
          requeue_or_finish(i, std::move(o), again);
          break;
        default:
          finish(i, std::move(o));
      }
    }
    if (!again.empty()) {
      m.log->debug("bitrix: {} of {} batch commands re-queued", again.size(), idx.size());
    }
    requeue(again);
  }

  net::awaitable<void> worker() {
    for (;;) {
      if (stopped || caller_cancelled()) co_return;
      if (pending.empty()) {
        if (in_flight == 0) {
          wake.notify_all();
          co_return;
        }
        co_await wake.async_wait();
        continue;
      }
      std::map<std::string, pacing_grant> grants;
      double not_before = 0;
      auto idx = take(grants, not_before);
      if (idx.empty()) {
        m.log->debug("bitrix: batch paced by the operating-time budget until portal time {:.1f}", not_before);
        co_await m.async_wait_portal(not_before);
        continue;
      }
      // Whatever ends this batch (an answer, a failure, an exception), the pacer gets its grants
      // back and the batch stops counting as in flight.
      ++in_flight;
      struct batch_done {
        client_batch_run& r;
        std::map<std::string, pacing_grant>& g;
        ~batch_done() {
          for (auto& [method, grant] : g) r.m.pacer.settle(method, grant);
          --r.in_flight;
          r.wake.notify_all();
        }
      } done_guard{*this, grants};
      std::vector<command> sent;
      sent.reserve(idx.size());
      for (auto i : idx) sent.push_back(cmds[i]);
      const bool idempotent = is_idempotent_batch(sent);
      auto body = boost::json::parse(build_batch_body(sent, false)).as_object();

      co_await m.async_wait_rate_slot();
      m.stats.commands_sent += sent.size();
      auto p = co_await m.async_post("batch", std::move(body), idempotent,
                                     opts.stream_user_rows ? std::span<const command>(sent) : std::span<const command>());
      if (p.env) {
        on_batch_answered(idx, sent, p);
      } else {
        co_await on_batch_failed(idx, sent, p);
      }
    }
  }
};

net::awaitable<std::vector<command_outcome>> client::async_batch(std::vector<command> cmds, batch_options opts) {
  if (cmds.empty()) co_return std::vector<command_outcome>{};
  assign_command_ids(cmds, "c");
  // Validate every id and parameter up front (throws std::invalid_argument), batch by batch.
  for (auto chunk : split_batches(cmds, impl_->cfg.batch_size)) (void)build_batch_body(chunk, false);

  // Commands a batch would corrupt go one by one as plain calls (same retry rules), the rest batched.
  std::vector<std::size_t> solo;
  std::vector<command> batched;
  std::vector<std::size_t> batched_at;
  for (std::size_t i = 0; i < cmds.size(); ++i) {
    if (has_batch_reference(boost::json::value(cmds[i].params))) {
      solo.push_back(i);
    } else {
      batched_at.push_back(i);
    }
  }
  if (!solo.empty()) {
    impl_->log->debug("bitrix: {} command(s) hold a $result[...]-like text and go as single calls", solo.size());
    std::vector<command_outcome> all(cmds.size());
    for (auto i : batched_at) batched.push_back(cmds[i]);
    std::vector<command_outcome> part;  // (no co_await inside ?: — GCC 12 mishandles its temporaries)
    if (!batched.empty()) part = co_await async_batch(std::move(batched), opts);
    for (std::size_t k = 0; k < batched_at.size(); ++k) all[batched_at[k]] = std::move(part[k]);
    for (auto i : solo) {
      auto r = co_await async_call(cmds[i].method, cmds[i].params);
      auto& o = all[i];
      o.id = cmds[i].id;
      o.method = cmds[i].method;
      o.ok = static_cast<bool>(r);
      if (r) {
        o.result = std::move(r.value->result);
        o.next = r.value->next;
        o.total = r.value->total;
        o.time = r.value->time;
      } else {
        o.error = std::move(r.error);
      }
    }
    co_return all;
  }

  // The workers share the run: a caller cancelled mid-batch still waits for them (below), but the
  // run must not be a local they could outlive.
  auto run = std::make_shared<client_batch_run>(*impl_, std::move(cmds), opts);
  const std::size_t batches = (run->cmds.size() + impl_->cfg.batch_size - 1) / impl_->cfg.batch_size;
  const std::size_t workers = std::max<std::size_t>(1, std::min(impl_->cfg.max_in_flight, batches));
  run->running = workers;
  run->caller_state = co_await net::this_coro::cancellation_state;
  for (std::size_t w = 0; w < workers; ++w) {
    net::co_spawn(
        impl_->ex,
        [run]() -> net::awaitable<void> {
          try {
            co_await run->worker();
          } catch (const std::exception& e) {
            run->m.log->error("bitrix: batch worker failed: {}", e.what());
            run->stopped = true;
          }
          --run->running;
          run->all_done.notify_all();
        },
        net::detached);
  }
  // Cancellation (through this coroutine's cancellation slot) stops the run instead of abandoning it:
  // no new batch goes out, the ones on the wire finish under their deadlines (so their outcome is
  // known, not ambiguous), every slot, limiter token and pacer grant is given back, and the commands
  // never sent come back as not_executed. The caller's own next co_await then sees the cancellation.
  const bool throw_before = co_await net::this_coro::throw_if_cancelled();
  co_await net::this_coro::throw_if_cancelled(false);
  while (run->running > 0) {
    co_await run->all_done.async_wait();
    if (!run->cancelled && run->caller_cancelled()) {
      impl_->log->info("bitrix: batch run cancelled: {} command(s) not sent, waiting for {} in flight",
                       run->pending.size(), run->in_flight);
      run->cancelled = run->stopped = true;
      run->wake.notify_all();
    }
  }
  co_await net::this_coro::throw_if_cancelled(throw_before);
  run->cancelled = run->cancelled || run->caller_cancelled();

  for (std::size_t i = 0; i < run->cmds.size(); ++i) {
    if (run->finished[i]) continue;  // only after a stop: cancelled, or a worker failed
    diagnostics d;
    d.kind = fault_kind::not_executed;
    d.detail = run->cancelled ? "not sent: the batch run was cancelled" : "not sent: the batch run stopped";
    run->finish(i, fail_all(std::span<const command>(&run->cmds[i], 1), d).front());
  }
  co_return std::move(run->results);
}

}  // namespace b24sync::bitrix
