// The TLS half of HttpServer: kept apart because ssl_stream instantiations are
// the most expensive code in the build.
#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#include <stdexcept>

#include "async/spawn.hpp"
#include "net/detail/http_session.hpp"

namespace mh::net::detail {
namespace ssl = asio::ssl;

std::shared_ptr<void> make_tls_context(const HttpServerOptions& o) {
  if (!o.tls_cert_file || !o.tls_key_file) throw std::runtime_error("TLS needs both a certificate and a key file");
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(*o.tls_cert_file, ec);
  if (ec) throw std::runtime_error("cannot load TLS certificate '" + *o.tls_cert_file + "': " + ec.message());
  ctx->use_private_key_file(*o.tls_key_file, ssl::context::pem, ec);
  if (ec) throw std::runtime_error("cannot load TLS key '" + *o.tls_key_file + "': " + ec.message());
  return ctx;
}

namespace {
asio::awaitable<void> tls_session(std::shared_ptr<HttpServer::Impl> impl, asio::ip::tcp::socket socket) {
  // The handshake holds a connection slot (max_connections) and has read_timeout to
  // finish; a client that connected but sends nothing counts as idle and can be evicted.
  SessionSlot slot(impl);
  auto& ctx = *static_cast<ssl::context*>(impl->tls_context.get());
  beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), ctx);
  auto& tcp = beast::get_lowest_layer(stream);
  slot->cancel = [&tcp] { tcp.cancel(); };
  tcp.expires_after(impl->options.read_timeout);
  auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, asio::as_tuple(asio::use_awaitable));
  if (ec) co_return;  // not TLS, wrong version, timed out or evicted: nothing to answer
  co_await serve_connection(impl, stream, true, slot);
}
}  // namespace

void spawn_tls_session(std::shared_ptr<HttpServer::Impl> impl, asio::ip::tcp::socket socket) {
  auto& io = impl->io;
  async::spawn(io, tls_session(std::move(impl), std::move(socket)), "https session");
}

}  // namespace mh::net::detail
