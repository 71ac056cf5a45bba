// What every command does first: load the config and read the sources, mapping failures to exit codes.
#pragma once

#include "app/sources.hpp"
#include "config/config.hpp"

#include <spdlog/logger.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace b24sync::app {

// Loads the config, prints its warnings; on failure prints the error and sets `exit` (78).
std::optional<config::loaded_config> load_config_or_report(const std::string& path, spdlog::logger& log, int& exit);

// Reads all sources; on an unusable source prints the error and sets `exit` (65).
std::optional<loaded_sources> read_sources_or_report(const config::config& cfg, spdlog::logger& log, int& exit);

// Today's calendar date in the machine's time zone (HR dates are local dates).
std::chrono::year_month_day today_local();

}  // namespace b24sync::app
