// libFuzzer target: parse_config on arbitrary bytes (only config_error may escape), then, when the text
// parses, the mapping over records carrying every attribute the config reads, with values from the input.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "config/mapping.hpp"

namespace cfg = b24sync::config;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  cfg::parse_options options;
  // A fixed environment: no dependence on the machine, and relative secret files resolve nowhere.
  options.getenv = [](const std::string& name) -> std::optional<std::string> {
    if (name == "HOOK") return "https://corp.bitrix24.ru/rest/1/abc123/";
    if (name == "CREDENTIALS_DIRECTORY") return "/nonexistent-b24sync-fuzz";
    if (name == "EMPTY") return "";
    return std::nullopt;
  };
  cfg::loaded_config loaded;
  try {
    loaded = cfg::parse_config(text, "fuzz.yaml", options);
  } catch (const cfg::config_error&) {
    return 0;
  }
  // Values for the records: short slices of the input (long ones only slow regex_replace down).
  std::vector<std::string> values;
  for (std::size_t i = 0; i < size && values.size() < 8; i += 13) values.emplace_back(text.substr(i, 12));
  values.emplace_back("8 (916) 123-45-67");
  values.emplace_back("15.03.2024");
  std::vector<b24sync::connectors::source_record> records;
  for (std::size_t n = 0; n < 3; ++n)
    for (const auto& source : loaded.cfg.sources) {
      b24sync::connectors::source_record r;
      r.where.source = source.name;
      r.where.line = n + 1;
      std::size_t v = n;
      auto add = [&](const std::string& attr) {
        r.attributes.push_back({attr, {values[v++ % values.size()]}});
      };
      add(source.key);
      for (const auto& rule : loaded.cfg.mapping.fields) {
        for (const auto& attr : rule.value.attributes()) add(attr);
        for (const auto& alt : rule.alternatives)
          for (const auto& attr : alt.attributes()) add(attr);
      }
      for (const auto& a : loaded.cfg.mapping.active) add(a.from);
      records.push_back(std::move(r));
    }
  constexpr std::chrono::year_month_day today{std::chrono::year{2024}, std::chrono::month{6},
                                              std::chrono::day{15}};
  cfg::mapping_result result = cfg::map_records(loaded.cfg, records, today);
  if (!result.people.empty()) cfg::explain(loaded.cfg, records, today, result.people.front().key);
  return 0;
}
