// The group committer over a real SQLite file, the DB thread and the I/O loop.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <fmt/format.h>

#include "../../unit/store/raw_sqlite.hpp"
#include "../../unit/store/sample_rows.hpp"
#include "committer_fixture.hpp"
#include "support/run_coro.hpp"

namespace kazoo_bridge::store {
namespace {

using test::sample_call;
using test::sample_event;
using kazoo_bridge::test::run_coro;

batch one_event_batch(int i, std::size_t events = 1) {
  batch b;
  const auto call = fmt::format("c{}", i);
  for (std::size_t k = 0; k < events; ++k) {
    b.events.push_back(sample_event(fmt::format("evt_{}_{}", i, k), call));
  }
  b.calls.push_back(sample_call(call));
  return b;
}

class Committer : public test::committer_fixture {
 protected:
  /// The number of stored events, read on the DB thread (the committer may be running).
  awaitable<std::int64_t> stored_events() {
    auto count = [db = db_.get()] { return db->count_events().value(); };
    co_return co_await offload(db_thread_, std::move(count));
  }
};

TEST_F(Committer, ManyEnqueuesBecomeFewTransactionsAndEveryRowIsStored) {
  auto c = make({.max_delay = std::chrono::milliseconds(2)});
  constexpr int n = 500;
  run_coro(ioc_, [&]() -> awaitable<void> {
    start(*c);
    for (int i = 0; i < n; ++i) c->enqueue(one_event_batch(i));
    EXPECT_EQ(c->pending_events(), static_cast<std::size_t>(n));
    co_await test::until([&] { return c->pending_events() == 0; });
    c->stop();
    co_await test::until([&] { return run_done_; });
  });
  EXPECT_EQ(db_->count_events().value(), n);
  EXPECT_EQ(db_->recent_calls(1000).value().size(), static_cast<std::size_t>(n));
  EXPECT_EQ(committed_.events_inserted, static_cast<std::size_t>(n));
  EXPECT_EQ(committed_.batches, static_cast<std::size_t>(n));
  EXPECT_GE(transactions_, 1u);
  EXPECT_LT(transactions_, 10u) << "group commit should merge the batches enqueued together";
  EXPECT_EQ(counter_value("kazoo_bridge_commits_total"), transactions_);
  EXPECT_EQ(counter_value("kazoo_bridge_commit_errors_total"), 0u);
  auto& batch_hist = metrics_.make_histogram("kazoo_bridge_commit_batch_events", "", {});
  EXPECT_EQ(batch_hist.count(), transactions_);
  EXPECT_EQ(batch_hist.sum(), static_cast<double>(n));
  auto text = metrics_.render();
  for (const char* name : {"kazoo_bridge_commit_latency_seconds_count", "kazoo_bridge_commits_total",
                           "kazoo_bridge_commit_batch_events_bucket", "kazoo_bridge_store_pending_events 0",
                           "kazoo_bridge_commit_errors_total"}) {
    EXPECT_NE(text.find(name), std::string::npos) << name;
  }
}

TEST_F(Committer, TransactionsTakeWholeBatchesUpToMaxBatchEvents) {
  auto c = make({.max_delay = std::chrono::milliseconds(1), .max_batch_events = 10});
  std::vector<commit_stats> each;
  c->on_committed = [&](const commit_stats& s) { each.push_back(s); };
  run_coro(ioc_, [&]() -> awaitable<void> {
    for (int i = 0; i < 6; ++i) c->enqueue(one_event_batch(i, 4));  // 24 events in batches of 4
    c->enqueue(one_event_batch(100, 25));                           // one batch above the limit
    start(*c);
    co_await test::until([&] { return c->pending_events() == 0; });
    c->stop();
    co_await test::until([&] { return run_done_; });
  });
  std::size_t total = 0;
  ASSERT_FALSE(each.empty());
  for (const auto& s : each) {
    total += s.events_inserted;
    // A batch is never split: every transaction holds whole batches of 4, or the big one alone.
    if (s.events_inserted == 25) {
      EXPECT_EQ(s.batches, 1u);
    } else {
      EXPECT_LE(s.events_inserted, 10u);
      EXPECT_EQ(s.events_inserted, s.batches * 4);
    }
  }
  EXPECT_EQ(total, 49u);
  EXPECT_EQ(db_->count_events().value(), 49);
}

TEST_F(Committer, ALoneBatchIsCommittedAfterMaxDelayWithoutStop) {
  auto c = make({.max_delay = std::chrono::milliseconds(3)});
  std::int64_t stored = -1;
  run_coro(ioc_, [&]() -> awaitable<void> {
    start(*c);
    co_await test::yield();
    c->enqueue(one_event_batch(1));
    co_await test::until([&] { return transactions_ == 1; });
    stored = co_await stored_events();
    c->stop();
    co_await test::until([&] { return run_done_; });
  });
  EXPECT_EQ(stored, 1);
  EXPECT_EQ(transactions_, 1u);
}

TEST_F(Committer, ABatchAfterAQuietSpellIsCommittedAtOnceAndAStreamWaitsForItsGroup) {
  // max_delay of an hour: a batch that waited for its group could only be committed by stop().
  auto c = make({.max_delay = std::chrono::hours(1)});
  std::int64_t alone = -1, grouped = -1;
  run_coro(ioc_, [&]() -> awaitable<void> {
    start(*c);
    co_await test::yield();
    c->enqueue(one_event_batch(1));  // the first batch: nothing came before it
    co_await test::until([&] { return transactions_ == 1; });
    alone = co_await stored_events();
    c->enqueue(one_event_batch(2));  // right after the first one: waits for others to join it
    c->enqueue(one_event_batch(3));
    for (int i = 0; i < 20; ++i) co_await test::yield();
    grouped = co_await stored_events();
    c->stop();
    co_await test::until([&] { return run_done_; });
  });
  EXPECT_EQ(alone, 1);
  EXPECT_EQ(grouped, 1) << "batches arriving together wait for max_delay";
  EXPECT_EQ(db_->count_events().value(), 3);
  EXPECT_EQ(transactions_, 2u);
}

TEST_F(Committer, StopCommitsWhatIsPendingThenRunReturns) {
  // max_delay of an hour: only stop() can make these batches commit within the test.
  auto c = make({.max_delay = std::chrono::hours(1)});
  std::int64_t before_stop = -1;
  run_coro(ioc_, [&]() -> awaitable<void> {
    start(*c);
    for (int i = 0; i < 3; ++i) c->enqueue(one_event_batch(i, 2));
    co_await test::yield();
    before_stop = co_await stored_events();
    c->stop();
    co_await test::until([&] { return run_done_; });
  });
  EXPECT_EQ(before_stop, 0);
  EXPECT_EQ(db_->count_events().value(), 6);
  EXPECT_EQ(c->pending_events(), 0u);
  EXPECT_TRUE(log_.contains("store committer stopped pending_events=0")) << log_.text();
}

TEST_F(Committer, CancellingRunIsTreatedAsStop) {
  auto c = make({.max_delay = std::chrono::hours(1)});
  asio::cancellation_signal sig;
  bool done = false;
  run_coro(ioc_, [&]() -> awaitable<void> {
    asio::co_spawn(ioc_, c->run(),
                   asio::bind_cancellation_slot(sig.slot(), [&](std::exception_ptr e) {
                     done = true;
                     EXPECT_FALSE(e) << "run() must not throw when cancelled";
                   }));
    c->enqueue(one_event_batch(1, 3));
    co_await test::yield();
    sig.emit(asio::cancellation_type::terminal);
    co_await test::until([&] { return done; });
  });
  EXPECT_EQ(db_->count_events().value(), 3);
}

TEST_F(Committer, BackPressureSuspendsProducersAndResumesThemAfterCommits) {
  auto c = make({.max_delay = std::chrono::milliseconds(1), .max_pending_events = 10});
  bool resumed = false, second_resumed = false;
  std::size_t pending_at_resume = 999;
  run_coro(ioc_, [&]() -> awaitable<void> {
    // A producer over the limit, with run() not started: nothing can drain the queue.
    asio::co_spawn(ioc_, [&]() -> awaitable<void> {
      for (int i = 0; i < 3; ++i) c->enqueue(one_event_batch(i, 5));  // 15 > 10
      co_await c->wait_for_capacity();
      resumed = true;
      pending_at_resume = c->pending_events();
    }, [](std::exception_ptr) {});
    co_await test::yield(50);
    EXPECT_FALSE(resumed) << "the producer must wait while 15 > 10 events are queued";

    start(*c);
    co_await test::until([&] { return resumed; });
    EXPECT_LE(pending_at_resume, 10u);

    // Under the limit, wait_for_capacity() returns at once.
    asio::co_spawn(ioc_, [&]() -> awaitable<void> {
      c->enqueue(one_event_batch(10, 2));
      co_await c->wait_for_capacity();
      second_resumed = true;
    }, [](std::exception_ptr) {});
    co_await test::yield(5);
    EXPECT_TRUE(second_resumed);
    c->stop();
    co_await test::until([&] { return run_done_; });
  });
  EXPECT_TRUE(resumed);
  EXPECT_EQ(db_->count_events().value(), 17);
}

TEST_F(Committer, StopReleasesSuspendedProducers) {
  auto c = make({.max_pending_events = 1});
  bool resumed = false;
  run_coro(ioc_, [&]() -> awaitable<void> {
    asio::co_spawn(ioc_, [&]() -> awaitable<void> {
      c->enqueue(one_event_batch(1, 5));
      co_await c->wait_for_capacity();
      resumed = true;
    }, [](std::exception_ptr) {});
    co_await test::yield();
    EXPECT_FALSE(resumed);
    start(*c);
    c->stop();
    co_await test::until([&] { return resumed && run_done_; });
  });
  EXPECT_EQ(db_->count_events().value(), 5);
}

TEST_F(Committer, BusyDatabaseIsRetriedWithBackoffAndLoggedOnce) {
  open(std::chrono::milliseconds(5));  // short busy_timeout: each attempt fails fast
  auto c = make({.max_delay = std::chrono::milliseconds(1), .retry_initial = std::chrono::milliseconds(2),
                 .retry_max = std::chrono::milliseconds(8)});
  test::raw_sqlite other(path());
  ASSERT_EQ(other.exec("BEGIN IMMEDIATE"), SQLITE_OK);  // another writer holds the lock
  run_coro(ioc_, [&]() -> awaitable<void> {
    start(*c);
    c->enqueue(one_event_batch(1, 2));
    co_await test::until([&] { return counter_value("kazoo_bridge_commit_errors_total") >= 3; });
    EXPECT_EQ(c->pending_events(), 2u) << "a failed batch stays queued";
    c->enqueue(one_event_batch(2, 1));  // the queue keeps growing meanwhile
    EXPECT_EQ(other.exec("ROLLBACK"), SQLITE_OK);
    co_await test::until([&] { return c->pending_events() == 0; });
    c->stop();
    co_await test::until([&] { return run_done_; });
  });
  EXPECT_EQ(db_->count_events().value(), 3);
  const auto text = log_.text();
  const auto first = text.find("error store store commit failed");
  ASSERT_NE(first, std::string::npos) << text;
  EXPECT_EQ(text.find("error store store commit failed", first + 1), std::string::npos)
      << "logged once at error level:\n" << text;
  EXPECT_NE(text.find("database is locked"), std::string::npos) << text;
  EXPECT_TRUE(log_.contains("store commit succeeded again")) << text;
}

TEST_F(Committer, ARefusedBatchIsIsolatedAndTheOthersAreStored) {
  auto c = make({.max_delay = std::chrono::milliseconds(1)});
  batch bad = one_event_batch(2, 2);
  bad.calls[0].status = "exploded";  // the schema refuses it
  run_coro(ioc_, [&]() -> awaitable<void> {
    c->enqueue(one_event_batch(1, 2));
    c->enqueue(bad);
    c->enqueue(one_event_batch(3, 2));
    start(*c);
    co_await test::until([&] { return c->pending_events() == 0; });
    c->stop();
    co_await test::until([&] { return run_done_; });
  });
  EXPECT_EQ(db_->count_events().value(), 4);
  EXPECT_TRUE(db_->find_call("c1").value().has_value());
  EXPECT_TRUE(db_->find_call("c3").value().has_value());
  EXPECT_FALSE(db_->find_call("c2").value().has_value());
  EXPECT_TRUE(db_->events({.call_id = "c2"}).value().empty());
  EXPECT_EQ(counter_value("kazoo_bridge_store_rejected_events_total"), 2u);
  EXPECT_TRUE(log_.contains("error store store refused a batch")) << log_.text();
  EXPECT_TRUE(log_.contains("evt_2_0,evt_2_1")) << log_.text();
}

TEST_F(Committer, EnqueueAfterRunReturnedIsLoggedNotSilentlyLost) {
  auto c = make({});
  run_coro(ioc_, [&]() -> awaitable<void> {
    start(*c);
    c->stop();
    co_await test::until([&] { return run_done_; });
    c->enqueue(one_event_batch(7));
  });
  EXPECT_TRUE(log_.contains("enqueued after the store committer stopped")) << log_.text();
  EXPECT_TRUE(log_.contains("evt_7_0")) << log_.text();
}

// Regression: offload() of a function owning heap data (what a caller moving batches to the DB
// thread does). With offload() written as a coroutine, GCC 12 freed the captured vector twice.
TEST(Offload, MovesAFunctionOwningHeapDataToTheDbThreadAndBack) {
  asio::io_context ioc;
  asio::thread_pool pool(1);
  std::vector<std::string> got;
  run_coro(ioc, [&]() -> awaitable<void> {
    std::vector<std::string> data(3, std::string(64, 'x'));
    auto work = [d = std::move(data)]() mutable { return std::move(d); };
    got = co_await offload(pool, std::move(work));
  });
  pool.join();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[2], std::string(64, 'x'));
}

}  // namespace
}  // namespace kazoo_bridge::store
