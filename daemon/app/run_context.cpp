// Config loading and source reading shared by the commands, with their exit-code mapping.
#include "app/run_context.hpp"

#include "app/exit_codes.hpp"
#include "connectors/source_record.hpp"

#include <ctime>

namespace b24sync::app {

std::optional<config::loaded_config> load_config_or_report(const std::string& path, spdlog::logger& log, int& exit) {
  try {
    auto loaded = config::load_config(path);
    for (const auto& w : loaded.warnings) log.warn("{}", w);
    return loaded;
  } catch (const config::config_error& e) {
    log.error("{}", e.what());
    exit = to_int(exit_code::config);
    return std::nullopt;
  }
}

std::optional<loaded_sources> read_sources_or_report(const config::config& cfg, spdlog::logger& log, int& exit) {
  try {
    return read_sources(cfg);
  } catch (const connectors::source_error& e) {
    log.error("source unusable: {}", e.what());
    exit = to_int(exit_code::source_unusable);
    return std::nullopt;
  } catch (const std::invalid_argument& e) {  // e.g. an LDIF filter that does not parse
    log.error("source configuration: {}", e.what());
    exit = to_int(exit_code::config);
    return std::nullopt;
  }
}

std::chrono::year_month_day today_local() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  return std::chrono::year_month_day{std::chrono::year{tm.tm_year + 1900},
                                     std::chrono::month{static_cast<unsigned>(tm.tm_mon + 1)},
                                     std::chrono::day{static_cast<unsigned>(tm.tm_mday)}};
}

}  // namespace b24sync::app
