#pragma once
// The HTML of the authorization endpoint: the login (and consent) page and our error page. Pure string
// building: every interpolated value goes through html_escape().

#include <string>
#include <string_view>

#include <kazoo_bridge/api/oauth_routes.hpp>
#include <kazoo_bridge/oauth/service.hpp>

namespace kazoo_bridge::api::detail {

struct html_page {
  std::string html;
  std::string csp;  ///< the Content-Security-Policy for exactly this page
};

/// &, <, >, ", ' escaped (HTML text and double-quoted attribute values).
std::string html_escape(std::string_view s);

/// scheme://authority of an absolute http(s) URL, or "" when it is not one.
std::string url_origin(std::string_view url);

html_page render_login(const oauth_branding& b, const oauth::show_form& f);
html_page render_error(const oauth_branding& b, const oauth::page_error& e);

}  // namespace kazoo_bridge::api::detail
