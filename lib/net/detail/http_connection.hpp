// Internal to lib/net: one client connection and the request/response exchange
// on it, written once as a template and instantiated for plain TCP (in
// http_client.cpp) and for TLS (in http_client_tls.cpp).
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstring>
#include <deque>
#include <map>

#include "async/blocking.hpp"
#include "async/cancel.hpp"
#include "net/http_client.hpp"
#include "net/url.hpp"
#include "util/duration.hpp"
#include "util/hash.hpp"

namespace mh::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

struct ClientConnection {
  virtual ~ClientConnection() = default;
  virtual asio::awaitable<ClientResponse> exchange(const ClientRequest& request, const Url& url) = 0;
  bool reusable = false;
  std::chrono::steady_clock::time_point idle_since;
};

struct HttpClient::Impl {
  asio::io_context& io;
  asio::thread_pool& blocking;
  HttpClientOptions options;
  std::shared_ptr<void> tls_context;                                          // asio::ssl::context, made in the TLS TU
  std::map<std::string, std::deque<std::unique_ptr<ClientConnection>>> idle;  // by origin
  std::uint64_t opened = 0;

  Impl(asio::io_context& i, asio::thread_pool& b, HttpClientOptions o) : io(i), blocking(b), options(std::move(o)) {}
};

namespace detail {

std::shared_ptr<void> make_client_tls_context(const HttpClientOptions& options);
// Wraps a connected TCP stream (moved from `tcp`) in TLS and handshakes (SNI, peer and host name checks).
asio::awaitable<std::unique_ptr<ClientConnection>> make_tls_connection(HttpClient::Impl& impl, beast::tcp_stream& tcp,
                                                                       const Url& url);

[[noreturn]] inline void fail(TransportError::Kind kind, bool sent, const std::string& message) {
  throw TransportError(kind, sent, message);
}

// Maps an error during the exchange (after the request started) to a TransportError.
[[noreturn]] inline void fail_exchange(const boost::system::error_code& ec, const Url& url, const HttpClientOptions& o,
                                       bool sent) {
  if (ec == asio::error::operation_aborted) {  // only a cancellation aborts (timeouts say timeout)
    fail(TransportError::Kind::cancelled, sent, "the request to " + url.origin() + " was cancelled");
  }
  if (ec == beast::error::timeout) {
    fail(TransportError::Kind::timeout, sent,
         "no complete response from " + url.origin() + " within " + util::format_duration(o.timeout));
  }
  if (ec == http::error::body_limit) {
    fail(TransportError::Kind::too_large, sent,
         "the response from " + url.origin() + " exceeds " + std::to_string(o.max_response_bytes) + " bytes");
  }
  if (ec == asio::error::eof || ec == http::error::end_of_stream || ec == http::error::partial_message ||
      ec == asio::error::connection_reset || ec == asio::error::broken_pipe || ec == asio::error::connection_aborted ||
      ec == asio::ssl::error::stream_truncated) {
    fail(TransportError::Kind::reset, sent,
         "the connection to " + url.origin() + " closed before the response was complete (" + ec.message() + ")");
  }
  if (ec.category() == http::make_error_code(http::error::bad_version).category()) {
    fail(TransportError::Kind::protocol, sent, "malformed HTTP response from " + url.origin() + ": " + ec.message());
  }
  fail(TransportError::Kind::reset, sent, "the exchange with " + url.origin() + " failed: " + ec.message());
}

// A file on the blocking pool: opened, read or written in chunks, fsynced, renamed.
struct BlockingFile {
  int fd = -1;
  ~BlockingFile() {
    if (fd >= 0) ::close(fd);
  }
};

template <class Fields>
void copy_headers(const Fields& fields, std::vector<Header>& out) {
  for (const auto& f : fields) out.push_back({std::string(f.name_string()), std::string(f.value())});
}

template <class Message>
void set_request_headers(Message& r, const ClientRequest& req, const Url& url, const HttpClientOptions& o) {
  bool default_port = (url.tls() && url.port == 443) || (!url.tls() && url.port == 80);
  std::string host = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  r.set(http::field::host, default_port ? host : host + ":" + std::to_string(url.port));
  r.set(http::field::user_agent, o.user_agent);
  for (const auto& h : req.headers) r.set(h.name, h.value);
}

inline http::verb verb_of(const std::string& method) { return http::string_to_verb(method); }

template <class Stream>
asio::awaitable<void> send_file_body(Stream& stream, const ClientRequest& req, const Url& url, HttpClient::Impl& impl) {
  const auto& o = impl.options;
  auto& tcp = beast::get_lowest_layer(stream);
  const std::string path = *req.upload_file;
  auto file = std::make_shared<BlockingFile>();
  std::uint64_t size = 0;
  auto open_file = [&] {
    file->fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);  // from_dir refuses symlinks
    if (file->fd < 0) fail(TransportError::Kind::io, false, "cannot read '" + path + "': " + std::strerror(errno));
    off_t end = ::lseek(file->fd, 0, SEEK_END);
    ::lseek(file->fd, 0, SEEK_SET);
    size = static_cast<std::uint64_t>(end);
  };
  co_await async::run_blocking(impl.blocking, open_file);

