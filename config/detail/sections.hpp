// Internal: the section parsers behind parse_config, one per part of the YAML document.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "config/detail/reader.hpp"

namespace b24sync::config::detail {

portal_config parse_portal(const reader& r, const YAML::Node& node);
std::vector<source_config> parse_sources(const reader& r, const YAML::Node& node);
mapping_config parse_mapping(const reader& r, const YAML::Node& node,
                             const std::vector<source_config>& sources);
policy_config parse_policy(const reader& r, const YAML::Node& node);

// Reads a secret from a file: relative names are looked up in $CREDENTIALS_DIRECTORY when set (systemd
// LoadCredential=), else next to the config. One trailing newline is dropped. Warns when group or
// others may read it.
secret read_secret_file(const reader& r, const YAML::Node& at, std::string_view path,
                        const std::string& name);
// Reads `key` (inline value or ${ENV}) or `key_file`; empty secret when neither is present.
secret read_secret(const reader& r, const map_view& m, std::string_view key);
// Splits "https://portal/rest/<id>/<code>/" (or "<id>/<code>" with `portal_url`) without ever
// putting the code into a message.
webhook_config split_webhook(const reader& r, const YAML::Node& at, std::string_view path,
                             const secret& value, const std::string& portal_url);

}  // namespace b24sync::config::detail
