// sync/diff.hpp: the diff engine and the safety guards. Pure: values in, a plan out. No sockets, no
// clock, no logging, no Asio. Same inputs -> the same plan, byte for byte once rendered.
#pragma once

#include "bitrix/portal_snapshot.hpp"
#include "config/config.hpp"
#include "config/mapping.hpp"
#include "sync/plan.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace b24sync::sync {

/// What the state store remembers that the engine needs (daemon/state fills it; tests use literals).
struct known_identities {
  std::map<std::string, std::int64_t> key_to_user;  ///< HR key -> portal user ID, learned by earlier runs
  std::set<std::int64_t> managed;                   ///< portal users b24sync created or matched to a key
};

struct diff_input {
  const config::config* cfg = nullptr;                 ///< mapping + policy (required)
  const config::mapping_result* desired = nullptr;     ///< the mapping's output (required)
  const bitrix::snapshot* portal = nullptr;            ///< users + departments (required)
  known_identities identities;                         ///< from the state store; empty on a first run
  std::optional<std::int64_t> webhook_user;            ///< never deactivated or edited
  std::string portal_url;                              ///< copied into the plan
  std::string created_at;                              ///< copied into the plan (the caller's clock)
  std::vector<std::string> warnings;                   ///< copied into the plan (mapping warnings...)
};

/// Computes the plan (guards not evaluated: plan::guards is empty). Never throws on bad data:
/// problems become skips with a reason or plan warnings. Throws std::invalid_argument when a
/// required pointer is null.
plan make_plan(const diff_input& in);

/// Hex fingerprint of a snapshot (users and departments, every field the engine reads): equal
/// snapshots have equal fingerprints.
std::string snapshot_fingerprint(const bitrix::snapshot& s);

struct guard_input {
  const config::policy_config* policy = nullptr;    ///< required
  std::optional<std::size_t> last_source_people;    ///< people in the last successful run (state store)
  std::size_t source_rows = 0;                      ///< data rows read across sources (rejects included)
  std::optional<std::size_t> allow_deactivations;   ///< --allow-deactivations N: raises the limit to N
};

/// Evaluates every guard against the plan; returns the tripped ones (empty = go). Does not modify
/// the plan (the caller stores the result in plan::guards).
std::vector<guard_trip> evaluate_guards(const plan& p, const guard_input& in);

}  // namespace b24sync::sync
