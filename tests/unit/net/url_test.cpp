#include <gtest/gtest.h>

#include <kazoo_bridge/net/url.hpp>

namespace kazoo_bridge::net {
namespace {

struct good_case {
  const char* text;
  const char* scheme;
  const char* host;
  std::uint16_t port;
  const char* target;
  bool tls;
};

class url_good : public ::testing::TestWithParam<good_case> {};

TEST_P(url_good, parses) {
  const auto& c = GetParam();
  auto u = parse_url(c.text);
  ASSERT_TRUE(u) << c.text;
  EXPECT_EQ(u->scheme, c.scheme);
  EXPECT_EQ(u->host, c.host);
  EXPECT_EQ(u->port, c.port);
  EXPECT_EQ(u->target, c.target);
  EXPECT_EQ(u->tls(), c.tls);
}

INSTANTIATE_TEST_SUITE_P(
    table, url_good,
    ::testing::Values(
        good_case{"http://example.com", "http", "example.com", 80, "/", false},
        good_case{"https://example.com", "https", "example.com", 443, "/", true},
        good_case{"ws://kazoo.example.com:5555", "ws", "kazoo.example.com", 5555, "/", false},
        good_case{"wss://kazoo.example.com", "wss", "kazoo.example.com", 443, "/", true},
        good_case{"HTTP://Example.COM/Path", "http", "example.com", 80, "/Path", false},
        good_case{"http://h:8000/v2/api_auth", "http", "h", 8000, "/v2/api_auth", false},
        good_case{"http://h/a?b=c&d=e", "http", "h", 80, "/a?b=c&d=e", false},
        good_case{"http://h?x=1", "http", "h", 80, "/?x=1", false},
        good_case{"http://h/p#frag", "http", "h", 80, "/p", false},
        good_case{"http://h#frag", "http", "h", 80, "/", false},
        good_case{"http://h:/", "http", "h", 80, "/", false},
        good_case{"http://127.0.0.1:1/x", "http", "127.0.0.1", 1, "/x", false},
        good_case{"https://[::1]:8443/x", "https", "::1", 8443, "/x", true},
        good_case{"http://[::1]", "http", "::1", 80, "/", false},
        good_case{"http://[2001:DB8::1]:65535", "http", "2001:db8::1", 65535, "/", false}));

class url_bad : public ::testing::TestWithParam<const char*> {};

TEST_P(url_bad, rejected) {
  auto u = parse_url(GetParam());
  EXPECT_FALSE(u) << GetParam();
  if (!u) {
    EXPECT_EQ(u.error(), boost::system::errc::invalid_argument);
  }
}

INSTANTIATE_TEST_SUITE_P(table, url_bad,
                         ::testing::Values("", "example.com", "ftp://example.com",
                                           "file:///etc/passwd", "http://", "http:///path",
                                           "http://user:pass@host/", "http://user@host/",
                                           "http://host:0/", "http://host:65536/",
                                           "http://host:99999999999/", "http://host:-1/",
                                           "http://host:8o/", "http://[::1/", "http://[::1]x/",
                                           "http://[not-ipv6]/", "http://ho st/",
                                           "http://host/a b", "http://host/\r\nX: y",
                                           "http://host/\t", "mailto:a@b"));

TEST(url, authority_omits_default_port_and_brackets_ipv6) {
  EXPECT_EQ(parse_url("http://h/")->authority(), "h");
  EXPECT_EQ(parse_url("http://h:8080/")->authority(), "h:8080");
  EXPECT_EQ(parse_url("wss://h:443/")->authority(), "h");
  EXPECT_EQ(parse_url("https://[::1]:8443/")->authority(), "[::1]:8443");
  EXPECT_EQ(parse_url("https://[::1]/")->authority(), "[::1]");
  EXPECT_EQ(parse_url("http://h:81/a?b")->to_string(), "http://h:81/a?b");
}

TEST(url, host_is_ip) {
  EXPECT_TRUE(parse_url("http://127.0.0.1/")->host_is_ip());
  EXPECT_TRUE(parse_url("http://[::1]/")->host_is_ip());
  EXPECT_FALSE(parse_url("http://localhost/")->host_is_ip());
}

TEST(url_encode, keeps_only_unreserved) {
  EXPECT_EQ(url_encode("abcXYZ019-._~"), "abcXYZ019-._~");
  EXPECT_EQ(url_encode("a b&c=d/e?f"), "a%20b%26c%3Dd%2Fe%3Ff");
  EXPECT_EQ(url_encode("+1 555"), "%2B1%20555");
  EXPECT_EQ(url_encode("\xc3\xa9"), "%C3%A9");
  EXPECT_EQ(url_encode(""), "");
}

TEST(url_decode, round_trips_and_tolerates_bad_escapes) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  EXPECT_EQ(url_decode(url_encode(all)), all);
  EXPECT_EQ(url_decode("a+b%20c"), "a b c");
  EXPECT_EQ(url_decode("100%"), "100%");
  EXPECT_EQ(url_decode("%zz%4"), "%zz%4");
}

TEST(parse_query, table) {
  auto q = parse_query("?a=1&b=x%20y&c&d=&&e=f=g&a=2&k+1=v+1");
  EXPECT_EQ(q.at("a"), "1");  // first wins
  EXPECT_EQ(q.at("b"), "x y");
  EXPECT_EQ(q.at("c"), "");
  EXPECT_EQ(q.at("d"), "");
  EXPECT_EQ(q.at("e"), "f=g");
  EXPECT_EQ(q.at("k 1"), "v 1");
  EXPECT_EQ(q.size(), 6u);
  EXPECT_TRUE(parse_query("").empty());
  EXPECT_TRUE(parse_query("?").empty());
}

TEST(parse_query_list, keeps_order_and_repeats) {
  auto l = parse_query_list("scope=a&scope=b&x=1");
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(l[0], (std::pair<std::string, std::string>{"scope", "a"}));
  EXPECT_EQ(l[1], (std::pair<std::string, std::string>{"scope", "b"}));
  EXPECT_EQ(l[2], (std::pair<std::string, std::string>{"x", "1"}));
}

}  // namespace
}  // namespace kazoo_bridge::net
