// Asio, Asio.SSL and Beast are compiled once here (BOOST_*_SEPARATE_COMPILATION); Beast is the main
// cost of our build time (style guide B.10).
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
