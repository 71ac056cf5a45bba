// Portal time arithmetic (see time_source.hpp).
#include "server/time_source.hpp"

#include <stdexcept>

namespace b24emu {

time_source::time_source(double start_unix, double scale, steady::time_point origin)
    : base_unix_(start_unix), base_steady_(origin), scale_(scale) {
  if (!(scale > 0)) throw std::invalid_argument("time scale must be > 0");
}

double time_source::now(steady::time_point at) const {
  const std::chrono::duration<double> elapsed = at - base_steady_;
  return base_unix_ + elapsed.count() * scale_;
}

void time_source::advance(double portal_seconds) { base_unix_ += portal_seconds; }

void time_source::set_scale(double scale, steady::time_point at) {
  if (!(scale > 0)) throw std::invalid_argument("time scale must be > 0");
  base_unix_ = now(at);
  base_steady_ = at;
  scale_ = scale;
}

time_source::steady::duration time_source::real_delay(double portal_seconds) const {
  if (!(portal_seconds > 0)) return steady::duration::zero();
  return std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(portal_seconds / scale_));
}

}  // namespace b24emu
