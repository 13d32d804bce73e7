// hook_ceiling: how many REST hook deliveries per second can one I/O thread make at best?
//
// It reads the deliveries a daemon run made (a read-only copy of its database: outbox rows whose
// destination is 'hook:<id>', their hook's target URL and secret, the event's id and payload), keeps
// the ones aimed at a healthy sink path (/ok/...), and then, for --seconds, posts them round robin over
// --connections keep-alive connections to --connect from ONE thread (one io_context, like the daemon's
// I/O thread). Every request carries what the daemon sends (docs/hooks.md, Standard Webhooks):
//   content-type: application/json, webhook-id: <event id>, webhook-timestamp: <unix s, now>,
//   webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body" keyed with the base64-decoded
//   part of the secret after "whsec_">,
// signed per request. The request head is prebuilt per row except the timestamp and signature, the
// response is parsed by Beast and its body discarded, so what is left is the HTTP/TCP and HMAC cost the
// daemon cannot go below: the figure its delivery rate is compared with (bench/README.md).
//
// Usage: hook_ceiling --db FILE --connect 127.0.0.1:P [--connections N=64] [--seconds S=10]
//                     [--limit ROWS=200000]
// Output: one JSON line {"requests","seconds","per_s","connections","errors","rows","mean_body_bytes",
// "cpu_s"}; exit status 0 if errors == 0, 1 otherwise, 2 on bad usage or an unusable database.

#include <sys/resource.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "deliveries.hpp"

namespace {

using hook_ceiling::die;
using hook_ceiling::loaded;
using hook_ceiling::mac_free;
using hook_ceiling::row;
using hook_ceiling::signer;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
template <class T> using awaitable = asio::awaitable<T>;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

struct options {
  std::string db, connect;
  unsigned connections = 64;
  double seconds = 10;
  long limit = 200000;
};

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value after " + std::string(a));
      return argv[++i];
    };
    try {
      if (a == "--db") o.db = value();
      else if (a == "--connect") o.connect = value();
      else if (a == "--connections") o.connections = static_cast<unsigned>(std::stoul(value()));
      else if (a == "--seconds") o.seconds = std::stod(value());
      else if (a == "--limit") o.limit = std::stol(value());
      else if (a == "--help") {
        std::cout << "hook_ceiling --db FILE --connect 127.0.0.1:P [--connections N=64] [--seconds S=10] "
                     "[--limit ROWS=200000]\n";
        std::exit(0);
      } else {
        die("unknown argument " + std::string(a));
      }
    } catch (const std::logic_error&) {  // std::stoul & co.: not a number
      die("bad value for " + std::string(a));
    }
  }
  if (o.db.empty() || o.connect.empty()) die("--db and --connect are required");
  if (o.connections == 0 || o.seconds <= 0 || o.limit <= 0) die("--connections, --seconds and --limit must be > 0");
  return o;
}

// ---- The timed loop -----------------------------------------------------------------------------

/// A response body type that accepts any body and keeps none of it (Beast's empty_body rejects one).
struct discard_body {
  struct value_type {};
  class reader {
   public:
    template <bool IsRequest, class Fields>
    reader(http::header<IsRequest, Fields>& /*unused*/, value_type& /*unused*/) {}
    void init(const boost::optional<std::uint64_t>& /*unused*/, beast::error_code& ec) { ec = {}; }
    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, beast::error_code& ec) {
      ec = {};
      return asio::buffer_size(buffers);
    }
    void finish(beast::error_code& ec) { ec = {}; }
  };
};

struct run_state {
  loaded data;  // moved in whole: a deque's move keeps its strings where they are
  std::unique_ptr<EVP_MAC, mac_free> mac;
  tcp::endpoint target;
  steady::time_point deadline;
  std::size_t next = 0;
  std::uint64_t requests = 0, errors = 0, body_bytes = 0;
  unsigned running = 0;
  asio::steady_timer* watchdog = nullptr;

  const row& next_row() {
    const row& r = data.rows[next];
    next = next + 1 == data.rows.size() ? 0 : next + 1;
    return r;
  }
};

void report(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    std::cerr << "hook_ceiling: task failed: " << x.what() << '\n';
  }
}

