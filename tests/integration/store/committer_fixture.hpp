#pragma once
// A real database file, the DB thread and the I/O loop, wired as the app wires them.

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <kazoo_bridge/common/asio.hpp>
#include <kazoo_bridge/common/metrics.hpp>
#include <kazoo_bridge/store/committer.hpp>
#include <kazoo_bridge/store/database.hpp>

#include "support/log_capture.hpp"
#include "support/temp_dir.hpp"

namespace kazoo_bridge::store::test {

/// Resumes when pred() holds, checking after each turn of the loop and every millisecond; a
/// timer, not a sleep: the loop keeps running everything else meanwhile.
inline awaitable<void> until(std::function<bool()> pred) {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer t(ex);
  while (!pred()) {
    t.expires_after(std::chrono::milliseconds(1));
    co_await t.async_wait(use_nothrow);
  }
}

/// Lets every handler that is ready run, `turns` times over.
inline awaitable<void> yield(int turns = 20) {
  auto ex = co_await asio::this_coro::executor;
  for (int i = 0; i < turns; ++i) co_await asio::post(ex, asio::use_awaitable);
}

class committer_fixture : public ::testing::Test {
 protected:
  void SetUp() override { open(); }
  void TearDown() override { db_thread_.join(); }

  void open(std::chrono::milliseconds busy_timeout = std::chrono::milliseconds(5000)) {
    auto r = database::open({.path = path(), .busy_timeout = busy_timeout});
    ASSERT_TRUE(r) << r.error().message();
    db_ = std::move(*r);
  }
  std::string path() const { return dir_.file("kb.db"); }

  std::unique_ptr<committer> make(committer_options o) {
    auto c = std::make_unique<committer>(ioc_.get_executor(), db_thread_, *db_, o, metrics_, log_.logger());
    c->on_committed = [this](const commit_stats& s) {
      ++transactions_;
      committed_ += s;
    };
    return c;
  }

  /// Starts run() in the background; run_done_ says when it returned.
  void start(committer& c) {
    asio::co_spawn(ioc_, c.run(), [this](std::exception_ptr e) {
      run_done_ = true;
      if (e) std::rethrow_exception(e);
    });
  }

  std::uint64_t counter_value(const std::string& name) { return metrics_.make_counter(name, "").value(); }

  kazoo_bridge::test::temp_dir dir_;
  asio::io_context ioc_;
  asio::thread_pool db_thread_{1};
  metrics_registry metrics_;
  kazoo_bridge::test::log_capture log_{"store"};
  std::unique_ptr<database> db_;

  bool run_done_ = false;
  std::size_t transactions_ = 0;
  commit_stats committed_;
};

}  // namespace kazoo_bridge::store::test
