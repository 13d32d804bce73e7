#pragma once
/// Asio/Beast aliases and the three helpers every coroutine uses (style guide B.3):
/// use_nothrow, offload() and spawn_logged(). I/O modules only; pure modules never include this.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <memory>
#include <string>

#include <spdlog/logger.h>

namespace kazoo_bridge {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

template <class T = void>
using awaitable = asio::awaitable<T>;

/// Completion token for operations whose failure is an expected outcome:
/// `auto [ec, n] = co_await op(..., use_nothrow);` (Boost 1.81 has no default token).
inline constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

/// Runs f() on `pool` (the DB thread) and resumes the caller back on its own executor.
/// The lambda itself is handed to co_spawn so that f lives in the entry-point frame (B.3 rule 1).
/// Deliberately not a coroutine itself: with GCC 12, moving a by-value coroutine parameter into
/// a lambda init-capture destroyed the captured state twice (a vector captured by f was freed
/// twice under ASan; Clang 14 was fine). Returning co_spawn's awaitable avoids the parameter copy.
template <class F>
auto offload(asio::thread_pool& pool, F f) -> awaitable<decltype(f())> {
  return asio::co_spawn(
      pool, [f = std::move(f)]() mutable -> awaitable<decltype(f())> { co_return f(); },
      asio::use_awaitable);
}

/// Spawns a background task whose exception is logged, never silently dropped (asio::detached
/// would swallow it, B.3 rule 5).
template <class Executor, class Task>
void spawn_logged(Executor ex, Task&& task, std::string name, std::shared_ptr<spdlog::logger> log) {
  asio::co_spawn(ex, std::forward<Task>(task),
                 [name = std::move(name), log = std::move(log)](std::exception_ptr e, auto&&...) {
                   if (!e) return;
                   try {
                     std::rethrow_exception(e);
                   } catch (const std::exception& x) {
                     log->error("task={} failed: {}", name, x.what());
                   }
                 });
}

}  // namespace kazoo_bridge
