// Helpers for the config tests: parsing with a fake environment, catching the error text, temp folders.
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace b24sync::config::test {

using env_map = std::map<std::string, std::string>;

inline parse_options options_with(env_map env, std::filesystem::path base = {}) {
  parse_options o;
  o.base_dir = std::move(base);
  o.getenv = [env = std::move(env)](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  return o;
}

inline loaded_config parse(std::string_view yaml, env_map env = {}, std::filesystem::path base = {}) {
  return parse_config(yaml, "b24sync.yaml", options_with(std::move(env), std::move(base)));
}

// The config_error message, or "(no error)".
inline std::string error_of(std::string_view yaml, env_map env = {}, std::filesystem::path base = {}) {
  try {
    parse(yaml, std::move(env), std::move(base));
  } catch (const config_error& e) {
    return e.what();
  }
  return "(no error)";
}

// A folder removed at the end of the test.
class temp_dir {
 public:
  temp_dir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("b24sync-config-test-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path write(const std::string& name, std::string_view content,
                              std::filesystem::perms perms = std::filesystem::perms::owner_read |
                                                             std::filesystem::perms::owner_write) const {
    auto p = path_ / name;
    std::ofstream(p, std::ios::binary) << content;
    std::filesystem::permissions(p, perms);
    return p;
  }

 private:
  std::filesystem::path path_;
};

// The smallest valid configuration; tests append sections to it.
inline constexpr std::string_view minimal_portal = "portal:\n  webhook: ${HOOK}\n";
inline constexpr std::string_view minimal_rest =
    "sources:\n"
    "  - {name: hr, type: csv, path: hr.csv, key: id}\n"
    "mapping:\n"
    "  fields:\n"
    "    EMAIL: \"{mail}\"\n"
    "    NAME: \"{givenName}\"\n";
inline const env_map hook_env = {{"HOOK", "https://corp.bitrix24.ru/rest/1/s3cr3tc0de42/"}};

inline std::string minimal() {
  return std::string{minimal_portal} + std::string{minimal_rest};
}

}  // namespace b24sync::config::test
