// sync/drift.hpp: `sync --plan FILE` — does the portal still hold what a reviewed plan saw? Pure.
#pragma once

#include "sync/plan.hpp"

#include <string>
#include <vector>

namespace b24sync::sync {

/** Compares a reviewed plan with a plan made just now from the same sources and a fresh snapshot.
    Every write of the reviewed plan must still be planned the same way: same kind for the same user
    (by portal ID, or HR key for creates), and every field change with the same "before" value.
    Returns one plain sentence per user that drifted; empty = the reviewed plan may be applied as is.
    Equal snapshot fingerprints short-cut to "no drift". */
std::vector<std::string> find_drift(const plan& reviewed, const plan& fresh);

}  // namespace b24sync::sync
