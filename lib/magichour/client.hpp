// Typed calls to the Magic Hour API: account, the legacy dlt-page endpoints,
// generator and upscaler creates, projects, uploads and downloads. Applies the
// retry rules (reads retry 429/5xx/transport failures; creates only when they
// certainly did not arrive), the daemon-wide concurrency limit, metrics, and
// turns every failure into an ApiError with a message a user can act on.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "magichour/errors.hpp"
#include "magichour/requests.hpp"
#include "net/http_client.hpp"
#include "net/retry.hpp"

namespace mh::async {
class Cancellation;
class FairLimiter;
}  // namespace mh::async
namespace mh::metrics {
class Metrics;
}

namespace mh::magichour {

struct ClientSettings {
  std::string base_url = "https://api.magichour.ai/v1";
  std::string api_key;
  std::string api_key_source;  // where the key was read from, for 401 messages (never the key)
  net::RetryPolicy retry;
};

struct CallOptions {
  std::string job;       // fairness key for the concurrency limit
  int max_attempts = 0;  // 0: the retry policy's; 1 for probes that must not retry
  std::string resource;  // named in validation errors
  // The run's: when requested, a call in progress stops at once and is not retried.
  async::Cancellation* cancellation = nullptr;
};

// The options used when a call names none: a static object, not a temporary —
// GCC 12 may destroy a class temporary in a co_await expression twice, so
// coroutine calls never take one (see README, "Coroutines and GCC 12").
const CallOptions& default_call_options();

struct Account {
  std::int64_t credits = 0;
  std::string tier;
  boost::json::object raw;
};

struct CreateResult {
  std::string id;
  std::int64_t credits_charged = 0;
  boost::json::object raw;
};

struct ProjectDownload {
  std::string url;
  std::string expires_at;
};

struct Project {
  std::string id;
  std::string status;  // draft | queued | rendering | complete | error | canceled
  std::int64_t credits_charged = 0;
  bool enabled = true;
  std::vector<ProjectDownload> downloads;
  std::optional<std::string> error_code;
  std::optional<std::string> error_message;
  boost::json::object raw;

  bool terminal() const { return status == "complete" || status == "error" || status == "canceled"; }
};

struct UploadSlot {
  std::string upload_url;
  std::string file_path;  // what create requests reference, e.g. api-assets/id/0.png
  std::string expires_at;
};

struct JsonResponse {
  int status = 0;
  std::vector<net::Header> headers;
  boost::json::value body;  // null from get_page/post_page
  std::string text;         // get_page/post_page: the body, checked to be JSON
  std::string url;          // the URL that answered (paginators resolve links against it)
  std::optional<std::string> header(std::string_view name) const;
};

// Magic Hour's project ids are cuids ("clx7uu86w0a5qp55yxz315r6r"; the docs' example is
// "cuid-example"): 1–64 characters of [A-Za-z0-9_-], starting with a letter or digit.
// Anything else is refused (docs/generation.md): an id names a directory of the archive.
bool valid_project_id(std::string_view id);

// A download into a directory: `name` relative to `dir_fd` (AT_FDCWD: the working directory),
// at most `max_bytes` (0: no cap) within `timeout` (0: none) for the whole transfer.
struct DownloadTarget {
  int dir_fd = -100;  // AT_FDCWD
  std::string name;
  std::uint64_t max_bytes = 0;
  std::chrono::milliseconds timeout{0};
};

struct FileResult {
  std::uint64_t bytes = 0;
  std::string sha256;
};

class Client {
 public:
  Client(net::HttpClient& http, async::FairLimiter& limiter, ClientSettings settings,
         metrics::Metrics* metrics = nullptr);

  // A reload: calls built from now on use the new key, base URL and retry policy
  // (requests already sent keep theirs). Call on the I/O thread, like every call.
  void update_settings(ClientSettings settings);

