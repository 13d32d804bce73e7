#include <gtest/gtest.h>

#include <kazoo_bridge/kazoo/directory_refresher.hpp>

namespace kazoo_bridge::kazoo {
namespace {

TEST(directory, users_and_devices_from_crossbar_rows) {
  auto users = nlohmann::json::parse(R"([
    {"id":"u1","first_name":"Alice","last_name":"Smith","username":"alice","email":"a@x","priv_level":"admin",
     "presence_id":"1001@acme.sip.example.net"},
    {"id":"u2","username":"bob","presence_id":"1002"},
    {"first_name":"no id"}
  ])");
  auto devices = nlohmann::json::parse(R"([{"id":"d1","name":"Alice desk","owner_id":"u1"},{"name":"no id"}])");
  auto d = make_directory(users.get<std::vector<nlohmann::json>>(), devices.get<std::vector<nlohmann::json>>());
  ASSERT_EQ(d.users.size(), 2u);
  EXPECT_EQ(d.users["u1"].name, "Alice Smith");
  EXPECT_EQ(d.users["u1"].extension, "1001");
  EXPECT_TRUE(d.users["u1"].admin);
  EXPECT_EQ(d.users["u2"].name, "bob");  // no first/last name: the user name
  EXPECT_EQ(d.users["u2"].extension, "1002");
  EXPECT_FALSE(d.users["u2"].admin);
  ASSERT_EQ(d.devices.size(), 1u);
  EXPECT_EQ(d.devices["d1"].owner_id, "u1");
}

}  // namespace
}  // namespace kazoo_bridge::kazoo
