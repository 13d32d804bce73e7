#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <algorithm>
#include <limits>
#include <vector>

#include <kazoo_bridge/net/http_response.hpp>
#include <kazoo_bridge/net/http_server.hpp>

namespace kazoo_bridge::net {
namespace {

namespace ssl = asio::ssl;
using namespace std::chrono_literals;

// Clears the session's stream pointer when the stream goes out of scope, so stop() never closes
// a destroyed stream.
struct stream_registration {
  beast::tcp_stream*& slot;
  stream_registration(beast::tcp_stream*& s, beast::tcp_stream& stream) : slot(s) { slot = &stream; }
  ~stream_registration() { slot = nullptr; }
  stream_registration(const stream_registration&) = delete;
  stream_registration& operator=(const stream_registration&) = delete;
};

// Errors that mean "the peer went away or we closed": nothing to answer (style B.4 rule 4).
bool peer_gone(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == http::error::partial_message ||
         ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor ||
         ec == asio::error::broken_pipe || ec == asio::ssl::error::stream_truncated;
}

// The reply the server owes a client whose request could not be read, if any.
std::optional<response> reply_for_read_error(const error_code& ec) {
  if (ec == http::error::header_limit) {
    return error_response(http::status::request_header_fields_too_large, "header_too_large",
                          "request header fields too large");
  }
  if (ec == http::error::body_limit) {
    return error_response(http::status::payload_too_large, "payload_too_large",
                          "request body too large");
  }
  if (ec == beast::error::timeout) {
    return error_response(http::status::request_timeout, "request_timeout",
                          "request not received in time");
  }
  if (peer_gone(ec)) return std::nullopt;
  if (ec.category() == make_error_code(http::error::bad_target).category()) {
    return error_response(http::status::bad_request, "invalid_request", "malformed HTTP request");
  }
  return std::nullopt;  // socket errors: the peer cannot read an answer anyway
}

// Cancels (does not close) the socket's pending operations when the request deadline passes, so
// that a 408 can still be written: beast::tcp_stream's own timeout closes the socket.
class request_deadline {
 public:
  request_deadline(beast::tcp_stream& s, std::chrono::milliseconds d)
      : state_(std::make_shared<state>()), timer_(s.get_executor()) {
    state_->stream = &s;
    timer_.expires_after(d);
    timer_.async_wait([st = state_](error_code ec) {
      if (ec || !st->stream) return;
      st->fired = true;
      error_code ignored;
      st->stream->socket().cancel(ignored);
    });
  }
  ~request_deadline() {
    state_->stream = nullptr;  // a completion already queued must not touch the stream
    timer_.cancel();
  }
  request_deadline(const request_deadline&) = delete;
  request_deadline& operator=(const request_deadline&) = delete;
  bool fired() const { return state_->fired; }

