#pragma once
// The test thread drives the loop, with no sleeps (style guide B.9 rule 3).

#include <gtest/gtest.h>

#include <chrono>
#include <exception>

#include <kazoo_bridge/common/asio.hpp>

namespace kazoo_bridge::test {

/// Spawns the coroutine `f` (pass the callable, not a called lambda), runs the loop until it
/// finishes or `limit` passes, and fails the test if it did not finish. Rethrows its exception.
template <class F>
void run_coro(asio::io_context& ioc, F f, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  bool done = false;
  std::exception_ptr error;
  asio::co_spawn(ioc, std::move(f), [&](std::exception_ptr e, auto&&...) {
    done = true;
    error = e;
  });
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    if (ioc.run_one_for(std::chrono::milliseconds(50)) == 0 && ioc.stopped()) ioc.restart();
  }
  if (!done) {
    ADD_FAILURE() << "coroutine did not finish within " << limit.count() << " ms";
    return;
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace kazoo_bridge::test
