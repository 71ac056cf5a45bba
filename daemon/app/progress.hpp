// app/progress.hpp: shows the executor's progress — a live line on a TTY, a log line every few
// seconds otherwise. The text is made by a pure function so it can be tested with literals.
#pragma once

#include "sync/executor.hpp"

#include <spdlog/logger.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

namespace b24sync::app {

/// "update   1,200/5,000  24%  48.0/s  ETA 1m19s  503s: 0"
std::string format_progress(const sync::progress& p);

class progress_printer {
 public:
  /// tty: rewrite one line on `out` (stderr); else log through `log` at most every `every`.
  progress_printer(bool tty, std::shared_ptr<spdlog::logger> log, std::FILE* out = stderr,
                   std::chrono::seconds every = std::chrono::seconds{5});
  void operator()(const sync::progress& p);

 private:
  bool tty_;
  std::shared_ptr<spdlog::logger> log_;
  std::FILE* out_;
  std::chrono::seconds every_;
  std::chrono::steady_clock::time_point last_log_{};
  std::string last_phase_;
};

}  // namespace b24sync::app
