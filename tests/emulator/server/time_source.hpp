// Portal time for the emulator: Unix time at start plus steady elapsed time times a scale, with manual jumps.
// Pure: the caller passes the steady-clock reading, so tests drive it without a clock.
#pragma once

#include <chrono>

namespace b24emu {

class time_source {
public:
  using steady = std::chrono::steady_clock;

  // start_unix: portal time at `origin`; scale: portal seconds per real second (> 0).
  time_source(double start_unix, double scale, steady::time_point origin);

  double now(steady::time_point at) const;          // portal Unix seconds at steady time `at`
  double scale() const { return scale_; }

  void advance(double portal_seconds);                // jump forward (or back) without waiting
  void set_scale(double scale, steady::time_point at); // keeps now(at) continuous

  // Real time to wait for `portal_seconds` of simulated work at the current scale.
  steady::duration real_delay(double portal_seconds) const;

private:
  double base_unix_;
  steady::time_point base_steady_;
  double scale_;
};

}  // namespace b24emu
