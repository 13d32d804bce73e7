#pragma once
/// The subscribe-time check of a webhook target URL (POST /api/v1/hooks). The same address rule
/// runs again at connect time, after DNS resolution (hook_client), because a name can resolve to
/// anything later (DNS rebinding).

#include <string>
#include <string_view>

#include <kazoo_bridge/common/error.hpp>

namespace kazoo_bridge::net {

/// Accepts an absolute http:// or https:// URL with a host, no userinfo, no whitespace, whose
/// host is not a forbidden literal address (net/address_policy.hpp) nor "localhost" (unless
/// allow_private). A DNS name is not resolved here.
/// Errors: boost::system::errc::invalid_argument (malformed URL, other scheme, userinfo) or
/// errc::forbidden (a private or otherwise forbidden target).
result<void> check_target_url(std::string_view url, bool allow_private);

/// The same, with a one-line reason for the API's error_description ("target_url must use http or
/// https", "target_url points to a private address (loopback)") when it fails.
result<void> check_target_url(std::string_view url, bool allow_private, std::string& reason);

}  // namespace kazoo_bridge::net