 private:
  struct state {
    beast::tcp_stream* stream = nullptr;
    bool fired = false;
  };
  std::shared_ptr<state> state_;
  asio::steady_timer timer_;
};

std::uint32_t to_u32(std::size_t v) {
  return static_cast<std::uint32_t>(std::min<std::size_t>(v, std::numeric_limits<std::uint32_t>::max()));
}

}  // namespace

result<tcp::endpoint> parse_listen_address(const std::string& text) {
  auto invalid = make_error_code(boost::system::errc::invalid_argument);
  auto colon = text.rfind(':');
  if (colon == std::string::npos) return invalid;
  std::string host = text.substr(0, colon);
  std::string port_text = text.substr(colon + 1);
  if (port_text.empty() || port_text.size() > 5 ||
      !std::all_of(port_text.begin(), port_text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return invalid;
  }
  auto port = std::stoul(port_text);
  if (port > 65535) return invalid;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    if (host.find(':') == std::string::npos) return invalid;
  } else if (host.find(':') != std::string::npos) {
    return invalid;  // an IPv6 literal needs brackets
  }
  asio::ip::address address;
  if (host.empty()) {
    address = asio::ip::address_v4::any();
  } else if (host == "localhost") {
    address = asio::ip::address_v4::loopback();
  } else {
    error_code ec;
    address = asio::ip::make_address(host, ec);
    if (ec) return invalid;
  }
  return tcp::endpoint{address, static_cast<std::uint16_t>(port)};
}

http_server::http_server(asio::any_io_executor ex, server_options o, const router& r,
                         std::shared_ptr<spdlog::logger> log)
    : ex_(ex), opts_(std::move(o)), router_(r), log_(std::move(log)), acceptor_(ex), drained_(ex) {}

http_server::~http_server() { stop(); }

result<tcp::endpoint> http_server::listen() {
  auto ep = parse_listen_address(opts_.listen);
  if (!ep) return ep.error();
  error_code ec;
  acceptor_.open(ep->protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(*ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error_code ignored;
    acceptor_.close(ignored);
    return ec;
  }
  auto bound = acceptor_.local_endpoint(ec);
  if (ec) return ec;
  log_->info("http server listening address={} tls={}", bound.address().to_string() + ":" +
                                                            std::to_string(bound.port()),
             opts_.tls != nullptr);
  return bound;
}

awaitable<void> http_server::run() {
  if (on_listening) on_listening();
  while (!stopping_ && acceptor_.is_open()) {
    auto [ec, socket] = co_await acceptor_.async_accept(use_nothrow);
    if (stopping_ || ec == asio::error::operation_aborted) break;
    if (ec) {
      // EMFILE/ENFILE and the like: pause instead of spinning on a failing accept.
      log_->warn("http accept failed ec={}", ec.message());
      asio::steady_timer pause(ex_);
      pause.expires_after(100ms);
      co_await pause.async_wait(use_nothrow);
      continue;
    }
    if (sessions_.size() >= opts_.max_connections) {
      log_->warn("http connection refused: max_connections={} reached", opts_.max_connections);
      error_code ignored;
      socket.close(ignored);
      continue;
    }
    // A response is written as soon as it is ready; with Nagle's algorithm a small write after
    // another one would wait for the client's (possibly 40 ms delayed) ACK. nginx: tcp_nodelay on.
    error_code nd_ec;
    socket.set_option(tcp::no_delay(true), nd_ec);
    start_session(std::move(socket));
  }
  stop();
  while (!sessions_.empty()) {
    drained_.expires_at(asio::steady_timer::time_point::max());
    co_await drained_.async_wait(use_nothrow);
  }
  log_->info("http server stopped");
}

void http_server::stop() {
  if (stopping_) return;
  stopping_ = true;
  error_code ignored;
  acceptor_.close(ignored);
  // Copy first: emitting may complete operations whose sessions erase themselves.
  std::vector<std::shared_ptr<session_entry>> live;
  for (auto& [id, entry] : sessions_) live.push_back(entry);
  for (auto& entry : live) {
    // A finished session only waits to be released: emitting now would queue a cancellation
    // that could run after its signal is gone.
    if (entry->finished) continue;
    entry->cancel.emit(asio::cancellation_type::terminal);
    if (entry->stream) entry->stream->close();
  }
}

void http_server::start_session(tcp::socket socket) {
  auto id = next_id_++;
  auto entry = std::make_shared<session_entry>();
  sessions_.emplace(id, entry);
  spawn_logged(ex_, supervise_session(std::move(socket), id, entry, opts_.tls), "http_session",
               log_);
}

awaitable<void> http_server::supervise_session(tcp::socket socket, std::uint64_t id,
                                               std::shared_ptr<session_entry> entry,
                                               std::shared_ptr<asio::ssl::context> tls) {
  std::exception_ptr failure;
  try {
    // The inner coroutine gets the per-session cancellation slot so stop() reaches a handler
    // that is waiting on something (style B.5 rule 2).
    co_await asio::co_spawn(ex_, run_session(std::move(socket), entry, std::move(tls)),
                            asio::bind_cancellation_slot(entry->cancel.slot(), asio::use_awaitable));
  } catch (...) {
    failure = std::current_exception();
  }
  entry->finished = true;
  // The inner coroutine's frames may still be unwinding (its completion resumed us inline) and
  // its cancellation state lives inside entry->cancel: yield once before releasing it.
  co_await asio::post(ex_, asio::use_awaitable);
  sessions_.erase(id);
  drained_.cancel();
  if (failure) std::rethrow_exception(failure);  // logged once, by spawn_logged
}

awaitable<void> http_server::run_session(tcp::socket socket, std::shared_ptr<session_entry> entry,
                                         std::shared_ptr<asio::ssl::context> tls) {
  // After stop() we still want to finish cleanly (shutdown, destroy), not throw at each co_await.
  co_await asio::this_coro::throw_if_cancelled(false);
  error_code ec;
  auto remote = socket.remote_endpoint(ec).address();
  if (ec) co_return;  // the peer already left
  if (!tls) {
    beast::tcp_stream stream(std::move(socket));
    stream_registration reg(entry->stream, stream);
    co_await serve(stream, remote);
    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    co_return;
  }
  beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), *tls);
  stream_registration reg(entry->stream, stream.next_layer());
  stream.next_layer().expires_after(opts_.read_timeout);
  auto [hec] = co_await stream.async_handshake(ssl::stream_base::server, use_nothrow);
  if (hec) {
    log_->debug("tls handshake failed remote={} ec={}", remote.to_string(), hec.message());
    co_return;
  }
  co_await serve(stream, remote);
  if (stopping_) co_return;
  // close_notify gets its own short deadline; a peer that vanished must not hold us.
  stream.next_layer().expires_after(std::min<std::chrono::milliseconds>(opts_.read_timeout, 2s));
  auto [sec] = co_await stream.async_shutdown(use_nothrow);
  (void)sec;  // stream_truncated etc. are routine here (Beast issue 38)
}

