// Internal to lib/net: the per-connection coroutine shared by the plain and the
// TLS server translation units (each instantiates it for its stream type).
#pragma once

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <list>

#include "log/log.hpp"
#include "net/http_server.hpp"

namespace mh::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

struct SessionEntry {
  bool idle = true;
  std::function<void()> cancel;
};

struct HttpServer::Impl {
  asio::io_context& io;
  HttpServerOptions options;
  HttpHandler handler;
  HttpObserver observer;
  asio::ip::tcp::acceptor acceptor;
  std::shared_ptr<void> tls_context;  // asio::ssl::context, only in the TLS TU
  std::list<SessionEntry> sessions;
  bool stopping = false;
  std::uint16_t bound_port = 0;

  Impl(asio::io_context& i, HttpServerOptions o, HttpHandler h)
      : io(i), options(std::move(o)), handler(std::move(h)), acceptor(i) {}
};

namespace detail {

// TLS support lives in its own TU (ssl_stream instantiations are the slowest code to compile).
std::shared_ptr<void> make_tls_context(const HttpServerOptions& options);
void spawn_tls_session(std::shared_ptr<HttpServer::Impl> impl, asio::ip::tcp::socket socket);

// Takes the body (up to max_body_bytes) rather than copying it; the headers stay for keep_alive().
inline HttpRequest to_request(http::request<http::string_body>& req, const std::string& remote, bool tls) {
  HttpRequest r;
  r.method = std::string(req.method_string());
  r.target = std::string(req.target());
  std::size_t q = r.target.find('?');
  r.path = r.target.substr(0, q);
  if (q != std::string::npos) r.query = r.target.substr(q + 1);
  for (const auto& f : req) r.headers.push_back({std::string(f.name_string()), std::string(f.value())});
  r.body = std::move(req.body());
  r.remote_address = remote;
  r.tls = tls;
  return r;
}

inline std::string serialize_head(const HttpResponse& res, const std::string& server, bool keep_alive,
                                  std::size_t content_length) {
  std::string head = "HTTP/1.1 " + std::to_string(res.status) + " " + std::string(reason_phrase(res.status)) + "\r\n";
  for (const auto& h : res.headers) head += h.name + ": " + h.value + "\r\n";
  if (!res.header("Server")) head += "Server: " + server + "\r\n";
  head += "Content-Length: " + std::to_string(content_length) + "\r\n";
  head += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  head += "\r\n";
  return head;
}

inline HttpResponse error_response(int status, std::string_view detail) {
  auto r = problem_response(status, detail);
  r.close = true;
  return r;
}

// Serves requests on one connection until it closes, times out or the server stops.
// `impl` is a reference to the caller's shared_ptr, which outlives this call
// (no class temporaries in co_await expressions: see README, "Coroutines and GCC 12").
// A connection's place in impl->sessions, which max_connections counts, from
// accept (a TLS handshake included) to close.
class SessionSlot {
 public:
  explicit SessionSlot(std::shared_ptr<HttpServer::Impl> impl) : impl_(std::move(impl)) {
    impl_->sessions.push_back({});
    it_ = std::prev(impl_->sessions.end());
  }
  ~SessionSlot() { impl_->sessions.erase(it_); }
  SessionSlot(const SessionSlot&) = delete;
  SessionSlot& operator=(const SessionSlot&) = delete;
  SessionEntry* operator->() const { return &*it_; }

