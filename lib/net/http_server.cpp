#include "net/http_server.hpp"

#include <stdexcept>

#include "async/spawn.hpp"
#include "net/detail/http_session.hpp"

namespace mh::net {
namespace {

asio::awaitable<void> plain_session(std::shared_ptr<HttpServer::Impl> impl, asio::ip::tcp::socket socket) {
  detail::SessionSlot slot(impl);
  beast::tcp_stream stream(std::move(socket));
  co_await detail::serve_connection(impl, stream, false, slot);
}

// Over the cap: answer 503 right away instead of leaving the client hanging.
asio::awaitable<void> refuse(asio::ip::tcp::socket socket) {
  static const std::string kBody = problem_response(503, "too many connections").body;
  static const std::string kResponse =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\nConnection: close\r\n"
      "Content-Length: " +
      std::to_string(kBody.size()) + "\r\n\r\n" + kBody;
  beast::tcp_stream stream(std::move(socket));
  stream.expires_after(std::chrono::seconds(5));
  co_await asio::async_write(stream, asio::buffer(kResponse), asio::as_tuple(asio::use_awaitable));
  boost::system::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
}

// At the cap, the oldest connection waiting between requests makes room: holding
// connections open without using them must not lock other clients out.
bool evict_idle(HttpServer::Impl& impl) {
  for (auto& s : impl.sessions) {
    if (s.idle && s.cancel) {
      s.cancel();
      s.idle = false;  // on its way out; not chosen twice
      return true;
    }
  }
  return false;
}

asio::awaitable<void> accept_loop(std::shared_ptr<HttpServer::Impl> impl) {
  for (;;) {
    auto [ec, socket] = co_await impl->acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (impl->stopping || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // EMFILE and friends: back off briefly instead of spinning.
      log::warn("accept failed", {{"error", ec.message()}});
      asio::steady_timer t(impl->io, std::chrono::milliseconds(100));
      co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    boost::system::error_code ignored;
    socket.set_option(asio::ip::tcp::no_delay(true), ignored);
    if (impl->sessions.size() >= impl->options.max_connections && !evict_idle(*impl)) {
      if (impl->observer) {  // counted and logged like any other refused request
        HttpRequest unparsed;
        boost::system::error_code ignored_ec;
        auto ep = socket.remote_endpoint(ignored_ec);
        if (!ignored_ec) unparsed.remote_address = ep.address().to_string();
        impl->observer({unparsed, 503, std::chrono::microseconds(0)});
      }
      async::spawn(impl->io, refuse(std::move(socket)), "refuse connection");
    } else if (impl->tls_context) {
      detail::spawn_tls_session(impl, std::move(socket));
    } else {
      async::spawn(impl->io, plain_session(impl, std::move(socket)), "http session");
    }
  }
}

asio::ip::address resolve_host(const std::string& host) {
  if (host == "localhost") return asio::ip::make_address("127.0.0.1");
  if (host == "*") return asio::ip::make_address("0.0.0.0");
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) throw std::runtime_error("cannot listen on '" + host + "': not an IP address");
  return addr;
}

}  // namespace

HttpServer::HttpServer(asio::io_context& io, HttpServerOptions options, HttpHandler handler)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::set_observer(HttpObserver observer) { impl_->observer = std::move(observer); }

void HttpServer::start() {
  const auto& o = impl_->options;
  if (o.tls_cert_file || o.tls_key_file) impl_->tls_context = detail::make_tls_context(o);
  asio::ip::tcp::endpoint ep(resolve_host(o.host), o.port);
  std::string where = o.host + ":" + std::to_string(o.port);
  boost::system::error_code ec;
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error("cannot listen on " + where + ": " + ec.message());
  impl_->bound_port = impl_->acceptor.local_endpoint().port();
  impl_->stopping = false;
  async::spawn(impl_->io, accept_loop(impl_), "http accept loop");
}

std::uint16_t HttpServer::port() const { return impl_->bound_port; }
bool HttpServer::tls() const { return impl_->tls_context != nullptr; }

void HttpServer::stop() {
  if (impl_->stopping) return;
  impl_->stopping = true;
  boost::system::error_code ignored;
  impl_->acceptor.close(ignored);
  for (auto& s : impl_->sessions) {
    if (s.idle && s.cancel) s.cancel();
  }
}

std::size_t HttpServer::connections() const { return impl_->sessions.size(); }

}  // namespace mh::net
