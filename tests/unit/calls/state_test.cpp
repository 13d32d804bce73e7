// The tracker's compact per-call structures (src/calls/state.hpp, pooled_id.hpp, engine.hpp map_key):
// smaller than the strings and vectors they replaced, and still exactly as discriminating.

#include "calls/engine.hpp"
#include "calls/state.hpp"

#include <gtest/gtest.h>

namespace kazoo_bridge::calls::detail {
namespace {

TEST(PooledId, EqualValuesShareOneCopyAndCompareAsText) {
  pooled_id a = std::string("8f2a1c9d3b7e4f6a9c0d1e2f3a4b5c6d");
  pooled_id b = std::string_view("8f2a1c9d3b7e4f6a9c0d1e2f3a4b5c6d");
  pooled_id c = "1b2c3d4e5f60718293a4b5c6d7e8f901";
  EXPECT_EQ(&a.str(), &b.str());
  EXPECT_TRUE(a == b);
  EXPECT_FALSE(a == c);
  EXPECT_TRUE(a == "8f2a1c9d3b7e4f6a9c0d1e2f3a4b5c6d");
  const std::string& as_string = a;
  EXPECT_EQ(as_string, "8f2a1c9d3b7e4f6a9c0d1e2f3a4b5c6d");
  pooled_id empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_TRUE(empty == pooled_id(std::string()));
  a.clear();
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(sizeof(pooled_id), sizeof(void*));
}

TEST(RecentMsgs, RemembersTheLastFourInOrder) {
  recent_msgs m;
  EXPECT_TRUE(m.empty());
  for (std::uint64_t h = 1; h <= 6; ++h) m.add(h);
  EXPECT_FALSE(m.contains(1));
  EXPECT_FALSE(m.contains(2));
  for (std::uint64_t h = 3; h <= 6; ++h) EXPECT_TRUE(m.contains(h)) << h;
  EXPECT_EQ(m.list(), (std::vector<std::uint64_t>{3, 4, 5, 6}));
  recent_msgs two;
  two.add(7);
  two.add(8);
  EXPECT_EQ(two.list(), (std::vector<std::uint64_t>{7, 8}));
}

TEST(MapKey, TellsAccountsAndIdsApartWithoutAHeapBlock) {
  const pooled_id acme = "8f2a1c9d3b7e4f6a9c0d1e2f3a4b5c6d";
  const pooled_id globex = "1b2c3d4e5f60718293a4b5c6d7e8f901";
  const std::string leg = "a84b4c76e66710@10.10.1.20";
  EXPECT_EQ(map_key(acme, leg), map_key(pooled_id(std::string(acme.str())), leg)) << "same account, same id";
  EXPECT_NE(map_key(acme, leg), map_key(globex, leg)) << "one Call-ID seen by two accounts is two entries";
  EXPECT_NE(map_key(acme, leg), map_key(acme, leg + "x"));
  EXPECT_NE(map_key(acme, "ab"), map_key(acme, "ba"));
  EXPECT_LE(map_key(acme, leg).size(), 15U) << "fits std::string's inline buffer";
  std::unordered_set<std::string> keys;
  for (int i = 0; i < 100000; ++i) keys.insert(map_key(acme, "leg-" + std::to_string(i)));
  EXPECT_EQ(keys.size(), 100000U);
}

}  // namespace
}  // namespace kazoo_bridge::calls::detail
