// The TLS half of HttpClient (ssl_stream instantiations are the slowest code to compile).
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>

#include "net/detail/http_connection.hpp"
#include "util/duration.hpp"

namespace mh::net::detail {
namespace ssl = asio::ssl;

std::shared_ptr<void> make_client_tls_context(const HttpClientOptions& o) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  ctx->set_verify_mode(ssl::verify_peer);
  boost::system::error_code ec;
  if (o.system_trust) ctx->set_default_verify_paths(ec);  // a missing system store leaves only ca_file
  if (o.ca_file) {
    ctx->load_verify_file(*o.ca_file, ec);
    if (ec) fail(TransportError::Kind::tls, false, "cannot load the CA file '" + *o.ca_file + "': " + ec.message());
  }
  return ctx;
}

asio::awaitable<std::unique_ptr<ClientConnection>> make_tls_connection(HttpClient::Impl& impl, beast::tcp_stream& tcp,
                                                                       const Url& url) {
  using Stream = beast::ssl_stream<beast::tcp_stream>;
  auto& ctx = *static_cast<ssl::context*>(impl.tls_context.get());
  Stream stream(std::move(tcp), ctx);
  if (!url.host_is_ip()) {  // SNI: names only (the macro SSL_set_tlsext_host_name uses an old-style cast)
    SSL_ctrl(stream.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(url.host.c_str()));
  }
  stream.set_verify_callback(ssl::host_name_verification(url.host));
  beast::get_lowest_layer(stream).expires_after(impl.options.connect_timeout);
  auto [ec] = co_await stream.async_handshake(ssl::stream_base::client, asio::as_tuple(asio::use_awaitable));
  if (ec == beast::error::timeout) {
    fail(TransportError::Kind::timeout, false,
         "the TLS handshake with " + url.authority() + " timed out after " +
             util::format_duration(impl.options.connect_timeout));
  }
  if (ec) {
    std::string why = ec.message();
    long verify = SSL_get_verify_result(stream.native_handle());
    if (verify != X509_V_OK) why += ": " + std::string(X509_verify_cert_error_string(verify));
    fail(TransportError::Kind::tls, false,
         "TLS handshake with " + url.authority() + " failed (" + why +
             "); check magic_hour.ca_file and the server's certificate");
  }
  beast::get_lowest_layer(stream).expires_never();
  co_return std::make_unique<StreamConnection<Stream>>(impl, std::move(stream));
}

}  // namespace mh::net::detail
