// sync/drift.cpp: the reviewed-plan check of `sync --plan` (see drift.hpp).
#include "sync/drift.hpp"

#include <fmt/core.h>

#include <map>
#include <set>
#include <string_view>
#include <tuple>

namespace b24sync::sync {

namespace {

std::string who(const user_op& op) {
  std::string s = op.key.empty() ? std::string{"(no HR key)"} : op.key;
  if (op.user_id) s += fmt::format(" (user {})", *op.user_id);
  if (!op.email.empty()) s += fmt::format(" <{}>", op.email);
  return s;
}

std::string shown(std::string_view v) {
  return v.empty() ? std::string{"empty"} : fmt::format("\"{}\"", v);
}

}  // namespace

std::vector<std::string> find_drift(const plan& reviewed, const plan& fresh) {
  std::vector<std::string> out;
  if (!reviewed.snapshot_fingerprint.empty() && reviewed.snapshot_fingerprint == fresh.snapshot_fingerprint)
    return out;

  // Fresh ops by portal ID (matched users) and by HR key (creates have no ID yet).
  std::map<std::int64_t, const user_op*> by_id;
  std::map<std::string_view, const user_op*> creates_by_key;
  for (const auto& op : fresh.users) {
    if (op.user_id) by_id.emplace(*op.user_id, &op);
    if (op.kind == op_kind::create && !op.key.empty()) creates_by_key.emplace(op.key, &op);
  }
  std::set<std::int64_t> unchanged_ids;  // already right now: someone made the reviewed change by hand
  for (const auto& u : fresh.unchanged) unchanged_ids.insert(u.user_id);

  for (const auto& op : reviewed.users) {
    if (!is_write(op.kind)) continue;
    const user_op* now = nullptr;
    if (op.kind == op_kind::create) {
      auto it = creates_by_key.find(op.key);
      if (it == creates_by_key.end()) {
        out.push_back(fmt::format("{}: reviewed as a new user, but the portal now has a match for them", who(op)));
        continue;
      }
      now = it->second;
    } else {
      auto it = op.user_id ? by_id.find(*op.user_id) : by_id.end();
      if (it == by_id.end() && op.user_id && unchanged_ids.contains(*op.user_id)) {
        out.push_back(fmt::format("{}: reviewed for {}, now the plan says unchanged", who(op), to_string(op.kind)));
        continue;
      }
      if (it == by_id.end()) {
        out.push_back(fmt::format("{}: reviewed for {}, but the user is no longer on the portal as planned",
                                  who(op), to_string(op.kind)));
        continue;
      }
      now = it->second;
      if (now->kind != op.kind) {
        out.push_back(fmt::format("{}: reviewed for {}, now the plan says {}", who(op), to_string(op.kind),
                                  to_string(now->kind)));
        continue;
      }
    }
    for (const auto& ch : op.changes) {
      const field_change* cur = nullptr;
      for (const auto& c : now->changes)
        if (c.field == ch.field) cur = &c;
      if (cur == nullptr) {
        out.push_back(fmt::format("{}: {} was {} when reviewed; it no longer needs the change to {}", who(op),
                                  ch.field, shown(ch.before), shown(ch.after)));
      } else if (cur->before != ch.before) {
        out.push_back(fmt::format("{}: {} was {} when reviewed, now {}", who(op), ch.field, shown(ch.before),
                                  shown(cur->before)));
      }
    }
  }
  return out;
}

}  // namespace b24sync::sync
