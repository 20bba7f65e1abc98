#include "net/http_client.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <cstdlib>

#include "async/spawn.hpp"
#include "log/log.hpp"
#include "net/detail/http_connection.hpp"
#include "util/codec.hpp"
#include "util/duration.hpp"

namespace mh::net {

std::string_view to_string(TransportError::Kind kind) {
  switch (kind) {
    case TransportError::Kind::connect: return "connect";
    case TransportError::Kind::tls: return "tls";
    case TransportError::Kind::timeout: return "timeout";
    case TransportError::Kind::reset: return "reset";
    case TransportError::Kind::protocol: return "protocol";
    case TransportError::Kind::too_large: return "too_large";
    case TransportError::Kind::proxy: return "proxy";
    case TransportError::Kind::io: return "io";
    case TransportError::Kind::cancelled: return "cancelled";
  }
  return "connect";
}

std::optional<std::string> ClientResponse::header(std::string_view name) const { return find_header(headers, name); }

ProxySettings ProxySettings::from_environment() {
  auto env = [](const char* upper, const char* lower) -> std::optional<std::string> {
    for (const char* n : {lower, upper}) {
      if (const char* v = std::getenv(n); v != nullptr && *v != '\0') return std::string(v);
    }
    return std::nullopt;
  };
  ProxySettings p;
  p.https_proxy = env("HTTPS_PROXY", "https_proxy");
  p.http_proxy = env("HTTP_PROXY", "http_proxy");
  if (auto no = env("NO_PROXY", "no_proxy")) {
    std::size_t start = 0;
    while (start <= no->size()) {
      std::size_t comma = no->find(',', start);
      std::string item = no->substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      while (!item.empty() && item.front() == ' ') item.erase(0, 1);
      while (!item.empty() && item.back() == ' ') item.pop_back();
      if (!item.empty()) p.no_proxy.push_back(item);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return p;
}

std::optional<std::string> ProxySettings::proxy_for(const std::string& scheme, const std::string& host) const {
  for (const auto& entry : no_proxy) {
    if (entry == "*") return std::nullopt;
    std::string e = entry;
    if (auto colon = e.rfind(':');
        colon != std::string::npos && e.find(']') == std::string::npos && e.find(':') == colon) {
      e = e.substr(0, colon);  // host:port entries match the host
    }
    if (e.starts_with(".")) e.erase(0, 1);
    if (host == e || (host.size() > e.size() && host.ends_with("." + e))) return std::nullopt;
  }
  return scheme == "https" ? https_proxy : http_proxy;
}

namespace {

using namespace asio::experimental::awaitable_operators;

// TCP connect (through a CONNECT proxy when one applies), within connect_timeout.
asio::awaitable<beast::tcp_stream> connect_tcp(HttpClient::Impl& impl, const Url& url) {
  const auto& o = impl.options;
  std::optional<Url> proxy;
  if (auto p = o.proxy.proxy_for(url.scheme, url.host)) {
    std::string err;
    proxy = parse_url(*p, err);
    if (!proxy) detail::fail(TransportError::Kind::proxy, false, "invalid proxy setting: " + err);
    // TLS to the proxy itself is not implemented: refused rather than sending the
    // CONNECT (and its credentials) in the clear to a proxy that expects TLS.
    if (proxy->tls()) {
      detail::fail(TransportError::Kind::proxy, false,
                   "proxy " + proxy->authority() +
                       ": an https:// proxy is not supported; use an http:// proxy (the tunnel inside is TLS)");
    }
  }
  const Url& peer = proxy ? *proxy : url;
  asio::ip::tcp::resolver resolver(impl.io);
  asio::steady_timer timer(impl.io);
  timer.expires_after(o.connect_timeout);
  const std::string port = std::to_string(peer.port);
  auto outcome = co_await (resolver.async_resolve(peer.host, port, asio::as_tuple(asio::use_awaitable)) ||
                           timer.async_wait(asio::use_awaitable));
  if (outcome.index() == 1) {
    detail::fail(TransportError::Kind::timeout, false, "resolving " + peer.host + " timed out");
  }
  auto [rec, endpoints] = std::get<0>(outcome);
  if (rec) detail::fail(TransportError::Kind::connect, false, "cannot resolve " + peer.host + ": " + rec.message());

  beast::tcp_stream stream(impl.io);
  stream.expires_after(o.connect_timeout);
  auto [ec, ep] = co_await stream.async_connect(endpoints, asio::as_tuple(asio::use_awaitable));
  if (ec == beast::error::timeout) {
    detail::fail(TransportError::Kind::timeout, false,
                 "connecting to " + peer.authority() + " timed out after " + util::format_duration(o.connect_timeout));
  }
  if (ec) {
    detail::fail(proxy ? TransportError::Kind::proxy : TransportError::Kind::connect, false,
                 "cannot connect to " + (proxy ? "proxy " : std::string()) + peer.authority() + ": " + ec.message());
  }
  stream.socket().set_option(asio::ip::tcp::no_delay(true), ec);
  ++impl.opened;
  if (proxy) {
    http::request<http::empty_body> req{http::verb::connect, url.authority(), 11};
    req.set(http::field::host, url.authority());
    req.set(http::field::user_agent, o.user_agent);
    // user:password@ of the proxy URL (percent-decoded); the error messages name only host:port.
    if (!proxy->userinfo.empty())
      req.set(http::field::proxy_authorization, "Basic " + util::base64_encode(url_decode(proxy->userinfo, false)));
    auto [wec, wn] = co_await http::async_write(stream, req, asio::as_tuple(asio::use_awaitable));
    beast::flat_buffer buffer;
    http::response_parser<http::empty_body> p;
    p.skip(true);  // a CONNECT response has no body
    boost::system::error_code rec2 = wec;
    if (!rec2)
      std::tie(rec2, wn) = co_await http::async_read_header(stream, buffer, p, asio::as_tuple(asio::use_awaitable));
    if (rec2) {
      detail::fail(TransportError::Kind::proxy, false, "proxy " + proxy->authority() + " failed: " + rec2.message());
    }
    if (p.get().result_int() != 200) {
      detail::fail(TransportError::Kind::proxy, false,
                   "proxy " + proxy->authority() + " refused CONNECT to " + url.authority() + ": " +
                       std::to_string(p.get().result_int()) + " " + std::string(p.get().reason()));
    }
  }
  stream.expires_never();
  co_return stream;
}

// Closes the pooled connections of `origin` idle for idle_keepalive: a socket the
// client will not reuse is not kept open (nor is the server's slot held) until the next request.
asio::awaitable<void> close_expired(std::weak_ptr<HttpClient::Impl> weak, std::string origin,
                                    std::chrono::milliseconds after) {
  asio::steady_timer timer(co_await asio::this_coro::executor, after);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  auto impl = weak.lock();
  if (!impl) co_return;
  auto it = impl->idle.find(origin);
  if (it == impl->idle.end()) co_return;
  const auto now = std::chrono::steady_clock::now();
  std::erase_if(it->second, [&](const auto& c) { return now - c->idle_since >= impl->options.idle_keepalive; });
}

asio::awaitable<std::unique_ptr<ClientConnection>> open_connection(HttpClient::Impl& impl, const Url& url) {
  beast::tcp_stream tcp = co_await connect_tcp(impl, url);
  if (url.tls()) co_return co_await detail::make_tls_connection(impl, tcp, url);
  co_return std::make_unique<detail::StreamConnection<beast::tcp_stream>>(impl, std::move(tcp));
}

}  // namespace

// A proxy's password (user:password@) is a secret like the API key: masked in every log
// line and error from here on, as written and percent-decoded.
void register_proxy_secrets(const ProxySettings& p) {
  for (const auto* proxy : {&p.https_proxy, &p.http_proxy}) {
    std::string error;
    auto u = *proxy ? parse_url(**proxy, error) : std::nullopt;
    if (!u || u->userinfo.find(':') == std::string::npos) continue;
    const std::string password = u->userinfo.substr(u->userinfo.find(':') + 1);
    log::register_secret(password);
    log::register_secret(url_decode(password, false));
  }
}

HttpClient::HttpClient(asio::io_context& io, asio::thread_pool& blocking, HttpClientOptions options)
    : impl_(std::make_shared<Impl>(io, blocking, std::move(options))) {
  register_proxy_secrets(impl_->options.proxy);
  impl_->tls_context = detail::make_client_tls_context(impl_->options);
}

HttpClient::~HttpClient() = default;

std::uint64_t HttpClient::connections_opened() const { return impl_->opened; }

asio::awaitable<ClientResponse> HttpClient::send(const ClientRequest& request) {
  auto impl = impl_;  // keeps the pool alive while this request runs
  std::string err;
  auto url = parse_url(request.url, err);
  if (!url) detail::fail(TransportError::Kind::connect, false, err);
  const std::string origin = url->origin();

  // A pooled connection may have been closed by the server while idle; a
  // request that must not be sent twice always gets a fresh one.
  std::unique_ptr<ClientConnection> conn;
  if (request.idempotent) {
    auto& idle = impl->idle[origin];
    auto now = std::chrono::steady_clock::now();
    while (!idle.empty() && !conn) {
      auto candidate = std::move(idle.back());
      idle.pop_back();
      if (now - candidate->idle_since < impl->options.idle_keepalive) conn = std::move(candidate);
    }
  }
  bool reused = conn != nullptr;
  ClientResponse response;
  for (int attempt = 0;; ++attempt) {
    if (!conn) conn = co_await open_connection(*impl, *url);
    try {
      response = co_await conn->exchange(request, *url);
      break;
    } catch (const TransportError& e) {
      // A stale keep-alive connection fails at once; an idempotent request may
      // go again on a fresh connection, once.
      bool stale = reused && attempt == 0 && e.kind() == TransportError::Kind::reset && !request.upload_file;
      if (!stale) throw;
      conn.reset();
      reused = false;
    }
  }
  if (conn->reusable) {
    auto& idle = impl->idle[origin];
    if (idle.size() < impl->options.max_idle_per_origin) {
      conn->idle_since = std::chrono::steady_clock::now();
      idle.push_back(std::move(conn));
      async::spawn(impl->io, close_expired(impl, origin, impl->options.idle_keepalive), "close idle connections");
    }
  }
  co_return response;
}

}  // namespace mh::net