  http::request<http::buffer_body> r{verb_of(req.method), url.target, 11};
  set_request_headers(r, req, url, o);
  r.content_length(size);
  r.body().data = nullptr;
  r.body().more = true;
  http::request_serializer<http::buffer_body> sr{r};
  tcp.expires_after(o.timeout);
  auto [ec, n] = co_await http::async_write_header(stream, sr, asio::as_tuple(asio::use_awaitable));
  if (ec) fail_exchange(ec, url, o, true);
  std::vector<char> chunk(64 * 1024);
  std::uint64_t left = size;
  while (left > 0) {
    ssize_t got = 0;
    auto read_chunk = [&] { got = ::read(file->fd, chunk.data(), chunk.size()); };
    co_await async::run_blocking(impl.blocking, read_chunk);
    if (got <= 0) fail(TransportError::Kind::io, true, "reading '" + path + "' failed midway");
    left -= std::min<std::uint64_t>(left, static_cast<std::uint64_t>(got));
    r.body().data = chunk.data();
    r.body().size = static_cast<std::size_t>(got);
    r.body().more = left > 0;
    tcp.expires_after(o.timeout);
    std::tie(ec, n) = co_await http::async_write(stream, sr, asio::as_tuple(asio::use_awaitable));
    if (ec == http::error::need_buffer) ec = {};
    if (ec) fail_exchange(ec, url, o, true);
  }
  if (!sr.is_done()) {
    r.body().data = nullptr;
    r.body().more = false;
    std::tie(ec, n) = co_await http::async_write(stream, sr, asio::as_tuple(asio::use_awaitable));
    if (ec) fail_exchange(ec, url, o, true);
  }
}

// Where a download goes: <name>.part under the directory fd, then renamed to <name>.
struct DownloadFiles {
  int dir = AT_FDCWD;
  std::string name;
  std::string part;
  int fd = -1;
  bool created = false;  // the .part exists

  // Normally discard() or commit() ran on the blocking pool; this only acts when the
  // download's coroutine is destroyed suspended, at shutdown, after the loop has stopped.
  ~DownloadFiles() {
    if (fd >= 0) ::close(fd);
    if (created) ::unlinkat(dir, part.c_str(), 0);
  }
  DownloadFiles(int d, std::string n, std::string p) : dir(d), name(std::move(n)), part(std::move(p)) {}
  DownloadFiles(const DownloadFiles&) = delete;
  DownloadFiles& operator=(const DownloadFiles&) = delete;

