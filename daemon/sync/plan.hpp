// sync/plan.hpp: the plan — what a run would change on the portal, field by field — as plain data.
// Produced by the diff engine (diff.hpp), checked by the guards, rendered by daemon/report/, read back
// from JSON by `sync --plan`, and annotated with per-operation outcomes by the executor.
#pragma once

#include "connectors/source_record.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace b24sync::sync {

/// The plan's JSON schema version (report/json). Bump on any incompatible change.
/// 2: unchanged people moved out of "users" into a compact "unchanged" list (version 1 still reads).
inline constexpr int plan_schema_version = 2;

/// A UF_DEPARTMENT value "$dept:<i>" in a create's wire value stands for the department that
/// plan::departments[i] creates; the executor replaces it with the new department's ID.
inline constexpr std::string_view department_placeholder_prefix = "$dept:";

/// What is sent for one field: a scalar string ("YYYY-MM-DD" for dates, E.164 for phones, "Y"/"N"
/// for ACTIVE) or a list (UF_DEPARTMENT as decimal department IDs, `multiple: true` fields).
using wire_value = std::variant<std::string, std::vector<std::string>>;

/// One field of one user: the portal's value now and the value the plan writes. `before`/`after`
/// are the canonical text forms shown in reports and compared by `sync --plan` (lists joined with
/// ", ", departments as their paths " / "-joined, dates YYYY-MM-DD); `value` is what is sent.
struct field_change {
  std::string field;   ///< Bitrix24 field code ("EMAIL", "UF_DEPARTMENT", "ACTIVE", "UF_USR_HR_ID")
  std::string before;  ///< canonical text of the portal's value ("" for a create or an empty field)
  std::string after;   ///< canonical text of the desired value
  wire_value value;    ///< the value sent in user.add / user.update
  bool operator==(const field_change&) const = default;
};

enum class op_kind {
  create,      ///< user.add (an invitation e-mail goes out)
  update,      ///< user.update of the changed fields
  reactivate,  ///< user.update ACTIVE=Y plus any changed fields (a rehire)
  deactivate,  ///< user.update ACTIVE=N
  unchanged,   ///< matched and already right: nothing sent
  skip,        ///< not touched, for `reason`
};

/// The kinds that send something to the portal.
constexpr bool is_write(op_kind k) noexcept {
  return k == op_kind::create || k == op_kind::update || k == op_kind::reactivate || k == op_kind::deactivate;
}

/// Why a person or portal user is left alone (op_kind::skip).
enum class skip_reason {
  none,
  protected_user,     ///< policy.protected lists the ID or e-mail
  webhook_user,       ///< the user the webhook/token acts as
  not_managed,        ///< on_missing: b24sync did not create it and no source key ever matched it
  conflict,           ///< two people claim one portal user, or one person matches two users
  rejected_row,       ///< the person's rows were rejected (mapping_result::rejected_keys): no create, no deactivate
  policy,             ///< the policy forbids the change (create: false, update: false, reactivate: false, on_*: ignore)
  unknown_department, ///< a department path the portal lacks and create_missing is off
  inactive_new,       ///< terminated in the source and not on the portal: nothing to create
};

/// How a person was matched to a portal user (reports; the identity store learns from it).
enum class match_kind { none, identity_field, state, email };

/// One planned operation on one user (or a decision not to touch one).
struct user_op {
  op_kind kind = op_kind::skip;
  std::string key;                     ///< HR key; empty for a portal user no source lists
  std::optional<std::int64_t> user_id; ///< portal user ID; nullopt for create
  match_kind matched_by = match_kind::none;
  std::string email;                   ///< desired e-mail, or the portal's when there is no person
  std::string name;                    ///< "NAME LAST_NAME" for reports
  std::vector<field_change> changes;   ///< create: every mapped field; update/reactivate: the differing
                                       ///< ones (ACTIVE included for reactivate); deactivate: ACTIVE Y→N
  skip_reason skip = skip_reason::none;
  std::string reason;                  ///< plain words: why deactivated ("terminated: Дата увольнения
                                       ///< 2026-11-30", "missing from all sources") or skipped
  std::vector<connectors::origin> origins;  ///< the source rows behind this person (file:line)
  /// For create: portal department paths this op needs that the plan creates first (department_ops
  /// indexes); their IDs replace the placeholders in UF_DEPARTMENT once known.
  std::vector<std::size_t> needs_departments;
  bool operator==(const user_op&) const = default;
};

