// Loading a seed document into the portal's data (format: tests/emulator/core/README.md) and dumping it back.
#pragma once

#include "core/state.hpp"

namespace b24emu::detail {

// Replaces `d` with the seed's contents; applies an optional "limits" object to `l`.
// Throws std::invalid_argument naming the offending entry.
void load_seed_into(portal_data& d, limits_config& l, const boost::json::value& seed);

boost::json::value dump_users(const portal_data& d);
boost::json::value dump_departments(const portal_data& d);
boost::json::object department_output(const department& dep);

}  // namespace b24emu::detail