  // Every call takes its options by lvalue reference (rvalues are deleted) and
  // its strings as string_view, so no call site can put a class temporary in a co_await.
  boost::asio::awaitable<Account> account(const CallOptions& options = default_call_options());
  // The dlt page's GET /v1/credits (not served by the real API): the balance only.
  boost::asio::awaitable<Account> credits(const CallOptions& options = default_call_options());
  // An authenticated GET of a path under base_url ("/v1/credits", "saved-items?limit=10")
  // or an absolute URL with base_url's origin. `endpoint` is the template for metrics.
  boost::asio::awaitable<JsonResponse> get_json(std::string_view endpoint, std::string_view path_or_url,
                                                const CallOptions& options = default_call_options());
  // An authenticated POST that only reads (a listing or search taking a JSON body, as
  // user resources with `method: POST` send): retried like a GET, since it creates and
  // bills nothing — unlike create(), whose failures after sending are `uncertain`.
  // A null `body` sends none.
  boost::asio::awaitable<JsonResponse> post_json(std::string_view endpoint, std::string_view path_or_url,
                                                 const boost::json::value& body,
                                                 const CallOptions& options = default_call_options());
  // get_json and post_json for a page a stream parses (extract/stream_select.hpp): the
  // body is checked to be JSON — same retries, same errors — but kept as `text`, not parsed
  // into `body` (a 16 MiB page is hundreds of MiB as a tree).
  boost::asio::awaitable<JsonResponse> get_page(std::string_view endpoint, std::string_view path_or_url,
                                                const CallOptions& options = default_call_options());
  boost::asio::awaitable<JsonResponse> post_page(std::string_view endpoint, std::string_view path_or_url,
                                                 const boost::json::value& body,
                                                 const CallOptions& options = default_call_options());
  boost::asio::awaitable<CreateResult> create(CreateKind kind, const boost::json::object& body,
                                              const CallOptions& options = default_call_options());
  boost::asio::awaitable<Project> project(std::string_view id, const CallOptions& options = default_call_options());
  boost::asio::awaitable<void> delete_project(std::string_view id, const CallOptions& options = default_call_options());
  // One slot per (type, extension), e.g. {"image", "png"}.
  boost::asio::awaitable<std::vector<UploadSlot>> upload_urls(
      const std::vector<std::pair<std::string, std::string>>& items,
      const CallOptions& options = default_call_options());
  // The signed upload and download URLs carry their own token: no API key is sent to them.
  boost::asio::awaitable<void> upload_file(const UploadSlot& slot, std::string_view local_path,
                                           const CallOptions& options = default_call_options());
  boost::asio::awaitable<FileResult> download(std::string_view url, std::string_view local_path,
                                              const CallOptions& options = default_call_options());
  boost::asio::awaitable<FileResult> download(std::string_view url, const DownloadTarget& target,
                                              const CallOptions& options = default_call_options());

  boost::asio::awaitable<Account> account(CallOptions&&) = delete;
  boost::asio::awaitable<Account> credits(CallOptions&&) = delete;
  boost::asio::awaitable<JsonResponse> get_json(std::string_view, std::string_view, CallOptions&&) = delete;
  boost::asio::awaitable<JsonResponse> post_json(std::string_view, std::string_view, const boost::json::value&,
                                                 CallOptions&&) = delete;
  boost::asio::awaitable<JsonResponse> post_json(std::string_view, std::string_view, boost::json::value&&,
                                                 const CallOptions& = default_call_options()) = delete;
  boost::asio::awaitable<JsonResponse> get_page(std::string_view, std::string_view, CallOptions&&) = delete;
  boost::asio::awaitable<JsonResponse> post_page(std::string_view, std::string_view, const boost::json::value&,
                                                 CallOptions&&) = delete;
  boost::asio::awaitable<JsonResponse> post_page(std::string_view, std::string_view, boost::json::value&&,
                                                 const CallOptions& = default_call_options()) = delete;
  boost::asio::awaitable<CreateResult> create(CreateKind, const boost::json::object&, CallOptions&&) = delete;
  boost::asio::awaitable<Project> project(std::string_view, CallOptions&&) = delete;

 private:
  enum class Mode { read, create };
  // What a 2xx body must be: anything, JSON parsed into `parsed`, or JSON left as text.
  enum class Body { any, parse, check };
  // Sends with the retry rules of `mode`; a 2xx body that is not as `body` asks is retried.
  boost::asio::awaitable<net::ClientResponse> send(std::string_view endpoint, net::ClientRequest& request,
                                                   const CallOptions& options, Mode mode,
                                                   boost::json::value* parsed = nullptr, Body body = Body::any);
  // A read (GET or read-only POST) whose 2xx body must be JSON (Body::parse or Body::check).
  boost::asio::awaitable<JsonResponse> read_json(std::string_view endpoint, net::ClientRequest& request,
                                                 const CallOptions& options, Body body);
  boost::asio::awaitable<JsonResponse> get(std::string_view endpoint, std::string_view path_or_url,
                                           const CallOptions& options, Body body);
  boost::asio::awaitable<JsonResponse> post(std::string_view endpoint, std::string_view path_or_url,
                                            const boost::json::value& request_body, const CallOptions& options,
                                            Body body);
  std::string absolute(std::string_view path_or_url, std::string_view endpoint) const;

  net::HttpClient& http_;
  async::FairLimiter& limiter_;
  ClientSettings settings_;
  net::Header auth_;  // Authorization: Bearer <key>, sent with every API call (not to signed URLs)
  metrics::Metrics* metrics_;
  std::string origin_;
  std::mt19937_64 rng_;
};

// Parses JSON, naming the byte offset of the first error (never echoing the body).
boost::json::value parse_json_body(const std::string& body, const std::string& endpoint);
// Checks that `body` is JSON (parse_json_body's grammar and errors) without building it.
void check_json_body(const std::string& body, const std::string& endpoint);

}  // namespace mh::magichour
