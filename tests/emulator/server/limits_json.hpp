// limits_config <-> JSON for /emu/limits and the b24emu command line.
#pragma once

#include "core/portal.hpp"

#include <boost/json/value.hpp>

namespace b24emu {

boost::json::value limits_to_json(const limits_config& l);

// Applies a partial update: only the keys present change. method_cost_s merges per method (keys are
// lower-cased; a null value removes the entry). Unknown keys and wrong types throw std::invalid_argument
// and leave `l` unchanged.
void apply_limits_patch(limits_config& l, const boost::json::value& patch);

}  // namespace b24emu
