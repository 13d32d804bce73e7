// hook_sink: the receiving end of the REST hook delivery benchmark (issue #4 item 6, bench/README.md).
//
// One thread, one io_context, one coroutine per connection, HTTP/1.1 keep-alive. The path decides the
// answer, so one process stands in for every subscriber of a run:
//   /ok/...    200 {"status":"success"}   (what Zapier's catch hooks answer)
//   /fail/...  500 {"error":"bench"}
//   /hang/...  the request is read and never answered; the socket stays open until the client closes it
//   /stats     counters as JSON (not a delivery: not counted, no sample)
//   anything else 404
// Each delivery is recorded as a CSV sample "receipt_us,msg_id_us,path,webhook_id": receipt_us is the
// system clock when the whole request had been read; msg_id_us is the digits of the first
// `"msg_id":"` in the body (kazoo-sim stamps msg_id with its send time in Unix µs and the daemon copies
// that Kazoo object into the payload's "raw"), 0 when absent. Samples are buffered in memory and written
// by a 200 ms timer and at exit, so no file I/O sits between reading a request and answering it.
//
// It shares the machine's 2 cores with the daemon under test: nothing is logged per request, the fixed
// answers are prebuilt byte strings, and there is no per-operation timer (the daemon, the client, owns
// the deadlines; a hung request must stay open anyway).
//
// Usage: hook_sink --port P [--samples FILE] [--stats-port Q]
// Prints {"port": P} on start ({"port": P, "stats_port": Q} with --stats-port) and one final stats line
// on SIGTERM/SIGINT.

#include <sys/resource.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>

#include "recorder.hpp"

namespace {

using hook_sink::answer;
using hook_sink::append_number;
using hook_sink::die;
using hook_sink::now_us;
using hook_sink::recorder;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
template <class T> using awaitable = asio::awaitable<T>;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

// Fixed answers, complete with their head. Content-Length is counted by hand: {"status":"success"} is
// 20 bytes, {"error":"bench"} 17, {"error":"not found"} 21.
constexpr std::string_view ok_keep =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n{\"status\":\"success\"}";
constexpr std::string_view ok_close =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 20\r\nConnection: close\r\n\r\n"
    "{\"status\":\"success\"}";
constexpr std::string_view fail_keep =
    "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: 17\r\n\r\n"
    "{\"error\":\"bench\"}";
constexpr std::string_view fail_close =
    "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: 17\r\n"
    "Connection: close\r\n\r\n{\"error\":\"bench\"}";
constexpr std::string_view missing_keep =
    "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 21\r\n\r\n"
    "{\"error\":\"not found\"}";
constexpr std::string_view missing_close =
    "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 21\r\n"
    "Connection: close\r\n\r\n{\"error\":\"not found\"}";

constexpr std::uint64_t body_limit = 1024 * 1024;

struct options {
  unsigned short port = 0;
  bool port_given = false;
  std::string samples;
  int stats_port = -1;  // -1: no separate stats listener
};

unsigned short parse_port(std::string_view text) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value > 65535) die("bad port " + std::string(text));
  return static_cast<unsigned short>(value);
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&]() -> std::string_view {
      if (i + 1 >= argc) die("missing value after " + std::string(a));
      return argv[++i];
    };
    if (a == "--port") {
      o.port = parse_port(value());
      o.port_given = true;
    } else if (a == "--samples") {
      o.samples = value();
    } else if (a == "--stats-port") {
      o.stats_port = parse_port(value());
    } else if (a == "--help") {
      std::cout << "hook_sink --port P [--samples FILE] [--stats-port Q]\n";
      std::exit(0);
    } else {
      die("unknown argument " + std::string(a));
    }
  }
  if (!o.port_given) die("--port is required (0 picks a free port)");
  return o;
}

// Keeps connections_open right on every way out of a session, including io_context teardown.
class open_connection {
 public:
  explicit open_connection(recorder* s) : sink_(s) {
    if (sink_ != nullptr) sink_->opened();
  }
  open_connection(const open_connection&) = delete;
  open_connection& operator=(const open_connection&) = delete;
  ~open_connection() {
    if (sink_ != nullptr) sink_->closed();
  }

 private:
  recorder* sink_;
};

void report(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    std::cerr << "hook_sink: task failed: " << x.what() << '\n';
  }
}

std::string_view fixed_answer(answer a, bool keep_alive) {
  switch (a) {
    case answer::ok: return keep_alive ? ok_keep : ok_close;
    case answer::fail: return keep_alive ? fail_keep : fail_close;
    default: return keep_alive ? missing_keep : missing_close;
  }
}

std::string stats_answer(const recorder& s, bool keep_alive) {
  const std::string body = s.stats_json();
  std::string out = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nCache-Control: no-store\r\nContent-Length: ";
  append_number(out, body.size());
  out += keep_alive ? "\r\n\r\n" : "\r\nConnection: close\r\n\r\n";
  out += body;
  return out;
}

