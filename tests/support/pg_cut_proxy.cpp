#include "support/pg_cut_proxy.hpp"

#include <atomic>
#include <boost/asio.hpp>
#include <regex>
#include <stdexcept>
#include <thread>

namespace mh::test {
namespace asio = boost::asio;
using asio::ip::tcp;

struct PgCutProxy::Impl {
  asio::io_context io{1};
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  tcp::endpoint target;
  std::thread thread;
  std::atomic<bool> armed{false};
  std::atomic<int> cuts{0};
  std::atomic<int> copy_messages{0};
};

namespace {

constexpr std::uint32_t kSslRequest = 80877103;
constexpr std::uint32_t kGssEncRequest = 80877104;

std::uint32_t be32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (std::uint32_t{u[0]} << 24) | (std::uint32_t{u[1]} << 16) | (std::uint32_t{u[2]} << 8) | u[3];
}

void close_both(tcp::socket& a, tcp::socket& b) {
  boost::system::error_code ignored;
  a.close(ignored);
  b.close(ignored);
}

asio::awaitable<void> server_to_client(std::shared_ptr<tcp::socket> server, std::shared_ptr<tcp::socket> client) {
  std::array<char, 16384> buf;
  for (;;) {
    auto [ec, n] = co_await server->async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
    if (ec) break;
    auto [wec, wn] =
        co_await asio::async_write(*client, asio::buffer(buf.data(), n), asio::as_tuple(asio::use_awaitable));
    if (wec) break;
  }
  close_both(*server, *client);
}

// Forwards whole frontend messages: the untyped start-up ones (SSL and GSS
// requests, then the startup packet), then `type, int32 length, body`.
asio::awaitable<void> client_to_server(PgCutProxy::Impl* impl, std::shared_ptr<tcp::socket> client,
                                       std::shared_ptr<tcp::socket> server) {
  std::string pending;
  std::array<char, 16384> buf;
  bool startup = true;
  for (;;) {
    auto [ec, n] = co_await client->async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
    if (ec) break;
    pending.append(buf.data(), n);
    std::size_t ready = 0;  // bytes of complete messages at the front of `pending`
    bool cut = false;
    for (;;) {
      const std::size_t head = startup ? 4 : 5;
      if (pending.size() - ready < head) break;
      const char* m = pending.data() + ready;
      const std::size_t size = startup ? be32(m) : 1 + std::size_t{be32(m + 1)};
      if (pending.size() - ready < size) break;
      if (startup) {
        std::uint32_t code = size >= 8 ? be32(m + 4) : 0;
        startup = code == kSslRequest || code == kGssEncRequest;
      } else if (m[0] == 'd') {
        if (impl->armed.exchange(false)) {
          cut = true;
          break;
        }
        ++impl->copy_messages;
      }
      ready += size;
    }
    if (ready > 0) {
      auto [wec, wn] =
          co_await asio::async_write(*server, asio::buffer(pending.data(), ready), asio::as_tuple(asio::use_awaitable));
      if (wec) break;
      pending.erase(0, ready);
    }
    if (cut) {
      ++impl->cuts;
      break;
    }
  }
  close_both(*client, *server);
}

asio::awaitable<void> handle(PgCutProxy::Impl* impl, std::shared_ptr<tcp::socket> client) {
  auto server = std::make_shared<tcp::socket>(client->get_executor());
  auto [ec] = co_await server->async_connect(impl->target, asio::as_tuple(asio::use_awaitable));
  if (ec) co_return;
  asio::co_spawn(client->get_executor(), server_to_client(server, client), asio::detached);
  co_await client_to_server(impl, client, server);
}

asio::awaitable<void> accept_loop(PgCutProxy::Impl* impl) {
  for (;;) {
    auto [ec, s] = co_await impl->acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    asio::co_spawn(impl->io, handle(impl, std::make_shared<tcp::socket>(std::move(s))), asio::detached);
  }
}

std::string keyword(const std::string& dsn, const std::string& key) {
  std::smatch m;
  std::string value;
  // The last occurrence wins, as in libpq.
  for (auto it = dsn.cbegin(); std::regex_search(it, dsn.cend(), m, std::regex("(^|\\s)" + key + "=(\\S+)"));
       it = m[0].second) {
    value = m[2];
  }
  return value;
}

}  // namespace

PgCutProxy::PgCutProxy(const std::string& dsn) : impl_(std::make_unique<Impl>()) {
  std::string host = keyword(dsn, "host"), port = keyword(dsn, "port");
  if (host.empty() || port.empty()) throw std::invalid_argument("PgCutProxy needs host= and port= in " + dsn);
  impl_->target = tcp::endpoint(asio::ip::make_address(host), static_cast<std::uint16_t>(std::stoi(port)));
  asio::co_spawn(impl_->io, accept_loop(impl_.get()), asio::detached);
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

PgCutProxy::~PgCutProxy() {
  impl_->io.stop();
  impl_->thread.join();
}

std::uint16_t PgCutProxy::port() const { return impl_->acceptor.local_endpoint().port(); }

std::string PgCutProxy::through(const std::string& dsn) const {
  return dsn + " host=127.0.0.1 port=" + std::to_string(port()) + " sslmode=disable gssencmode=disable";
}

void PgCutProxy::cut_next_copy() { impl_->armed = true; }
int PgCutProxy::cuts() const { return impl_->cuts.load(); }
int PgCutProxy::copy_messages() const { return impl_->copy_messages.load(); }

}  // namespace mh::test
