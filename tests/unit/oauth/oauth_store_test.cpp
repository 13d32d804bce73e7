// The oauth_* tables (migration 0004) through store::oauth_store, on :memory: with every migration applied.
#include <gtest/gtest.h>

#include <kazoo_bridge/oauth/crypto.hpp>
#include <kazoo_bridge/oauth/service.hpp>
#include <kazoo_bridge/store/database.hpp>
#include <kazoo_bridge/store/oauth_store.hpp>

namespace kazoo_bridge::oauth {
namespace {

class oauth_store_test : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = store::database::open({.path = ":memory:"});
    ASSERT_TRUE(d) << d.error().message();
    db = std::move(*d);
    st = std::make_unique<store::oauth_store>(*db);
  }
  store::oauth_token_row token(const std::string& value, const std::string& kind, const std::string& family,
                               const std::string& client) {
    store::oauth_token_row t;
    t.token_hash = sha256_hex(value);
    t.kind = kind;
    t.family_id = family;
    t.client_id = client;
    t.account_id = "acc";
    t.user_id = "u1";
    t.identity = "{}";
    t.scopes = "calls dial";
    t.issued_at_ms = 1000;
    t.expires_at_ms = 5000;
    return t;
  }
  std::unique_ptr<store::database> db;
  std::unique_ptr<store::oauth_store> st;
};

TEST_F(oauth_store_test, register_list_rotate_and_remove_clients) {
  std::string problem;
  auto z = register_client(*st, "Zapier", {"https://zapier.com/cb/2", "https://zapier.com/cb/1", "https://zapier.com/cb/1"},
                           false, true, problem);
  ASSERT_TRUE(z) << problem;
  ASSERT_TRUE(z->client_secret.has_value());
  EXPECT_EQ(z->client_id.size(), 32u);
  auto spa = register_client(*st, "SPA", {"http://127.0.0.1:9000/cb"}, true, false, problem);
  ASSERT_TRUE(spa);
  EXPECT_FALSE(spa->client_secret.has_value());

  auto all = st->clients().value();
  ASSERT_EQ(all.size(), 2u);
  auto found = st->find_client(z->client_id).value();
  ASSERT_TRUE(found);
  // The secret is stored only as its hash; duplicates collapse, every URI is kept exactly.
  EXPECT_EQ(found->secret_hash, sha256_hex(*z->client_secret));
  EXPECT_EQ(found->redirect_uris, (std::vector<std::string>{"https://zapier.com/cb/1", "https://zapier.com/cb/2"}));
  auto pub = st->find_client(spa->client_id).value();
  ASSERT_TRUE(pub);
  EXPECT_TRUE(pub->is_public);
  EXPECT_TRUE(pub->pkce_required);  // forced for public clients
  EXPECT_FALSE(pub->secret_hash);

  auto rotated = rotate_client_secret(*st, z->client_id);
  ASSERT_TRUE(rotated);
  EXPECT_NE(*rotated, *z->client_secret);
  EXPECT_EQ(st->find_client(z->client_id).value()->secret_hash, sha256_hex(*rotated));
  EXPECT_EQ(rotate_client_secret(*st, spa->client_id).error(), make_error_code(errc::not_found));
  EXPECT_EQ(rotate_client_secret(*st, "nope").error(), make_error_code(errc::not_found));

  // Removing a client removes what was issued to it (ON DELETE CASCADE).
  ASSERT_FALSE(st->add_token(token("t1", "access", "fam", z->client_id)));
  EXPECT_TRUE(st->remove_client(z->client_id).value());
  EXPECT_FALSE(st->remove_client(z->client_id).value());
  EXPECT_FALSE(st->find_token(sha256_hex("t1")).value().has_value());
  EXPECT_EQ(st->clients().value().size(), 1u);
}

TEST_F(oauth_store_test, registration_refuses_bad_redirect_uris) {
  std::string problem;
  EXPECT_FALSE(register_client(*st, "x", {"http://evil.example/cb"}, false, true, problem));
  EXPECT_NE(problem.find("https"), std::string::npos);
  EXPECT_FALSE(register_client(*st, "x", {}, false, true, problem));
  EXPECT_FALSE(register_client(*st, " ", {"https://a/cb"}, false, true, problem));
  EXPECT_TRUE(st->clients().value().empty());
}

TEST_F(oauth_store_test, codes_are_single_use_and_families_revoke_together) {
  std::string problem;
  auto c = register_client(*st, "Zapier", {"https://z/cb"}, false, true, problem).value();
  store::oauth_code_row code{sha256_hex("code"), c.client_id, "fam", "acc", "u1", "{}", "calls", "https://z/cb",
                             "challenge", 1000, 61000, std::nullopt};
  ASSERT_FALSE(st->add_code(code));
  auto got = st->find_code(sha256_hex("code")).value();
  ASSERT_TRUE(got);
  EXPECT_FALSE(got->used_at_ms);
  EXPECT_EQ(got->code_challenge, "challenge");
  ASSERT_FALSE(st->mark_code_used(code.code_hash, 2000));
  ASSERT_FALSE(st->mark_code_used(code.code_hash, 3000));  // compare-and-set: the first use stays
  EXPECT_EQ(st->find_code(code.code_hash).value()->used_at_ms, 2000);
  EXPECT_FALSE(st->find_code(sha256_hex("other")).value());

  ASSERT_FALSE(st->add_token(token("a1", "access", "fam", c.client_id)));
  ASSERT_FALSE(st->add_token(token("r1", "refresh", "fam", c.client_id)));
  ASSERT_FALSE(st->add_token(token("a2", "access", "other", c.client_id)));
  ASSERT_FALSE(st->mark_token_rotated(sha256_hex("r1"), 2500));
  EXPECT_EQ(st->find_token(sha256_hex("r1")).value()->rotated_at_ms, 2500);
  EXPECT_EQ(st->revoke_family("fam", 3000).value(), 2);
  EXPECT_EQ(st->revoke_family("fam", 4000).value(), 0);  // already revoked: the first time stays
  EXPECT_EQ(st->find_token(sha256_hex("a1")).value()->revoked_at_ms, 3000);
  EXPECT_FALSE(st->find_token(sha256_hex("a2")).value()->revoked_at_ms);
  EXPECT_EQ(st->revoke_token(sha256_hex("a2"), 3000).value(), 1);

  // Expired rows go away with purge.
  EXPECT_EQ(st->purge_expired(5001).value(), 3);
  EXPECT_TRUE(st->find_code(code.code_hash).value());  // expires at 61 s
}

TEST_F(oauth_store_test, a_rolled_back_transaction_leaves_nothing) {
  std::string problem;
  auto c = register_client(*st, "Zapier", {"https://z/cb"}, false, true, problem).value();
  ASSERT_FALSE(st->begin());
  ASSERT_FALSE(st->add_token(token("a1", "access", "fam", c.client_id)));
  st->rollback();
  EXPECT_FALSE(st->find_token(sha256_hex("a1")).value());
  // A token of an unknown client is refused by the foreign key.
  EXPECT_TRUE(st->add_token(token("a1", "access", "fam", "nope")));
}

}  // namespace
}  // namespace kazoo_bridge::oauth
