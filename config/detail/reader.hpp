// Internal: typed reads from yaml-cpp nodes with file:line:column + key-path errors, unknown-key checks
// with "did you mean" hints, ${ENV} expansion. Used by the config_*.cpp section parsers only.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.hpp"

namespace b24sync::config::detail {

class reader {
 public:
  reader(std::string file, std::string_view text, const parse_options& options,
         std::vector<std::string>& warnings);

  [[noreturn]] void fail(const YAML::Node& at, std::string_view path, std::string_view message) const;
  [[noreturn]] void fail(const YAML::Mark& at, std::string_view path, std::string_view message) const;
  // "file:line:column" (1-based) for a mark.
  std::string location(const YAML::Mark& at) const;
  void warn(std::string message) const { warnings_.push_back(std::move(message)); }

  // A scalar with ${NAME} expanded. Fails on maps/sequences and unset variables.
  std::string str(const YAML::Node& n, std::string_view path) const;
  // A scalar without expansion (templates, table entries keep '$' as is).
  std::string raw_str(const YAML::Node& n, std::string_view path) const;
  bool boolean(const YAML::Node& n, std::string_view path) const;
  std::int64_t integer(const YAML::Node& n, std::string_view path, std::int64_t min, std::int64_t max) const;
  double number(const YAML::Node& n, std::string_view path, double min, double max) const;
  // 0.5 or "50%".
  double ratio(const YAML::Node& n, std::string_view path) const;
  // "15m", "1h30m", "90s", "500ms", "1d"; must be > 0.
  std::chrono::milliseconds duration(const YAML::Node& n, std::string_view path) const;
  // A sequence of scalars, or one scalar as a one-element list.
  std::vector<std::string> str_list(const YAML::Node& n, std::string_view path) const;

  template <typename E>
  E choice(const YAML::Node& n, std::string_view path,
           std::initializer_list<std::pair<std::string_view, E>> options) const {
    std::string v = str(n, path);
    std::vector<std::string> names;
    for (const auto& [name, value] : options) {
      if (v == name) return value;
      names.emplace_back(name);
    }
    fail_choice(n, path, v, names);
  }

  // ${NAME} / ${NAME:-default} expansion; `$${` is a literal `${`.
  std::string expand(const YAML::Node& at, std::string_view path, std::string_view text) const;
  std::optional<std::string> getenv(const std::string& name) const;
  // Relative paths are taken against the base folder.
  std::string resolve(const std::string& p) const;
  // Mark of a character `offset` bytes into a single-line scalar (falls back to the node's mark).
  YAML::Mark mark_in_scalar(const YAML::Node& n, std::size_t offset) const;
  const std::string& file() const { return file_; }

 private:
  [[noreturn]] void fail_choice(const YAML::Node& n, std::string_view path, const std::string& v,
                                const std::vector<std::string>& names) const;
  std::string file_;
  std::string_view text_;
  const parse_options& options_;
  std::vector<std::string>& warnings_;
};

// A YAML map whose keys are checked against an allowed list at construction: unknown keys
// (with a hint) and duplicate keys are errors. A null node reads as an empty map.
class map_view {
 public:
  map_view(const reader& r, const YAML::Node& node, std::string path, std::vector<std::string> allowed);

  // The value, or nullopt when the key is absent or null.
  std::optional<YAML::Node> get(std::string_view key) const;
  YAML::Node require(std::string_view key) const;
  bool has(std::string_view key) const { return get(key).has_value(); }
  std::string path_of(std::string_view key) const {
    return path_.empty() ? std::string{key} : path_ + "." + std::string{key};
  }
  const std::string& path() const { return path_; }
  const YAML::Node& node() const { return node_; }

  // Convenience: assign when present.
  void read(std::string_view key, std::string& out) const;
  void read(std::string_view key, bool& out) const;
  void read(std::string_view key, std::vector<std::string>& out) const;

 private:
  const reader& r_;
  YAML::Node node_;
  std::string path_;
};

std::string_view type_name(const YAML::Node& n);

}  // namespace b24sync::config::detail
