// tests/integration/bitrix/bitrix_test_util.hpp: running a coroutine to completion under a time bound,
// a logger that records every line (to check redaction), and emulator seeds.
#pragma once

#include "support/run_co.hpp"
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>

namespace b24test {

namespace net = boost::asio;

using b24sync::test::run_co;

inline void run_co(net::io_context& ioc, net::awaitable<void> a, std::chrono::seconds bound = std::chrono::seconds(120)) {
  auto wrapped = [](net::awaitable<void> inner) -> net::awaitable<int> {
    co_await std::move(inner);
    co_return 0;
  };
  (void)run_co<int>(ioc, wrapped(std::move(a)), bound);
}

/// A logger writing every line (debug and up) into a string stream.
struct captured_log {
  std::ostringstream out;
  std::shared_ptr<spdlog::logger> logger;
  captured_log() {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(out);
    logger = std::make_shared<spdlog::logger>("bitrix-test", sink);
    logger->set_level(spdlog::level::debug);
  }
  std::string text() const { return out.str(); }
};

/// A small portal: admin user 1 (webhook owner), departments 1 (root) .. `departments`, `users` more
/// users (IDs 2..), every 7th dismissed.
inline boost::json::object make_seed(int users, int departments = 3, std::string webhook_secret = "s3cr3tcode") {
  boost::json::array deps;
  deps.push_back({{"ID", 1}, {"NAME", "Corp"}});
  for (int d = 2; d <= departments; ++d) deps.push_back({{"ID", d}, {"NAME", "Dept " + std::to_string(d)}, {"PARENT", 1}});
  boost::json::array us;
  us.push_back({{"ID", 1}, {"EMAIL", "admin@corp.test"}, {"NAME", "Ada"}, {"LAST_NAME", "Admin"}, {"IS_ADMIN", true},
                {"UF_DEPARTMENT", boost::json::array{1}}});
  for (int i = 0; i < users; ++i) {
    const int id = i + 2;
    us.push_back({{"ID", id},
                  {"EMAIL", "user" + std::to_string(id) + "@corp.test"},
                  {"NAME", "N" + std::to_string(id)},
                  {"LAST_NAME", "L" + std::to_string(id)},
                  {"ACTIVE", id % 7 == 0 ? "N" : "Y"},
                  {"UF_DEPARTMENT", boost::json::array{1 + (id % departments)}}});
  }
  boost::json::array hooks;
  hooks.push_back({{"user_id", 1}, {"secret", webhook_secret}});
  return {{"portal", {{"domain", "corp.test"}}}, {"departments", deps}, {"users", us}, {"webhooks", hooks}};
}

}  // namespace b24test
