#pragma once
// Waits inside a test coroutine until a condition holds, without blocking the loop (no sleeps:
// the io_context keeps running everything else while we wait).

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <chrono>

#include <kazoo_bridge/common/asio.hpp>

namespace kazoo_bridge::test {

/// Polls `pred` every 2 ms until it is true (returns true) or `limit` passes (returns false).
/// `pred` by value: it is usually a lambda capturing the test's locals by reference.
template <class Pred>
awaitable<bool> wait_until(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(3)) {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer timer(ex);
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) co_return false;
    timer.expires_after(std::chrono::milliseconds(2));
    co_await timer.async_wait(use_nothrow);
  }
  co_return true;
}

}  // namespace kazoo_bridge::test
