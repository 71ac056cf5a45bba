// Process exit codes of every b24sync command (design.md §3); sysexits-style where one fits.
#pragma once

namespace b24sync::app {

enum class exit_code : int {
  ok = 0,               // done; for `plan --detailed-exitcode`: no changes
  changes = 2,          // `plan --detailed-exitcode`: the plan has changes
  guard_tripped = 3,    // a safety guard stopped the run; nothing was written
  partial_failure = 4,  // finished, but some operations failed permanently
  usage = 64,           // bad command line
  source_unusable = 65, // a source is unusable as a whole
  unavailable = 69,     // portal unreachable or credentials rejected
  temp_failure = 75,    // temporary failure or interrupted; safe to run again
  config = 78,          // configuration error
};

constexpr int to_int(exit_code c) noexcept { return static_cast<int>(c); }

}  // namespace b24sync::app