  // A stale .part (a crash) is removed first: O_EXCL then refuses anything else in the way,
  // and O_NOFOLLOW a symlink planted there.
  void open_part() {
    ::unlinkat(dir, part.c_str(), 0);
    fd = ::openat(dir, part.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
    if (fd < 0) fail(TransportError::Kind::io, true, "cannot create '" + part + "': " + std::strerror(errno));
    created = true;
  }
  void discard() {
    if (fd >= 0) ::close(fd);
    fd = -1;
    ::unlinkat(dir, part.c_str(), 0);
    created = false;
  }
  // fsync, rename into place, fsync the directory so that the rename survives a crash.
  void commit() {
    int f = fd;
    fd = -1;
    if (::fsync(f) != 0 || ::close(f) != 0) {
      fail(TransportError::Kind::io, true, "cannot complete '" + part + "': " + std::strerror(errno));
    }
    if (::renameat(dir, part.c_str(), dir, name.c_str()) != 0) {
      fail(TransportError::Kind::io, true, "cannot rename to '" + name + "': " + std::strerror(errno));
    }
    created = false;
    int d = dir;
    if (dir == AT_FDCWD) {
      auto slash = name.find_last_of('/');
      std::string parent = slash == std::string::npos ? "." : slash == 0 ? "/" : name.substr(0, slash);
      d = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    int rc = d >= 0 ? ::fsync(d) : -1;
    if (d >= 0 && d != dir) ::close(d);
    if (rc != 0) fail(TransportError::Kind::io, true, "cannot fsync the directory of '" + name + "'");
  }
};

// The timer for the next read of a download: the per-chunk timeout, but never past its deadline.
inline void arm_download_timer(beast::tcp_stream& tcp, const HttpClientOptions& o,
                               std::optional<std::chrono::steady_clock::time_point> deadline) {
  auto until = std::chrono::steady_clock::now() + o.timeout;
  tcp.expires_at(deadline && *deadline < until ? *deadline : until);
}

template <class Stream>
asio::awaitable<void> read_download(Stream& stream, beast::flat_buffer& buffer, const ClientRequest& req,
                                    const Url& url, HttpClient::Impl& impl, ClientResponse& out,
                                    http::response_parser<http::buffer_body>& p, DownloadFiles& files) {
  const auto& o = impl.options;
  auto& tcp = beast::get_lowest_layer(stream);
  std::optional<std::chrono::steady_clock::time_point> deadline;
  if (req.download_timeout.count() > 0) deadline = std::chrono::steady_clock::now() + req.download_timeout;
  auto check = [&](const boost::system::error_code& ec) {
    if (req.cancellation != nullptr && req.cancellation->requested()) {
      fail(TransportError::Kind::cancelled, true, "the download from " + url.origin() + " was cancelled");
    }
    if (ec == beast::error::timeout && deadline && std::chrono::steady_clock::now() >= *deadline) {
      fail(TransportError::Kind::timeout, true,
           "the download from " + url.origin() + " did not complete within its deadline of " +
               util::format_duration(req.download_timeout));
    }
    if (ec) fail_exchange(ec, url, o, true);
  };
  arm_download_timer(tcp, o, deadline);
  auto [ec, n] = co_await http::async_read_header(stream, buffer, p, asio::as_tuple(asio::use_awaitable));
  check(ec);
  out.status = p.get().result_int();
  copy_headers(p.get(), out.headers);
  const bool to_file = out.status >= 200 && out.status < 300;
  const std::uint64_t cap = to_file ? req.max_download_bytes : o.max_response_bytes;
  auto too_large = [&] {
    fail(TransportError::Kind::too_large, true,
         "the download from " + url.origin() + " exceeds the cap of " + std::to_string(cap) + " bytes");
  };
  if (cap > 0 && p.content_length() && *p.content_length() > cap) too_large();
  if (to_file) {
    auto open_part = [&] { files.open_part(); };
    co_await async::run_blocking(impl.blocking, open_part);
  }
  util::Sha256 sha;
  std::vector<char> chunk(64 * 1024);
  while (!p.is_done()) {
    p.get().body().data = chunk.data();
    p.get().body().size = chunk.size();
    arm_download_timer(tcp, o, deadline);  // per chunk: a big file may take long, a stalled one may not
    std::tie(ec, n) = co_await http::async_read(stream, buffer, p, asio::as_tuple(asio::use_awaitable));
    if (ec == http::error::need_buffer) ec = {};
    check(ec);
    std::size_t got = chunk.size() - p.get().body().size;
    if (got == 0) continue;
    out.body_bytes += got;
    if (cap > 0 && out.body_bytes > cap) too_large();
    if (!to_file) {
      out.body.append(chunk.data(), got);
      continue;
    }
    sha.update(std::string_view(chunk.data(), got));
    auto write_chunk = [&] {
      std::size_t done = 0;
      while (done < got) {
        ssize_t w = ::write(files.fd, chunk.data() + done, got - done);
        if (w <= 0)
          fail(TransportError::Kind::io, true, "writing '" + files.part + "' failed: " + std::strerror(errno));
        done += static_cast<std::size_t>(w);
      }
    };
    co_await async::run_blocking(impl.blocking, write_chunk);
  }
  if (to_file) {
    out.sha256 = sha.hex_digest();
    auto commit = [&] { files.commit(); };
    co_await async::run_blocking(impl.blocking, commit);
  }
}

// Streams a response body to a file (2xx) or, for an error status, into out.body.
template <class Stream>
asio::awaitable<void> receive_to_file(Stream& stream, beast::flat_buffer& buffer, const ClientRequest& req,
                                      const Url& url, HttpClient::Impl& impl, ClientResponse& out, bool& keep_alive) {
  http::response_parser<http::buffer_body> p;
  p.body_limit(boost::none);  // the caps are counted here, per status
  DownloadFiles files{req.download_dir_fd, *req.download_file, *req.download_file + ".part"};
  std::exception_ptr failed;
  try {
    co_await read_download(stream, buffer, req, url, impl, out, p, files);
  } catch (...) {
    failed = std::current_exception();
  }
  if (failed) {
    if (files.created) {  // a .part was created: never leave it behind
      auto discard = [&] { files.discard(); };
      co_await async::run_blocking(impl.blocking, discard);
    }
    std::rethrow_exception(failed);
  }
  keep_alive = p.get().keep_alive();
}

template <class Stream>
class StreamConnection final : public ClientConnection {
 public:
  StreamConnection(HttpClient::Impl& impl, Stream stream) : impl_(impl), stream_(std::move(stream)) {}

  asio::awaitable<ClientResponse> exchange(const ClientRequest& req, const Url& url) override {
    const auto& o = impl_.options;
    auto& tcp = beast::get_lowest_layer(stream_);
    reusable = false;
    ClientResponse out;
    // A cancel closes the exchange in progress at once (the connection is not reused).
    std::optional<async::Cancellation::Registration> stop;
    if (req.cancellation != nullptr) {
      if (req.cancellation->requested()) fail(TransportError::Kind::cancelled, false, "the request was cancelled");
      stop.emplace(req.cancellation->on_request([&tcp] { tcp.cancel(); }));
    }
    if (req.upload_file) {
      co_await send_file_body(stream_, req, url, impl_);
    } else {
      http::request<http::string_body> r{verb_of(req.method), url.target, 11};
      if (r.method() == http::verb::unknown) r.method_string(req.method);
      set_request_headers(r, req, url, o);
      r.body() = req.body;
      r.prepare_payload();
      tcp.expires_after(o.timeout);
      auto [ec, n] = co_await http::async_write(stream_, r, asio::as_tuple(asio::use_awaitable));
      if (ec) fail_exchange(ec, url, o, true);
    }
    bool keep_alive = false;
    if (req.download_file) {
      co_await receive_to_file(stream_, buffer_, req, url, impl_, out, keep_alive);
    } else {
      http::response_parser<http::string_body> p;
      p.body_limit(o.max_response_bytes);
      tcp.expires_after(o.timeout);
      auto [ec, n] = co_await http::async_read(stream_, buffer_, p, asio::as_tuple(asio::use_awaitable));
      if (ec) fail_exchange(ec, url, o, true);
      out.status = p.get().result_int();
      copy_headers(p.get(), out.headers);
      out.body = std::move(p.get().body());
      out.body_bytes = out.body.size();
      keep_alive = p.get().keep_alive();
    }
    tcp.expires_never();
    reusable = keep_alive;
    co_return out;
  }

 private:
  HttpClient::Impl& impl_;
  Stream stream_;
  beast::flat_buffer buffer_;
};

}  // namespace detail
}  // namespace mh::net
