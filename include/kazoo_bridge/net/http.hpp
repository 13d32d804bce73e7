#pragma once
/// Beast aliases and the two HTTP message types every module exchanges (style guide B.2: the
/// aliases live in one header, never at global scope).

#include <boost/beast/core.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/field.hpp>

#include <kazoo_bridge/common/asio.hpp>

namespace kazoo_bridge::net {

namespace beast = boost::beast;
namespace http = beast::http;

/// A complete HTTP request with its body in memory.
using request = http::request<http::string_body>;
/// A complete HTTP response with its body in memory.
using response = http::response<http::string_body>;

}  // namespace kazoo_bridge::net