// `stream` by reference: always awaited directly by run_session, which owns it.
template <class Stream>
awaitable<void> http_server::serve(Stream& stream, asio::ip::address remote) {
  auto& tcp_layer = beast::get_lowest_layer(stream);
  beast::flat_buffer buffer;
  bool first = true;
  while (!stopping_) {
    if (buffer.size() == 0) {
      // Waiting for the first byte of the next request. Silence here is an idle keep-alive
      // connection (or a connection that never spoke): close it without an answer.
      tcp_layer.expires_after(first ? opts_.read_timeout : opts_.idle_timeout);
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), use_nothrow);
      if (ec) co_return;
      buffer.commit(n);
    }
    first = false;

    // One deadline for the whole request from its first byte: a slow-loris client gets 408.
    tcp_layer.expires_never();
    http::request_parser<http::string_body> parser;
    parser.header_limit(to_u32(opts_.max_header_bytes));
    parser.body_limit(opts_.max_body_bytes);
    error_code ec;
    {
      request_deadline deadline(tcp_layer, opts_.read_timeout);
      auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser, use_nothrow);
      ec = hec;
      if (!ec && !parser.is_done()) {
        // RFC 9110 §10.1.1: a client that sent "Expect: 100-continue" waits for this before
        // sending the body (curl does for bodies > 1 KiB).
        if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
          http::response<http::empty_body> cont{http::status::continue_, parser.get().version()};
          auto [cec, cn] = co_await http::async_write(stream, cont, use_nothrow);
          if (cec) co_return;
        }
        auto [bec, bn] = co_await http::async_read(stream, buffer, parser, use_nothrow);
        ec = bec;
      }
      if (ec && deadline.fired()) ec = beast::error::timeout;
    }
    if (ec) {
      if (stopping_) co_return;
      auto reply = reply_for_read_error(ec);
      log_->debug("http read failed remote={} ec={}", remote.to_string(), ec.message());
      if (reply) co_await reply_and_close(stream, std::move(*reply));
      co_return;
    }

    request_context ctx{parser.release(), remote, {}};
    const unsigned version = ctx.req.version();
    const bool client_keep_alive = ctx.req.keep_alive();
    // RFC 9112 §3.2: an HTTP/1.1 request without Host MUST be answered with 400.
    if (version >= 11 && ctx.req.find(http::field::host) == ctx.req.end()) {
      co_await reply_and_close(
          stream, error_response(http::status::bad_request, "invalid_request", "missing Host header"));
      co_return;
    }

    response res;
    bool failed = false;
    try {
      res = co_await router_.dispatch(std::move(ctx));
    } catch (const std::exception& x) {
      if (stopping_) co_return;  // cancelled by stop(): nobody is left to answer
      log_->error("http handler failed remote={} error={}", remote.to_string(), x.what());
      failed = true;
    }
    if (failed) {
      co_await reply_and_close(
          stream, error_response(http::status::internal_server_error, "server_error",
                                 "internal error", version));
      co_return;
    }
    if (stopping_) co_return;

    const bool keep_alive = client_keep_alive && res.keep_alive();
    res.version(version);
    res.keep_alive(keep_alive);
    res.prepare_payload();
    tcp_layer.expires_after(opts_.read_timeout);
    auto [wec, wn] = co_await http::async_write(stream, res, use_nothrow);
    if (wec || !keep_alive) co_return;
  }
}

// `stream` by reference: always awaited directly by serve().
template <class Stream>
awaitable<void> http_server::reply_and_close(Stream& stream, response res) {
  auto& tcp_layer = beast::get_lowest_layer(stream);
  res.keep_alive(false);
  res.prepare_payload();
  tcp_layer.expires_after(std::min<std::chrono::milliseconds>(opts_.read_timeout, 2s));
  auto [wec, wn] = co_await http::async_write(stream, res, use_nothrow);
  if (wec) co_return;
  // Lingering close: if we close while the client is still sending (e.g. the body of a 413), the
  // kernel answers with RST and the client may never read our reply. Half-close and drain first.
  error_code ignored;
  tcp_layer.socket().shutdown(tcp::socket::shutdown_send, ignored);
  std::array<char, 4096> sink{};
  for (;;) {
    auto [rec, rn] = co_await tcp_layer.async_read_some(asio::buffer(sink), use_nothrow);
    if (rec) break;
  }
}

}  // namespace kazoo_bridge::net
