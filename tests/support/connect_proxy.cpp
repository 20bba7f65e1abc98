#include "support/connect_proxy.hpp"

#include <strings.h>

#include <boost/asio.hpp>
#include <mutex>
#include <sstream>
#include <thread>

namespace mh::test {
namespace asio = boost::asio;
using asio::ip::tcp;

struct ConnectProxy::Impl {
  asio::io_context io{1};
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  std::thread thread;
  std::atomic<int> tunnels{0};
  std::atomic<int> open_tunnels{0};  // until the client closes its side
  std::mutex mu;
  std::string last_target;
  std::string last_proxy_authorization;
};

namespace {

asio::awaitable<void> pump(const std::shared_ptr<tcp::socket>& from, const std::shared_ptr<tcp::socket>& to) {
  std::array<char, 16384> buf;
  for (;;) {
    auto [ec, n] = co_await from->async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
    if (ec) break;
    auto [wec, wn] = co_await asio::async_write(*to, asio::buffer(buf.data(), n), asio::as_tuple(asio::use_awaitable));
    if (wec) break;
  }
  boost::system::error_code ignored;
  to->shutdown(tcp::socket::shutdown_send, ignored);
}

// The detached direction owns its sockets through its own parameters.
asio::awaitable<void> pump_owned(ConnectProxy::Impl* impl, std::shared_ptr<tcp::socket> from,
                                 std::shared_ptr<tcp::socket> to) {
  co_await pump(from, to);
  --impl->open_tunnels;  // the client closed (or reset) its side
}

asio::awaitable<void> handle(ConnectProxy::Impl* impl, std::shared_ptr<tcp::socket> client) {
  asio::streambuf head;
  auto [ec, n] = co_await asio::async_read_until(*client, head, "\r\n\r\n", asio::as_tuple(asio::use_awaitable));
  if (ec) co_return;
  std::string text(asio::buffers_begin(head.data()), asio::buffers_begin(head.data()) + static_cast<std::ptrdiff_t>(n));
  head.consume(n);  // what stays in `head` came after the CONNECT head
  std::istringstream in(text);
  std::string method, target, version;
  in >> method >> target >> version;
  std::string authorization;
  for (std::string line; std::getline(in, line);) {
    if (line.size() > 20 && strncasecmp(line.c_str(), "Proxy-Authorization:", 20) == 0) {
      authorization = line.substr(20);
      authorization.erase(0, authorization.find_first_not_of(' '));
      if (!authorization.empty() && authorization.back() == '\r') authorization.pop_back();
    }
  }
  if (method != "CONNECT") {
    static const std::string kRefused = "HTTP/1.1 405 Method Not Allowed\r\n\r\n";
    co_await asio::async_write(*client, asio::buffer(kRefused), asio::as_tuple(asio::use_awaitable));
    co_return;
  }
  auto colon = target.rfind(':');
  auto upstream = std::make_shared<tcp::socket>(client->get_executor());
  tcp::resolver resolver(client->get_executor());
  const std::string host = target.substr(0, colon);
  const std::string port = target.substr(colon + 1);
  auto [rec, eps] = co_await resolver.async_resolve(host, port, asio::as_tuple(asio::use_awaitable));
  boost::system::error_code cec = rec;
  if (!cec)
    std::tie(cec, std::ignore) = co_await asio::async_connect(*upstream, eps, asio::as_tuple(asio::use_awaitable));
  if (cec) {
    static const std::string kBadGateway = "HTTP/1.1 502 Bad Gateway\r\n\r\n";
    co_await asio::async_write(*client, asio::buffer(kBadGateway), asio::as_tuple(asio::use_awaitable));
    co_return;
  }
  {
    std::lock_guard lock(impl->mu);
    impl->last_target = target;
    impl->last_proxy_authorization = authorization;
  }
  ++impl->tunnels;
  ++impl->open_tunnels;
  static const std::string kEstablished = "HTTP/1.1 200 Connection established\r\n\r\n";
  co_await asio::async_write(*client, asio::buffer(kEstablished), asio::as_tuple(asio::use_awaitable));
  // Bytes the client sent after the CONNECT head (none in practice) go first.
  if (head.size() > 0) co_await asio::async_write(*upstream, head.data(), asio::as_tuple(asio::use_awaitable));
  auto ex = client->get_executor();
  asio::co_spawn(ex, pump_owned(impl, client, upstream), asio::detached);
  co_await pump(upstream, client);
}

asio::awaitable<void> accept_loop(ConnectProxy::Impl* impl) {
  for (;;) {
    auto [ec, s] = co_await impl->acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    asio::co_spawn(impl->io, handle(impl, std::make_shared<tcp::socket>(std::move(s))), asio::detached);
  }
}

}  // namespace

ConnectProxy::ConnectProxy() : impl_(std::make_unique<Impl>()) {
  asio::co_spawn(impl_->io, accept_loop(impl_.get()), asio::detached);
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

ConnectProxy::~ConnectProxy() {
  impl_->io.stop();
  impl_->thread.join();
}

std::uint16_t ConnectProxy::port() const { return impl_->acceptor.local_endpoint().port(); }
int ConnectProxy::tunnels() const { return impl_->tunnels.load(); }
int ConnectProxy::open_tunnels() const { return impl_->open_tunnels.load(); }
std::string ConnectProxy::last_target() const {
  std::lock_guard lock(impl_->mu);
  return impl_->last_target;
}

std::string ConnectProxy::last_proxy_authorization() const {
  std::lock_guard lock(impl_->mu);
  return impl_->last_proxy_authorization;
}

}  // namespace mh::test
