#include "magichour/client.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <chrono>

#include "async/fair_limiter.hpp"
#include "log/log.hpp"
#include "metrics/metrics.hpp"
#include "net/retry.hpp"
#include "net/url.hpp"
#include "util/duration.hpp"
#include "util/numeric.hpp"

namespace mh::magichour {
namespace asio = boost::asio;
namespace json = boost::json;

std::string_view to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::auth: return "auth";
    case ErrorKind::bad_request: return "bad_request";
    case ErrorKind::payment: return "payment";
    case ErrorKind::forbidden: return "forbidden";
    case ErrorKind::not_found: return "not_found";
    case ErrorKind::validation: return "validation";
    case ErrorKind::rate_limited: return "rate_limited";
    case ErrorKind::server: return "server";
    case ErrorKind::transport: return "transport";
    case ErrorKind::protocol: return "protocol";
    case ErrorKind::uncertain: return "uncertain";
  }
  return "server";
}

std::optional<std::string> JsonResponse::header(std::string_view name) const { return net::find_header(headers, name); }

const CallOptions& default_call_options() {
  static const CallOptions options;
  return options;
}

namespace {

[[noreturn]] void invalid_json(const std::string& body, const std::string& endpoint, std::size_t consumed,
                               const boost::system::error_code& ec) {
  std::size_t offset = consumed < body.size() ? consumed : body.size();
  throw ApiError(ErrorKind::protocol, 200, endpoint, "",
                 "Magic Hour sent invalid JSON for " + endpoint + " (at byte " + std::to_string(offset) + " of " +
                     std::to_string(body.size()) + ": " + ec.message() + ")");
}

// A basic_parser handler that builds nothing: the grammar check alone.
struct CheckOnly {
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();
  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) { return true; }
  bool on_object_end(std::size_t, json::error_code&) { return true; }
  bool on_array_begin(json::error_code&) { return true; }
  bool on_array_end(std::size_t, json::error_code&) { return true; }
  bool on_key_part(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_key(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_string_part(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_string(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t, json::string_view, json::error_code&) { return true; }
  bool on_uint64(std::uint64_t, json::string_view, json::error_code&) { return true; }
  bool on_double(double, json::string_view, json::error_code&) { return true; }
  bool on_bool(bool, json::error_code&) { return true; }
  bool on_null(json::error_code&) { return true; }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }
};

}  // namespace

json::value parse_json_body(const std::string& body, const std::string& endpoint) {
  json::stream_parser p;
  boost::system::error_code ec;
  std::size_t consumed = p.write(body.data(), body.size(), ec);
  if (!ec) p.finish(ec);
  if (ec) invalid_json(body, endpoint, consumed, ec);
  return p.release();
}

void check_json_body(const std::string& body, const std::string& endpoint) {
  json::basic_parser<CheckOnly> p(json::parse_options{});  // stream_parser's default options
  boost::system::error_code ec;
  std::size_t consumed = p.write_some(false, body.data(), body.size(), ec);
  if (!ec && consumed < body.size()) ec = json::error::extra_data;  // write_some stops after the document
  if (ec) invalid_json(body, endpoint, consumed, ec);
}

namespace {

using namespace std::chrono_literals;

// The upstream `message` of an error body, leniently: JSON {"message"} or nothing
// (a gateway's HTML page is not quoted back).
std::string upstream_message(const std::string& body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return "";
  const json::value* m = v.as_object().if_contains("message");
  if (m == nullptr || !m->is_string()) return "";
  std::string s(m->as_string());
  if (s.size() > 500) s = s.substr(0, 500) + "…";
  return s;
}

std::string status_text(int status) { return std::to_string(status) + " " + std::string(net::reason_phrase(status)); }

[[noreturn]] void throw_for_status(int status, const std::string& endpoint, const std::string& path,
                                   const std::string& body, const ClientSettings& s, const CallOptions& o,
                                   int attempts) {
  std::string msg = upstream_message(body);
  std::string quoted = msg.empty() ? "" : ": " + msg;
  std::string what = o.resource.empty() ? "" : " (resource " + o.resource + ")";
  std::string tries = attempts > 1 ? " after " + std::to_string(attempts) + " attempts" : "";
  switch (status) {
    case 401:
      throw ApiError(ErrorKind::auth, status, endpoint, msg,
                     "Magic Hour rejected the API key (401 Unauthorized) on " + endpoint +
                         "; check the key read from " +
                         (s.api_key_source.empty() ? "the configuration" : s.api_key_source));
    case 400:
      throw ApiError(ErrorKind::bad_request, status, endpoint, msg,
                     "Magic Hour rejected the request to " + endpoint + what + " (400 Bad Request)" + quoted);
    case 402:
      throw ApiError(ErrorKind::payment, status, endpoint, msg,
                     "Magic Hour says the account has insufficient credits (402 Payment Required) for " + endpoint +
                         what + quoted);
    case 403:
      throw ApiError(ErrorKind::forbidden, status, endpoint, msg,
                     "Magic Hour refused " + endpoint + what +
                         " (403 Forbidden): the plan does not include this model, resolution or feature" + quoted);
    case 404:
      throw ApiError(ErrorKind::not_found, status, endpoint, msg,
                     "Magic Hour has nothing at " + path + " (404 Not Found); check the path" + quoted);
    case 422:
      throw ApiError(ErrorKind::validation, status, endpoint, msg,
                     "Magic Hour could not process the request to " + endpoint + what + " (422)" + quoted);
    case 429:
      throw ApiError(ErrorKind::rate_limited, status, endpoint, msg,
                     "Magic Hour rate-limited " + endpoint + " (429 Too Many Requests)" + tries + quoted);
    default:
      throw ApiError(status >= 500 ? ErrorKind::server : ErrorKind::protocol, status, endpoint, msg,
                     "Magic Hour answered " + status_text(status) + " to " + endpoint + tries + quoted);
  }
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  t.expires_after(d);
  co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
}

std::string get_string(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::int64_t get_int(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return 0;
  if (v->is_int64()) return v->as_int64();
  // Past int64 (a uint64 or a double such as 1e30) saturates rather than wrapping or UB.
  if (v->is_uint64()) return util::saturate_int64(static_cast<double>(v->as_uint64()));
  if (v->is_double()) return util::saturate_int64(v->as_double());
  return 0;
}

const json::object& expect_object(const json::value& v, const std::string& endpoint) {
  if (!v.is_object()) {
    throw ApiError(ErrorKind::protocol, 200, endpoint, "", "Magic Hour sent a non-object JSON body for " + endpoint);
  }
  return v.as_object();
}

}  // namespace

Client::Client(net::HttpClient& http, async::FairLimiter& limiter, ClientSettings settings, metrics::Metrics* metrics)
    : http_(http), limiter_(limiter), metrics_(metrics), rng_(std::random_device{}()) {
  update_settings(std::move(settings));
}

void Client::update_settings(ClientSettings settings) {
  while (settings.base_url.ends_with("/")) settings.base_url.pop_back();
  std::string err;
  auto base = net::parse_url(settings.base_url, err);
  if (!base) throw std::invalid_argument("magic_hour.base_url: " + err);
  origin_ = base->origin();
  auth_ = net::Header{"Authorization", "Bearer " + settings.api_key};
  settings_ = std::move(settings);
}

std::string Client::absolute(std::string_view path_or_url, std::string_view endpoint) const {
  if (path_or_url.find("://") != std::string_view::npos) {
    std::string err;
    auto u = net::parse_url(path_or_url, err);
    // The API key goes to base_url's origin only.
    if (!u || u->origin() != origin_) {
      throw ApiError(ErrorKind::protocol, 0, std::string(endpoint), "",
                     "refusing to send the API key to " + (u ? u->origin() : std::string(path_or_url)) +
                         ", which is not magic_hour.base_url's origin (" + origin_ + ")");
    }
    return std::string(path_or_url);
  }
  std::string p(path_or_url);
  if (p.starts_with("/v1/") && settings_.base_url.ends_with("/v1")) p = p.substr(3);  // base_url already ends in /v1
  if (!p.starts_with("/")) p = "/" + p;
  return settings_.base_url + p;
}

asio::awaitable<net::ClientResponse> Client::send(std::string_view endpoint_view, net::ClientRequest& request,
                                                  const CallOptions& options, Mode mode, json::value* parsed,
                                                  Body body) {
  const std::string endpoint(endpoint_view);
  const int max_attempts = options.max_attempts > 0 ? options.max_attempts : settings_.retry.max_attempts;
  request.idempotent = mode == Mode::read;
  request.cancellation = options.cancellation;
  for (int attempt = 1;; ++attempt) {
    std::optional<std::chrono::milliseconds> hint;
    std::string reason;
    {
      auto permit = co_await limiter_.acquire(options.job);
      auto started = std::chrono::steady_clock::now();
      auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(); };
      std::optional<net::TransportError> failure;
      net::ClientResponse res;
      try {
        res = co_await http_.send(request);
      } catch (const net::TransportError& e) {
        failure = e;
      }
      permit.release();
      if (failure) {
        if (metrics_) metrics_->upstream_request(endpoint, net::to_string(failure->kind()), seconds());
        // A create that may have arrived is never sent again: Magic Hour bills every POST.
        if (mode == Mode::create && failure->request_sent()) {
          throw ApiError(ErrorKind::uncertain, 0, endpoint, "",
                         "the request to " + endpoint + " may have reached Magic Hour (" + failure->what() +
                             "); it was not resent, so that nothing is paid for twice");
        }
        // A cancel, or a body past its cap, would only happen again.
        const bool final = failure->kind() == net::TransportError::Kind::cancelled ||
                           failure->kind() == net::TransportError::Kind::too_large;
        if (attempt >= max_attempts || final) {
          throw ApiError(
              ErrorKind::transport, 0, endpoint, "",
              std::string(failure->what()) + (attempt > 1 ? " (after " + std::to_string(attempt) + " attempts)" : ""));
        }
        reason = std::string(net::to_string(failure->kind()));
      } else {
        if (metrics_) metrics_->upstream_request(endpoint, std::to_string(res.status), seconds());
        if (res.status >= 200 && res.status < 300) {
          if (body == Body::any) co_return res;
          // Invalid JSON on a read is usually a gateway hiccup: it gets the same retries as a 5xx.
          try {
            if (body == Body::parse) {
              *parsed = parse_json_body(res.body, endpoint);
            } else {
              check_json_body(res.body, endpoint);
            }
            co_return res;
          } catch (const ApiError&) {
            if (attempt >= max_attempts) throw;
          }
          reason = "bad_json";
        }
        if (reason.empty()) {  // not a 2xx
          if (mode == Mode::create && res.status >= 500) {
            // A 5xx after the POST was sent: the job may or may not exist.
            std::string msg = upstream_message(res.body);
            throw ApiError(ErrorKind::uncertain, res.status, endpoint, msg,
                           "Magic Hour answered " + status_text(res.status) + " to " + endpoint +
                               " after receiving it; the request may have been processed and was not resent");
          }
          bool retry = net::retryable_status(res.status);
          if (!retry || attempt >= max_attempts) {
            throw_for_status(res.status, endpoint, net::url_decode(request.url, false), res.body, settings_, options,
                             attempt);
          }
          reason = std::to_string(res.status);
          if (auto ra = res.header("Retry-After")) hint = net::parse_retry_after(*ra, std::chrono::system_clock::now());
        }
      }
    }
    if (metrics_) metrics_->upstream_retry(endpoint, reason);
    auto delay = hint.value_or(net::backoff_delay(settings_.retry, attempt, rng_));
    log::debug(
        "retrying upstream request",
        {{"endpoint", endpoint}, {"reason", reason}, {"attempt", attempt}, {"delay", util::format_duration(delay)}});
    co_await sleep_for(delay);
  }
}

asio::awaitable<JsonResponse> Client::read_json(std::string_view endpoint, net::ClientRequest& req,
                                                const CallOptions& options, Body body) {
  JsonResponse out;
  net::ClientResponse res = co_await send(endpoint, req, options, Mode::read, &out.body, body);
  out.status = res.status;
  out.headers = std::move(res.headers);
  out.url = req.url;
  if (body == Body::check) out.text = std::move(res.body);
  co_return out;
}

asio::awaitable<JsonResponse> Client::get(std::string_view endpoint, std::string_view path_or_url,
                                          const CallOptions& options, Body body) {
  net::ClientRequest req;
  req.url = absolute(path_or_url, endpoint);
  req.headers = {auth_, {"Accept", "application/json"}};
  JsonResponse out = co_await read_json(endpoint, req, options, body);
  co_return out;
}

asio::awaitable<JsonResponse> Client::post(std::string_view endpoint, std::string_view path_or_url,
                                           const json::value& request_body, const CallOptions& options, Body body) {
  net::ClientRequest req;
  req.method = "POST";
  req.url = absolute(path_or_url, endpoint);
  req.headers = {auth_, {"Accept", "application/json"}};
  if (!request_body.is_null()) {
    req.headers.push_back({"Content-Type", "application/json"});
    req.body = json::serialize(request_body);
  }
  // Mode::read: a listing POST may be sent again (429, 5xx, a dropped connection) at no cost.
  JsonResponse out = co_await read_json(endpoint, req, options, body);
  co_return out;
}

asio::awaitable<JsonResponse> Client::get_json(std::string_view endpoint, std::string_view path_or_url,
                                               const CallOptions& options) {
  JsonResponse out = co_await get(endpoint, path_or_url, options, Body::parse);
  co_return out;
}

asio::awaitable<JsonResponse> Client::get_page(std::string_view endpoint, std::string_view path_or_url,
                                               const CallOptions& options) {
  JsonResponse out = co_await get(endpoint, path_or_url, options, Body::check);
  co_return out;
}

asio::awaitable<JsonResponse> Client::post_json(std::string_view endpoint, std::string_view path_or_url,
                                                const json::value& body, const CallOptions& options) {
  JsonResponse out = co_await post(endpoint, path_or_url, body, options, Body::parse);
  co_return out;
}

asio::awaitable<JsonResponse> Client::post_page(std::string_view endpoint, std::string_view path_or_url,
                                                const json::value& body, const CallOptions& options) {
  JsonResponse out = co_await post(endpoint, path_or_url, body, options, Body::check);
  co_return out;
}

namespace {

// GET /v1/account and the dlt page's GET /v1/credits both carry the balance as `credits`.
Account balance_of(const JsonResponse& r, const std::string& endpoint) {
  const auto& o = expect_object(r.body, endpoint);
  const json::value* credits = o.if_contains("credits");
  if (credits == nullptr || !credits->is_number()) {
    throw ApiError(ErrorKind::protocol, r.status, endpoint, "", "Magic Hour's " + endpoint + " has no credits field");
  }
  return Account{get_int(o, "credits"), get_string(o, "tier"), o};
}

}  // namespace

asio::awaitable<Account> Client::account(const CallOptions& options) {
  const std::string endpoint = "GET /v1/account";
  JsonResponse r = co_await get_json(endpoint, "/v1/account", options);
  co_return balance_of(r, endpoint);
}

asio::awaitable<Account> Client::credits(const CallOptions& options) {
  const std::string endpoint = "GET /v1/credits";
  JsonResponse r = co_await get_json(endpoint, "/v1/credits", options);
  co_return balance_of(r, endpoint);
}

asio::awaitable<CreateResult> Client::create(CreateKind kind, const json::object& body, const CallOptions& options) {
  const std::string endpoint = "POST " + std::string(endpoint_path(kind));
  if (auto problem = check_create_body(kind, body)) {
    throw ApiError(ErrorKind::validation, 0, endpoint, "",
                   "the request for " + std::string(resource_name(kind)) + " is invalid: " + problem->message +
                       " (checked before sending; nothing was spent)");
  }
  net::ClientRequest req;
  req.method = "POST";
  req.url = absolute(std::string(endpoint_path(kind)), endpoint);
  req.headers = {auth_, {"Content-Type", "application/json"}, {"Accept", "application/json"}};
  req.body = json::serialize(body);
  CallOptions o = options;
  if (o.resource.empty()) o.resource = std::string(resource_name(kind));
  net::ClientResponse res = co_await send(endpoint, req, o, Mode::create);
  // The job exists now; if its id cannot be read, the outcome is uncertain.
  try {
    json::value v = parse_json_body(res.body, endpoint);
    const auto& obj = expect_object(v, endpoint);
    CreateResult out{get_string(obj, "id"), get_int(obj, "credits_charged"), obj};
    if (out.id.empty()) throw ApiError(ErrorKind::protocol, res.status, endpoint, "", "no id in the answer");
    if (metrics_) metrics_->credits_charged(resource_name(kind), out.credits_charged);
    co_return out;
  } catch (const ApiError& e) {
    throw ApiError(ErrorKind::uncertain, res.status, endpoint, "",
                   "Magic Hour accepted " + endpoint + " but its answer could not be read (" + e.what() +
                       "); the job may exist and was not resent");
  }
}

asio::awaitable<Project> Client::project(std::string_view id, const CallOptions& options) {
  const std::string endpoint = "GET /v1/image-projects/{id}";
  const std::string path = "/v1/image-projects/" + net::url_encode(id);
  JsonResponse r = co_await get_json(endpoint, path, options);
  const auto& o = expect_object(r.body, endpoint);
  Project p;
  p.id = get_string(o, "id");
  p.status = get_string(o, "status");
  if (p.id.empty() || p.status.empty()) {
    throw ApiError(ErrorKind::protocol, r.status, endpoint, "", "Magic Hour's project has no id or status");
  }
  if (!valid_project_id(p.id)) {  // the archive names a directory after it
    throw ApiError(ErrorKind::protocol, r.status, endpoint, "",
                   "Magic Hour's project has an id that is not a project id (" +
                       json::serialize(json::string(p.id.substr(0, 100))) + ")");
  }
  p.credits_charged = get_int(o, "credits_charged");
  if (const json::value* e = o.if_contains("enabled"); e && e->is_bool()) p.enabled = e->as_bool();
  if (const json::value* d = o.if_contains("downloads"); d && d->is_array()) {
    for (const auto& item : d->as_array()) {
      if (!item.is_object()) continue;
      p.downloads.push_back({get_string(item.as_object(), "url"), get_string(item.as_object(), "expires_at")});
    }
  }
  if (const json::value* e = o.if_contains("error"); e && e->is_object()) {
    p.error_code = get_string(e->as_object(), "code");
    p.error_message = get_string(e->as_object(), "message");
  }
  p.raw = std::move(r.body.as_object());  // last use of `o`, which points into it
  co_return p;
}

asio::awaitable<void> Client::delete_project(std::string_view id, const CallOptions& options) {
  const std::string endpoint = "DELETE /v1/image-projects/{id}";
  net::ClientRequest req;
  req.method = "DELETE";
  req.url = absolute("/v1/image-projects/" + net::url_encode(id), endpoint);
  req.headers = {auth_};
  co_await send(endpoint, req, options, Mode::read);
}

asio::awaitable<std::vector<UploadSlot>> Client::upload_urls(
    const std::vector<std::pair<std::string, std::string>>& items, const CallOptions& options) {
  const std::string endpoint = "POST /v1/files/upload-urls";
  json::array list;
  for (const auto& [type, ext] : items) list.push_back(json::object{{"type", type}, {"extension", ext}});
  net::ClientRequest req;
  req.method = "POST";
  req.url = absolute("/v1/files/upload-urls", endpoint);
  req.headers = {auth_, {"Content-Type", "application/json"}};
  req.body = json::serialize(json::object{{"items", std::move(list)}});
  // Asking for upload URLs spends nothing: it may be retried like a read.
  net::ClientResponse res = co_await send(endpoint, req, options, Mode::read);
  json::value v = parse_json_body(res.body, endpoint);
  const json::value* arr = expect_object(v, endpoint).if_contains("items");
  if (arr == nullptr || !arr->is_array() || arr->as_array().size() != items.size()) {
    throw ApiError(ErrorKind::protocol, res.status, endpoint, "", "Magic Hour's upload-urls answer has no items");
  }
  std::vector<UploadSlot> out;
  for (const auto& item : arr->as_array()) {
    const auto& o = expect_object(item, endpoint);
    out.push_back({get_string(o, "upload_url"), get_string(o, "file_path"), get_string(o, "expires_at")});
  }
  co_return out;
}

asio::awaitable<void> Client::upload_file(const UploadSlot& slot, std::string_view local_path,
                                          const CallOptions& options) {
  net::ClientRequest req;
  req.method = "PUT";
  req.url = slot.upload_url;
  req.upload_file = std::string(local_path);
  co_await send("PUT upload", req, options, Mode::read);  // a PUT to the same URL may be repeated
}

asio::awaitable<FileResult> Client::download(std::string_view url, std::string_view local_path,
                                             const CallOptions& options) {
  DownloadTarget target;
  target.name = std::string(local_path);
  FileResult out = co_await download(url, target, options);
  co_return out;
}

asio::awaitable<FileResult> Client::download(std::string_view url, const DownloadTarget& target,
                                             const CallOptions& options) {
  net::ClientRequest req;
  req.url = std::string(url);
  req.download_file = target.name;
  req.download_dir_fd = target.dir_fd;
  req.max_download_bytes = target.max_bytes;
  req.download_timeout = target.timeout;
  net::ClientResponse res = co_await send("GET download", req, options, Mode::read);
  co_return FileResult{res.body_bytes, res.sha256};
}

bool valid_project_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  auto ok = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  };
  if (id.front() == '-' || id.front() == '_') return false;
  return std::all_of(id.begin(), id.end(), ok);
}

}  // namespace mh::magichour