awaitable<void> session(recorder* s, tcp::socket socket, bool stats_listener) {
  open_connection counted(stats_listener ? nullptr : s);
  boost::system::error_code ignored;
  // Our answers are one write each; without TCP_NODELAY a pipelined answer could wait for the
  // client's delayed ACK (the 40 ms stalls bench/README.md describes).
  socket.set_option(tcp::no_delay(true), ignored);
  beast::flat_buffer buffer;
  bool hung = false;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(body_limit);
    auto [ec, n] = co_await http::async_read(socket, buffer, parser, use_nothrow);
    if (ec) break;  // end_of_stream, reset, a body over the limit: the connection ends either way
    const std::int64_t receipt = now_us();
    const auto& req = parser.get();
    const bool keep_alive = req.keep_alive();
    std::string_view webhook_id;
    if (auto it = req.find("webhook-id"); it != req.end()) webhook_id = it->value();
    const answer a = s->on_request(req.target(), webhook_id, req.body(), receipt, n, stats_listener);
    if (a == answer::hang) {
      hung = true;
      break;  // the parser and its body are freed here
    }
    if (a == answer::stats) {
      const std::string out = stats_answer(*s, keep_alive);
      auto [wec, wn] = co_await asio::async_write(socket, asio::buffer(out), use_nothrow);
      if (wec) break;
    } else {
      auto [wec, wn] = co_await asio::async_write(socket, asio::buffer(fixed_answer(a, keep_alive)), use_nothrow);
      if (wec) break;
    }
    if (!keep_alive) break;
  }
  if (hung) {
    // Never answer; hold the socket until the client gives up. Whatever it sends meanwhile is
    // discarded into a fixed scratch array, so a hung request costs the socket and this frame only.
    buffer = beast::flat_buffer{};
    std::array<char, 512> scratch{};
    for (;;) {
      auto [ec, n] = co_await socket.async_read_some(asio::buffer(scratch), use_nothrow);
      if (ec) co_return;
    }
  }
  socket.shutdown(tcp::socket::shutdown_send, ignored);
}

awaitable<void> accept_loop(recorder* s, tcp::acceptor* acceptor, bool stats_listener) {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer backoff(ex);
  bool warned = false;
  for (;;) {
    auto [ec, socket] = co_await acceptor->async_accept(use_nothrow);
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // EMFILE/ENFILE: the connection stays in the backlog; retry shortly instead of spinning.
      if (!warned) std::cerr << "hook_sink: accept failed: " << ec.message() << " (retrying)\n";
      warned = true;
      backoff.expires_after(std::chrono::milliseconds(20));
      co_await backoff.async_wait(use_nothrow);
      continue;
    }
    asio::co_spawn(ex, session(s, std::move(socket), stats_listener), report);
  }
}

awaitable<void> flush_loop(recorder* s) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(std::chrono::milliseconds(200));
    auto [ec] = co_await timer.async_wait(use_nothrow);
    if (ec) co_return;
    s->flush();
  }
}

awaitable<void> wait_for_signal(recorder* s, asio::io_context* ioc) {
  asio::signal_set signals(co_await asio::this_coro::executor, SIGINT, SIGTERM);
  auto [ec, signo] = co_await signals.async_wait(use_nothrow);
  if (ec) co_return;  // only operation_aborted: nobody cancels this wait
  s->flush();
  std::cout << s->stats_json() << std::endl;
  ioc->stop();  // sessions (hung ones included) are torn down with the io_context
}

tcp::acceptor listen(asio::io_context& ioc, unsigned short port) {
  // 0.0.0.0: every hook has its own loopback host 127.1.X.Y (Linux routes all of 127/8 to lo).
  tcp::acceptor a(ioc);
  const tcp::endpoint ep(asio::ip::address_v4::any(), port);
  a.open(ep.protocol());
  a.set_option(tcp::acceptor::reuse_address(true));
  a.bind(ep);
  a.listen(asio::socket_base::max_listen_connections);
  return a;
}

void raise_fd_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) std::cerr << "hook_sink: could not raise RLIMIT_NOFILE\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  raise_fd_limit();
  recorder s(o.samples);  // before the io_context: session frames destroyed with it still count on it
  asio::io_context ioc{1};
  tcp::acceptor hooks(ioc), stats(ioc);
  try {
    hooks = listen(ioc, o.port);
    if (o.stats_port >= 0) stats = listen(ioc, static_cast<unsigned short>(o.stats_port));
  } catch (const std::exception& e) {
    die(std::string("listen: ") + e.what());
  }
  std::cout << "{\"port\": " << hooks.local_endpoint().port();
  if (stats.is_open()) std::cout << ", \"stats_port\": " << stats.local_endpoint().port();
  std::cout << '}' << std::endl;

  asio::co_spawn(ioc, accept_loop(&s, &hooks, false), report);
  if (stats.is_open()) asio::co_spawn(ioc, accept_loop(&s, &stats, true), report);
  asio::co_spawn(ioc, flush_loop(&s), report);
  asio::co_spawn(ioc, wait_for_signal(&s, &ioc), report);
  ioc.run();
  return 0;
}