/// A matched person whose portal user is already right: nothing is sent. Unchanged people are most
/// of a steady-state plan (99% of a 10^6-person one), so they are kept apart from `plan::users` in
/// this compact form; the identity store still learns their key -> ID from it.
struct unchanged_user {
  std::string key;               ///< HR key
  std::int64_t user_id = 0;      ///< the portal user it matched
  match_kind matched_by = match_kind::none;
  bool operator==(const unchanged_user&) const = default;
};

/// A department the plan creates (create_missing: true), parents first.
struct department_op {
  std::string path;                        ///< full path, " / "-joined, for reports
  std::string name;                        ///< the last level
  std::optional<std::int64_t> parent_id;   ///< existing portal parent, or
  std::optional<std::size_t> parent_op;    ///< index of the department_op creating the parent
  bool operator==(const department_op&) const = default;
};

/// A safety guard that stopped the run (exit 3). The plan is still reported.
struct guard_trip {
  std::string guard;   ///< "empty_source", "min_source_ratio", "max_deactivations", "max_rejected_ratio"
  std::string reason;  ///< one plain sentence with the numbers and the setting to change
  double value = 0;    ///< the measured figure (count or ratio)
  double limit = 0;    ///< the configured limit it exceeded
  bool operator==(const guard_trip&) const = default;
};

struct plan_counts {
  std::size_t create = 0, update = 0, reactivate = 0, deactivate = 0, unchanged = 0, skip = 0;
  std::size_t departments = 0;     ///< department_ops
  std::size_t field_changes = 0;   ///< sum of changes over create/update/reactivate/deactivate
  std::size_t source_people = 0;   ///< desired people (mapping_result::people)
  std::size_t source_rejects = 0;  ///< rejected rows
  std::size_t portal_users = 0;    ///< users in the snapshot
  std::size_t managed_users = 0;   ///< portal users b24sync manages (for the % guard)
  bool operator==(const plan_counts&) const = default;
  /// Operations that write (departments + create + update + reactivate + deactivate).
  [[nodiscard]] std::size_t writes() const noexcept {
    return departments + create + update + reactivate + deactivate;
  }
};

/// The whole plan. Deterministic: the same inputs give the same plan, in the same order
/// (departments parents first; users: create, update, reactivate, deactivate, skip; within a kind by
/// key, then by user ID; unchanged people by key in `unchanged`). make_plan never puts an
/// op_kind::unchanged op in `users`; code reading a hand-built plan must still tolerate one.
struct plan {
  int schema_version = plan_schema_version;
  std::string portal_url;                    ///< no secrets
  std::string snapshot_fingerprint;          ///< hex digest of the snapshot's users/departments the plan was made from
  std::string created_at;                    ///< ISO-8601 UTC, set by the caller (the engine has no clock)
  std::vector<department_op> departments;
  std::vector<user_op> users;                ///< every person or portal user the plan touches or skips
  std::vector<unchanged_user> unchanged;     ///< matched and already right (counts.unchanged of them)
  std::vector<connectors::reject> rejects;   ///< rejected source rows (file:line, reason)
  std::vector<std::string> warnings;         ///< mapping warnings and anything odd the engine noticed
  std::vector<guard_trip> guards;            ///< tripped guards; empty = safe to execute
  plan_counts counts;
  bool operator==(const plan&) const = default;
};

std::string_view to_string(op_kind k) noexcept;      ///< "create", "update", ...
std::string_view to_string(skip_reason r) noexcept;  ///< "protected", "webhook_user", ...
std::string_view to_string(match_kind m) noexcept;   ///< "identity_field", "state", "email", "none"
std::optional<op_kind> op_kind_from_string(std::string_view s) noexcept;
std::optional<skip_reason> skip_reason_from_string(std::string_view s) noexcept;
std::optional<match_kind> match_kind_from_string(std::string_view s) noexcept;

}  // namespace b24sync::sync
