#include <gtest/gtest.h>

#include <kazoo_bridge/net/address_policy.hpp>
#include <kazoo_bridge/net/target_check.hpp>

namespace kazoo_bridge::net {
namespace {

namespace ip = boost::asio::ip;

TEST(address_policy, classifies_every_range) {
  struct row {
    const char* address;
    address_class expected;
  };
  for (auto [text, expected] : {
           row{"8.8.8.8", address_class::global},
           row{"93.184.216.34", address_class::global},
           row{"127.0.0.1", address_class::loopback},
           row{"127.255.1.2", address_class::loopback},
           row{"10.1.2.3", address_class::private_net},
           row{"172.16.0.1", address_class::private_net},
           row{"172.31.255.255", address_class::private_net},
           row{"172.32.0.1", address_class::global},
           row{"192.168.1.1", address_class::private_net},
           row{"169.254.1.1", address_class::link_local},
           row{"169.254.169.254", address_class::metadata},
           row{"100.64.0.1", address_class::cgnat},
           row{"100.127.255.255", address_class::cgnat},
           row{"100.128.0.1", address_class::global},
           row{"224.0.0.1", address_class::multicast},
           row{"0.0.0.0", address_class::unspecified},
           row{"0.1.2.3", address_class::unspecified},
           row{"255.255.255.255", address_class::reserved},
           row{"240.0.0.1", address_class::reserved},
           row{"::1", address_class::loopback},
           row{"::", address_class::unspecified},
           row{"fc00::1", address_class::private_net},
           row{"fd12:3456::1", address_class::private_net},
           row{"fe80::1", address_class::link_local},
           row{"ff02::1", address_class::multicast},
           row{"fd00:ec2::254", address_class::metadata},
           row{"2606:4700::1111", address_class::global},
           row{"::ffff:127.0.0.1", address_class::loopback},
           row{"::ffff:10.0.0.1", address_class::private_net},
           row{"::ffff:169.254.169.254", address_class::metadata},
           row{"::ffff:8.8.8.8", address_class::global},
           row{"64:ff9b::7f00:1", address_class::loopback},
       }) {
    EXPECT_EQ(classify_address(ip::make_address(text)), expected) << text;
  }
}

TEST(address_policy, allow_private_opens_private_ranges_but_never_metadata_or_multicast) {
  struct row {
    const char* address;
    bool strict, relaxed;
  };
  for (auto [text, strict, relaxed] : {
           row{"8.8.8.8", true, true}, row{"127.0.0.1", false, true}, row{"10.0.0.1", false, true},
           row{"100.64.0.1", false, true}, row{"fe80::1", false, true}, row{"::ffff:127.0.0.1", false, true},
           row{"169.254.169.254", false, false}, row{"fd00:ec2::254", false, false},
           row{"224.0.0.1", false, false}, row{"0.0.0.0", false, false}, row{"::", false, false},
       }) {
    EXPECT_EQ(target_address_allowed(ip::make_address(text), false), strict) << text;
    EXPECT_EQ(target_address_allowed(ip::make_address(text), true), relaxed) << text;
  }
}

TEST(target_check, accepts_public_http_and_https_urls) {
  for (const char* url : {"https://hooks.zapier.com/hooks/standard/1/abc/", "http://example.com",
                          "https://93.184.216.34:8443/x?y=1", "HTTPS://Example.COM/path",
                          "https://[2606:4700::1111]/hook"}) {
    std::string reason;
    EXPECT_TRUE(check_target_url(url, false, reason).has_value()) << url << ": " << reason;
  }
}

TEST(target_check, refuses_bad_urls_with_a_clear_reason) {
  struct row {
    const char* url;
    const char* reason_part;
    bool forbidden;
  };
  for (auto [url, part, forbidden] : {
           row{"ftp://example.com/", "http or https", false},
           row{"ws://example.com/", "http or https", false},
           row{"example.com/hook", "absolute", false},
           row{"https://user:pw@example.com/", "credentials", false},
           row{"https://@example.com/", "credentials", false},
           row{"https:///path", "not a valid URL", false},
           row{"https://exa mple.com/", "not a valid URL", false},
           row{"https://example.com:99999/", "not a valid URL", false},
           row{"http://127.0.0.1:8080/", "private address (loopback)", true},
           row{"http://localhost/", "localhost", true},
           row{"http://api.localhost/", "localhost", true},
           row{"http://10.0.0.5/", "private address (private)", true},
           row{"http://[::1]/", "loopback", true},
           row{"http://[::ffff:127.0.0.1]/", "loopback", true},
           row{"http://169.254.169.254/latest/meta-data/", "cloud metadata", true},
           row{"http://[fd00:ec2::254]/", "cloud metadata", true},
       }) {
    std::string reason;
    auto r = check_target_url(url, false, reason);
    ASSERT_FALSE(r.has_value()) << url;
    EXPECT_NE(reason.find(part), std::string::npos) << url << ": " << reason;
    EXPECT_EQ(r.error() == make_error_code(errc::forbidden), forbidden) << url;
  }
}

TEST(target_check, allow_private_accepts_loopback_but_not_bad_urls) {
  EXPECT_TRUE(check_target_url("http://127.0.0.1:8080/", true).has_value());
  EXPECT_TRUE(check_target_url("http://localhost/", true).has_value());
  EXPECT_FALSE(check_target_url("ftp://127.0.0.1/", true).has_value());
  EXPECT_FALSE(check_target_url("http://u:p@127.0.0.1/", true).has_value());
}

}  // namespace
}  // namespace kazoo_bridge::net
