// sync/guards.cpp: the safety guards checked before any write — empty or shrunken source, too many
// deactivations, too many rejected rows. Each trip is one plain sentence naming the setting to change.
#include "sync/diff.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace b24sync::sync {
namespace {

// Shortest readable form of a configured number: 5 -> "5", 2.5 -> "2.5", 0.1 -> "0.1".
std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string plural(std::size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

std::vector<guard_trip> evaluate_guards(const plan& p, const guard_input& in) {
  if (in.policy == nullptr) throw std::invalid_argument("evaluate_guards: policy is required");
  const config::policy_config& pol = *in.policy;
  const plan_counts& c = p.counts;
  std::vector<guard_trip> trips;

  if (c.source_people == 0) {
    trips.push_back({"empty_source",
                     "the sources hold no people (" + plural(in.source_rows, "row", "rows") +
                         " read); an empty or header-only export would deactivate everyone, so nothing is done: "
                         "check the source files",
                     0, 1});
  }

  if (in.last_source_people && *in.last_source_people > 0) {
    const double last = static_cast<double>(*in.last_source_people);
    const double now = static_cast<double>(c.source_people);
    if (now < pol.min_source_ratio * last) {
      trips.push_back({"min_source_ratio",
                       "the sources hold " + plural(c.source_people, "person", "people") + ", fewer than " +
                           "policy.min_source_ratio = " + num(pol.min_source_ratio) + " of the " +
                           std::to_string(*in.last_source_people) + " in the last successful run (" +
                           num(std::floor(pol.min_source_ratio * last * 100) / 100) +
                           "); check the sources, or lower policy.min_source_ratio if they really shrank",
                       now / last, pol.min_source_ratio});
    }
  }

  {
    const std::size_t planned = c.deactivate;
    std::size_t limit = 0;
    std::string setting;
    if (in.allow_deactivations) {
      limit = *in.allow_deactivations;
      setting = "--allow-deactivations " + std::to_string(limit);
    } else if (pol.max_deactivations.percent) {
      // A tiny epsilon so that 5% of 100 is 5, not 4.999...
      const double l = std::floor(pol.max_deactivations.value * static_cast<double>(c.managed_users) / 100 + 1e-9);
      limit = l > 0 ? static_cast<std::size_t>(l) : 0;
      setting = "policy.max_deactivations = " + num(pol.max_deactivations.value) + "% of " +
                plural(c.managed_users, "managed user", "managed users") + " (" + std::to_string(limit) + ")";
    } else {
      const double l = std::floor(pol.max_deactivations.value);
      limit = l > 0 ? static_cast<std::size_t>(l) : 0;
      setting = "policy.max_deactivations = " + std::to_string(limit);
    }
    if (planned > limit) {
      trips.push_back({"max_deactivations",
                       plural(planned, "deactivation", "deactivations") + " planned, more than " + setting +
                           "; re-run with --allow-deactivations " + std::to_string(planned) +
                           " if this is intended",
                       static_cast<double>(planned), static_cast<double>(limit)});
    }
  }

  {
    const double rows = static_cast<double>(std::max<std::size_t>(in.source_rows, 1));
    const double ratio = static_cast<double>(c.source_rejects) / rows;
    if (ratio > pol.max_rejected_ratio) {
      trips.push_back({"max_rejected_ratio",
                       std::to_string(c.source_rejects) + " of " + plural(in.source_rows, "row", "rows") +
                           " rejected (" + num(std::round(ratio * 1000) / 10) + "%), more than " +
                           "policy.max_rejected_ratio = " + num(pol.max_rejected_ratio) + " (" +
                           num(pol.max_rejected_ratio * 100) + "%); fix the rejected rows listed in the report, "
                           "or raise policy.max_rejected_ratio",
                       ratio, pol.max_rejected_ratio});
    }
  }
  return trips;
}

}  // namespace b24sync::sync
