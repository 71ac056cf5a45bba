// Turns the portal section of the configuration into the REST client's settings.
#pragma once

#include "bitrix/client_config.hpp"
#include "config/config.hpp"

#include <spdlog/logger.h>

#include <memory>

namespace b24sync::app {

// Throws config::config_error when the OAuth refresh-token file cannot be read. For OAuth, the client
// is told to write each rotated refresh token back to oauth.refresh_token_file (atomically, mode 0600).
bitrix::client_config make_client_config(const config::config& cfg, std::shared_ptr<spdlog::logger> log);

}  // namespace b24sync::app
