#pragma once
// Private to the config module: syntax checks for "host:port" and URLs. Each returns nullopt when
// the text is acceptable, else a message that does not repeat the text (a URL may carry
// credentials).

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace kazoo_bridge::config::detail {

/// "127.0.0.1:8080", "[::1]:0", "localhost:80", "0.0.0.0:8080". Port 0..65535 (0 = any free port).
std::optional<std::string> check_listen(std::string_view text);

/// scheme://host[:port][/path] with scheme one of `schemes` (compared case-insensitively), no
/// user:password@, no query or fragment, port 1..65535.
std::optional<std::string> check_url(std::string_view text,
                                     std::initializer_list<std::string_view> schemes);

}  // namespace kazoo_bridge::config::detail
