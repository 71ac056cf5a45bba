// tests/support/run_co.hpp: run one coroutine on a test's io_context to completion, bounded in real time.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>
#include <utility>

namespace b24sync::test {

/// Runs `a` on `ioc` until it finishes or `bound` passes (then throws). Rethrows its exception.
template <class T>
T run_co(boost::asio::io_context& ioc, boost::asio::awaitable<T> a,
         std::chrono::seconds bound = std::chrono::seconds(120)) {
  std::optional<T> value;
  std::exception_ptr error;
  bool done = false;
  boost::asio::co_spawn(ioc, std::move(a), [&](std::exception_ptr e, T v) {
    error = e;
    if (!e) value.emplace(std::move(v));
    done = true;
  });
  ioc.restart();
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (!done && std::chrono::steady_clock::now() < deadline) ioc.run_one_until(deadline);
  if (!done) throw std::runtime_error("coroutine did not finish in time");
  if (error) std::rethrow_exception(error);
  return std::move(*value);
}

}  // namespace b24sync::test