 private:
  std::shared_ptr<HttpServer::Impl> impl_;
  std::list<SessionEntry>::iterator it_;
};

template <class Stream>
asio::awaitable<void> serve_connection(const std::shared_ptr<HttpServer::Impl>& impl, Stream& stream, bool tls,
                                       const SessionSlot& entry) {
  using asio::as_tuple;
  using asio::use_awaitable;
  const auto& opt = impl->options;
  auto& tcp = beast::get_lowest_layer(stream);
  std::string remote;
  {
    boost::system::error_code ec;
    auto ep = tcp.socket().remote_endpoint(ec);
    if (!ec) remote = ep.address().to_string();
  }
  entry->cancel = [&tcp] { tcp.cancel(); };

  beast::flat_buffer buffer;
  for (;;) {
    if (impl->stopping) co_return;
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(opt.max_header_bytes));
    parser.body_limit(opt.max_body_bytes);

    // Waiting for a request: the idle timeout; once bytes arrive, the read timeout
    // bounds the whole request (a client sending one byte a second is cut off).
    entry->idle = true;
    boost::system::error_code ec;
    if (buffer.size() == 0) {
      tcp.expires_after(opt.idle_timeout);
      std::size_t n = 0;
      // A raw read: it returns with the first byte (the parser's read_some would keep
      // reading, under the idle timeout, until a whole request line arrived).
      std::tie(ec, n) = co_await stream.async_read_some(buffer.prepare(4096), as_tuple(use_awaitable));
      if (!ec) buffer.commit(n);
    }
    entry->idle = false;
    if (!ec && !parser.is_header_done()) {
      tcp.expires_after(opt.read_timeout);
      std::size_t n = 0;
      std::tie(ec, n) = co_await http::async_read_header(stream, buffer, parser, as_tuple(use_awaitable));
    }
    if (!ec && parser.is_header_done()) {
      auto expect = parser.get()[http::field::expect];
      if (!parser.is_done() && iequals(std::string_view(expect.data(), expect.size()), "100-continue")) {
        http::response<http::empty_body> cont{http::status::continue_, 11};
        tcp.expires_after(opt.write_timeout);
        std::size_t n = 0;
        std::tie(ec, n) = co_await http::async_write(stream, cont, as_tuple(use_awaitable));
      }
      if (!ec && !parser.is_done()) {
        tcp.expires_after(opt.read_timeout);
        std::size_t n = 0;
        std::tie(ec, n) = co_await http::async_read(stream, buffer, parser, as_tuple(use_awaitable));
      }
    }

    auto started = std::chrono::steady_clock::now();
    HttpResponse res;
    std::optional<HttpRequest> request;
    if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset) {
      co_return;  // closed, idle too long, or the server stops
    } else if (ec == http::error::header_limit) {
      res = error_response(431, "request line and headers exceed " + std::to_string(opt.max_header_bytes) + " bytes");
    } else if (ec == http::error::body_limit) {
      res = error_response(413, "request body exceeds " + std::to_string(opt.max_body_bytes) + " bytes");
    } else if (ec) {
      if (!parser.got_some() && buffer.size() == 0) co_return;  // the peer went away before sending anything
      res = error_response(400, "malformed HTTP request");
    } else {
      request = to_request(parser.get(), remote, tls);
      try {
        res = co_await impl->handler(*request);
      } catch (const std::exception& e) {
        log::error("request handler failed",
                   {{"method", request->method}, {"path", request->path}, {"error", e.what()}});
        res = error_response(500, "internal error");
      }
    }

    if (res.delay.count() > 0) {
      asio::steady_timer timer(impl->io);
      timer.expires_after(res.delay);
      co_await timer.async_wait(as_tuple(use_awaitable));
    }
    if (impl->observer) {
      // A request refused before it parsed (431, 413, 400) is observed too, with an empty method.
      HttpRequest unparsed;
      unparsed.remote_address = remote;
      impl->observer(
          {request ? *request : unparsed, res.action == ResponseAction::send ? res.status : 0,
           std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started)});
    }
    if (res.action == ResponseAction::reset) {
      boost::system::error_code ignored;
      tcp.socket().set_option(asio::socket_base::linger(true, 0), ignored);
      tcp.socket().close(ignored);
      co_return;
    }
    bool keep_alive = request && parser.get().keep_alive() && !res.close && !impl->stopping;
    if (res.action == ResponseAction::truncate) keep_alive = false;
    std::string head = serialize_head(res, opt.server_header, keep_alive, res.body.size());
    bool head_only = request && request->method == "HEAD";
    std::string_view body = head_only ? std::string_view() : std::string_view(res.body);
    if (res.action == ResponseAction::truncate) body = body.substr(0, std::min(res.truncate_at, body.size()));
    std::array<asio::const_buffer, 2> out{asio::buffer(head), asio::buffer(body.data(), body.size())};
    tcp.expires_after(opt.write_timeout);
    std::size_t written = 0;
    std::tie(ec, written) = co_await asio::async_write(stream, out, as_tuple(use_awaitable));
    if (ec || !keep_alive) {
      boost::system::error_code ignored;
      tcp.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
      co_return;
    }
  }
}

}  // namespace detail
}  // namespace mh::net
