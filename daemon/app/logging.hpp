// Loggers for the commands: text or JSON lines on stderr, journald-friendly when stderr is the journal.
#pragma once

#include <spdlog/logger.h>

#include <memory>
#include <string>

namespace b24sync::app {

struct log_options {
  std::string level = "info";  // trace|debug|info|warn|error
  std::string format = "text"; // text|json
  bool quiet = false;          // -q: errors only
};

// A logger writing to stderr. When stderr is connected to the systemd journal (JOURNAL_STREAM matches
// it), lines carry "<N>" syslog priorities and no timestamps: the journal adds its own.
std::shared_ptr<spdlog::logger> make_logger(const log_options& options, const std::string& name = "b24sync");

}  // namespace b24sync::app
