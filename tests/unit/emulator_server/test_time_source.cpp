// Unit tests: portal time from a steady-clock reading, scale changes, jumps and cost delays.
#include "server/time_source.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

using namespace b24emu;
using namespace std::chrono_literals;

TEST_CASE("time_source: portal time runs at the scale from the start time") {
  const time_source::steady::time_point t0{};
  time_source t(1'700'000'000.0, 100.0, t0);
  CHECK(t.now(t0) == doctest::Approx(1'700'000'000.0));
  CHECK(t.now(t0 + 2s) == doctest::Approx(1'700'000'200.0));
  CHECK(t.now(t0 + 10ms) == doctest::Approx(1'700'000'001.0));
}

TEST_CASE("time_source: advance jumps without waiting") {
  const time_source::steady::time_point t0{};
  time_source t(1000.0, 1.0, t0);
  t.advance(600);
  CHECK(t.now(t0 + 1s) == doctest::Approx(1601.0));
}

TEST_CASE("time_source: changing the scale keeps time continuous") {
  const time_source::steady::time_point t0{};
  time_source t(0.0, 1.0, t0);
  t.set_scale(10.0, t0 + 5s);
  CHECK(t.now(t0 + 5s) == doctest::Approx(5.0));
  CHECK(t.now(t0 + 6s) == doctest::Approx(15.0));
  CHECK(t.scale() == doctest::Approx(10.0));
}

TEST_CASE("time_source: the real delay for a cost shrinks with the scale") {
  time_source t(0.0, 1000.0, {});
  CHECK(t.real_delay(2.0) == std::chrono::duration_cast<time_source::steady::duration>(2ms));
  CHECK(t.real_delay(0.0) == time_source::steady::duration::zero());
  CHECK(t.real_delay(-1.0) == time_source::steady::duration::zero());
}

TEST_CASE("time_source: a scale of zero or below is rejected") {
  CHECK_THROWS_AS(time_source(0.0, 0.0, {}), std::invalid_argument);
  time_source t(0.0, 1.0, {});
  CHECK_THROWS_AS(t.set_scale(-2.0, {}), std::invalid_argument);
}