// One keep-alive connection posting rows until the deadline. Any transport error or non-200 answer
// counts as an error; a transport error also ends this connection (no reconnect storm against a
// sink that is gone).
awaitable<void> connection(run_state* s) {
  tcp::socket socket(co_await asio::this_coro::executor);
  signer sig(s->mac.get());
  beast::flat_buffer buffer;
  std::array<char, 160> tail{};
  bool connected = false;
  while (steady::now() < s->deadline) {
    if (!connected) {
      auto [cec] = co_await socket.async_connect(s->target, use_nothrow);
      if (cec) {
        std::cerr << "hook_ceiling: connect: " << cec.message() << '\n';
        ++s->errors;
        break;
      }
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);  // as the daemon's HTTP client does
      buffer.clear();
      connected = true;
    }
    const row& r = s->next_row();
    // "webhook-timestamp: <s>\r\nwebhook-signature: v1,<44 base64 chars>\r\n\r\n" fits in 160 bytes.
    std::array<char, 24> ts{};
    const auto ts_len = static_cast<std::size_t>(
        std::to_chars(ts.data(), ts.data() + ts.size(), static_cast<long long>(std::time(nullptr))).ptr - ts.data());
    const std::string_view ts_text(ts.data(), ts_len);
    std::size_t n = 0;
    auto put = [&tail, &n](std::string_view part) {
      part.copy(tail.data() + n, part.size());
      n += part.size();
    };
    put("webhook-timestamp: ");
    put(ts_text);
    put("\r\nwebhook-signature: v1,");
    std::array<char, 96> b64{};
    put(std::string_view(b64.data(), sig.sign(r.key, r.id, ts_text, r.body, b64.data())));
    put("\r\n\r\n");
    const std::array<asio::const_buffer, 3> request{asio::buffer(r.head), asio::buffer(tail.data(), n),
                                                    asio::buffer(r.body)};
    auto [wec, wn] = co_await asio::async_write(socket, request, use_nothrow);
    if (wec) {
      std::cerr << "hook_ceiling: write: " << wec.message() << '\n';
      ++s->errors;
      break;
    }
    http::response_parser<discard_body> parser;
    auto [rec, rn] = co_await http::async_read(socket, buffer, parser, use_nothrow);
    if (rec) {
      std::cerr << "hook_ceiling: read: " << rec.message() << '\n';
      ++s->errors;
      break;
    }
    if (parser.get().result_int() != 200) ++s->errors;
    ++s->requests;
    s->body_bytes += r.body.size();
    if (!parser.get().keep_alive()) {  // the sink closes: open a new connection for the next row
      boost::system::error_code ignored;
      socket.close(ignored);
      connected = false;
    }
  }
  boost::system::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_send, ignored);
  if (--s->running == 0) s->watchdog->cancel();
}

// A sink that stops answering must not hang the run: after the deadline plus a grace period, the
// connections still waiting are errors and the loop stops.
awaitable<void> watch(run_state* s, asio::io_context* ioc) {
  auto [ec] = co_await s->watchdog->async_wait(use_nothrow);
  if (ec || s->running == 0) co_return;
  std::cerr << "hook_ceiling: " << s->running << " connections still waiting after the grace period\n";
  s->errors += s->running;
  ioc->stop();
}

tcp::endpoint parse_endpoint(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) die("--connect wants HOST:PORT");
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(text.substr(0, colon), ec);
  unsigned port = 0;
  const std::string_view p = std::string_view(text).substr(colon + 1);
  auto [end, pec] = std::from_chars(p.data(), p.data() + p.size(), port);
  if (ec || pec != std::errc{} || end != p.data() + p.size() || port == 0 || port > 65535) {
    die("bad --connect " + text);
  }
  return {address, static_cast<unsigned short>(port)};
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  run_state s;
  s.target = parse_endpoint(o.connect);
  s.data = hook_ceiling::load(o.db, o.limit);
  s.mac.reset(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  if (!s.mac) die("OpenSSL has no HMAC");

  asio::io_context ioc{1};
  asio::steady_timer watchdog(ioc);
  s.watchdog = &watchdog;
  const double cpu_before = cpu_seconds();
  const auto start = steady::now();
  s.deadline = start + std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(o.seconds));
  watchdog.expires_at(s.deadline + std::chrono::seconds(10));
  s.running = o.connections;
  for (unsigned i = 0; i < o.connections; ++i) asio::co_spawn(ioc, connection(&s), report);
  asio::co_spawn(ioc, watch(&s, &ioc), report);
  ioc.run();
  const double seconds = std::chrono::duration<double>(steady::now() - start).count();
  const double cpu = cpu_seconds() - cpu_before;

  const double mean_body =
      s.requests == 0 ? 0.0 : static_cast<double>(s.body_bytes) / static_cast<double>(s.requests);
  std::printf(
      "{\"requests\":%llu,\"seconds\":%.3f,\"per_s\":%.1f,\"connections\":%u,\"errors\":%llu,\"rows\":%zu,"
      "\"mean_body_bytes\":%.1f,\"cpu_s\":%.3f}\n",
      static_cast<unsigned long long>(s.requests), seconds, static_cast<double>(s.requests) / seconds,
      o.connections, static_cast<unsigned long long>(s.errors), s.data.rows.size(), mean_body, cpu);
  return s.errors == 0 ? 0 : 1;
}
