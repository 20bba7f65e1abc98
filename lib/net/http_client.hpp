// The outbound HTTP/1.1 client: keep-alive pool per origin, TLS with system
// trust plus an optional CA file, SNI and hostname checks, CONNECT proxies
// (HTTPS_PROXY / HTTP_PROXY / NO_PROXY), timeouts, a response size cap, and
// streamed file uploads and downloads (file I/O on the blocking pool).
// Failures below HTTP throw TransportError; HTTP statuses are returned as-is.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "net/http_message.hpp"

namespace mh::async {
class Cancellation;
}

namespace boost::asio {
class io_context;
class thread_pool;
}  // namespace boost::asio

namespace mh::net {

struct ProxySettings {
  std::optional<std::string> http_proxy;   // for http:// targets
  std::optional<std::string> https_proxy;  // for https:// targets
  std::vector<std::string> no_proxy;       // hosts, .suffixes, or *

  static ProxySettings from_environment();  // HTTPS_PROXY, HTTP_PROXY, NO_PROXY (and lower case)
  std::optional<std::string> proxy_for(const std::string& scheme, const std::string& host) const;
};

struct HttpClientOptions {
  std::chrono::milliseconds connect_timeout{10'000};  // TCP connect, proxy CONNECT and TLS handshake
  std::chrono::milliseconds timeout{
      60'000};  // sending the request and receiving the response (per file chunk when streaming)
  std::size_t max_response_bytes = 16 * 1024 * 1024;  // a page of [0,0,…] parses to ~16× its size
  std::optional<std::string> ca_file;                 // trusted in addition to the system store
  bool system_trust = true;
  std::string user_agent = "mhloader";
  std::size_t max_idle_per_origin = 16;
  std::chrono::milliseconds idle_keepalive{30'000};  // pooled connections idle this long are closed
  ProxySettings proxy;
};

struct ClientRequest {
  std::string method = "GET";
  std::string url;  // absolute
  std::vector<Header> headers;
  std::string body;
  std::optional<std::string> upload_file;    // send this file as the body (streamed)
  std::optional<std::string> download_file;  // write the body to this file (streamed), with its SHA-256
  // With download_file: the directory it is relative to (an open fd; AT_FDCWD = the working
  // directory). The file is written as <name>.part (created O_EXCL | O_NOFOLLOW), renamed
  // into place, and the directory fsynced; a failed download removes its .part.
  int download_dir_fd = -100;                     // AT_FDCWD
  std::uint64_t max_download_bytes = 0;           // 0: no cap; past it the download fails (too_large)
  std::chrono::milliseconds download_timeout{0};  // 0: none; else a deadline for the whole download
  // When requested, the exchange in progress stops at once (TransportError::Kind::cancelled).
  async::Cancellation* cancellation = nullptr;
  // false for requests that must not be sent twice (creates that spend credits):
  // they never reuse a pooled connection, which might have been closed by the server.
  bool idempotent = true;
};

struct ClientResponse {
  int status = 0;
  std::vector<Header> headers;
  std::string body;  // empty when downloaded to a file
  std::uint64_t body_bytes = 0;
  std::string sha256;  // hex, of the downloaded file

  std::optional<std::string> header(std::string_view name) const;
};

class TransportError : public std::runtime_error {
 public:
  enum class Kind { connect, tls, timeout, reset, protocol, too_large, proxy, io, cancelled };
  TransportError(Kind kind, bool request_sent, const std::string& message)
      : std::runtime_error(message), kind_(kind), request_sent_(request_sent) {}
  Kind kind() const { return kind_; }
  // False only when the request certainly did not reach the server (no byte of it was sent).
  bool request_sent() const { return request_sent_; }

 private:
  Kind kind_;
  bool request_sent_;
};

std::string_view to_string(TransportError::Kind kind);

class HttpClient {
 public:
  // The io_context must be run by one thread; file I/O goes to `blocking`.
  HttpClient(boost::asio::io_context& io, boost::asio::thread_pool& blocking, HttpClientOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  boost::asio::awaitable<ClientResponse> send(const ClientRequest& request);

  // Connections opened so far (for tests and the keep-alive bench).
  std::uint64_t connections_opened() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace mh::net
