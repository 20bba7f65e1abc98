// An HTTP/1.1 server (plain or TLS) for the control plane and the simulator:
// keep-alive, per-phase timeouts, size limits, a connection cap, graceful stop.
// Beast stays inside lib/net; handlers see only HttpRequest/HttpResponse.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "net/http_message.hpp"

namespace boost::asio {
class io_context;
}

namespace mh::net {

struct HttpServerOptions {
  std::string host = "127.0.0.1";            // IP literal, "localhost", or "0.0.0.0" / "::" for all
  std::uint16_t port = 0;                    // 0: any free port (see HttpServer::port())
  std::size_t max_header_bytes = 16 * 1024;  // request line + headers
  std::size_t max_body_bytes = 1024 * 1024;
  std::chrono::milliseconds idle_timeout{60'000};   // keep-alive wait for the next request
  std::chrono::milliseconds read_timeout{10'000};   // one request, once its first byte arrived
  std::chrono::milliseconds write_timeout{30'000};  // one response
  std::size_t max_connections = 256;                // beyond: the oldest idle one is closed, else 503
  std::optional<std::string> tls_cert_file;         // PEM chain; with tls_key_file enables TLS
  std::optional<std::string> tls_key_file;
  std::string server_header = "mhloader";
};

// Handlers run on the server's io_context thread and may co_await.
using HttpHandler = std::function<boost::asio::awaitable<HttpResponse>(const HttpRequest&)>;

// Called once per finished request (for access logs and metrics); for a request
// refused before it parsed (431, 413, 400) `request` has an empty method and path.
struct HttpExchange {
  const HttpRequest& request;
  int status;
  std::chrono::microseconds duration;
};
using HttpObserver = std::function<void(const HttpExchange&)>;

class HttpServer {
 public:
  // The io_context must be run by a single thread.
  HttpServer(boost::asio::io_context& io, HttpServerOptions options, HttpHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  void set_observer(HttpObserver observer);

  // Binds and starts accepting; throws std::runtime_error naming the address on failure.
  void start();
  std::uint16_t port() const;
  bool tls() const;

  // Stops accepting and closes idle connections; requests in progress finish
  // and their connections close after the response.
  void stop();
  std::size_t connections() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace mh::net
