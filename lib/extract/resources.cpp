#include "extract/resources.hpp"

#include <boost/json.hpp>

#include "extract/page_guard.hpp"
#include "extract/select.hpp"
#include "extract/stream_select.hpp"
#include "log/log.hpp"
#include "magichour/catalog.hpp"
#include "monitor/monitors.hpp"
#include "net/http_message.hpp"
#include "net/url.hpp"
#include "util/cursor_order.hpp"
#include "util/hash.hpp"
#include "util/numeric.hpp"
#include "util/time.hpp"

namespace mh::extract {
namespace asio = boost::asio;
namespace json = boost::json;
using magichour::ApiError;
using magichour::ErrorKind;
using normalize::WriteDisposition;

json::object ResourceOutcome::to_json() const {
  json::object o{{"name", name}, {"status", status}, {"pages", pages}, {"rows", records}};
  o["error"] = error.empty() ? json::value(nullptr) : json::value(error);
  return o;
}

json::array to_json(const std::vector<ResourceOutcome>& outcomes) {
  json::array a;
  for (const auto& r : outcomes) a.push_back(r.to_json());
  return a;
}

normalize::Resource builtin_hints(const std::string& name) {
  if (name == "models" || name == "image_projects") return {name, WriteDisposition::merge, {"id"}, std::nullopt};
  return {name, WriteDisposition::append, {}, std::nullopt};  // credits, status: one snapshot per run
}

normalize::Resource rest_hints(const config::ResourceConfig& r) {
  return {r.name, r.write_disposition, r.primary_key, r.max_table_nesting};
}

namespace {

// The path of a next-page request: a full URL's target, or the relative path itself.
std::string path_of(const std::string& next) {
  if (next.find("://") == std::string::npos) return next;
  std::string err;
  auto url = net::parse_url(next, err);
  return url ? url->target : next;
}

bool is_cancelled(const Context& ctx) { return ctx.cancelled != nullptr && *ctx.cancelled; }

// Hands a batch of a page's records to the sink.
asio::awaitable<void> emit_batch(PageSink& sink, const normalize::Resource& hints, ResourceOutcome& out,
                                 std::vector<json::value>& records) {
  out.records += static_cast<std::int64_t>(records.size());
  if (!records.empty()) co_await sink.page(hints, records);
}

void page_done(Context& ctx, ResourceOutcome& out) {
  out.pages += 1;
  if (ctx.progress) ctx.progress(out);
}

// Emits one page, whole, and reports progress.
asio::awaitable<void> emit(Context& ctx, PageSink& sink, const normalize::Resource& hints, ResourceOutcome& out,
                           std::vector<json::value>& records) {
  co_await emit_batch(sink, hints, out, records);
  page_done(ctx, out);
}

// ----- built-in resources --------------------------------------------------------------------

asio::awaitable<void> credits(Context& ctx, PageSink& sink, ResourceOutcome& out) {
  co_await ctx.credits.refresh();
  const auto& st = ctx.credits.state();
  if (!st.balance) throw std::runtime_error(st.last_error.empty() ? "no balance could be read" : st.last_error);
  json::object record = st.raw;
  record["credits"] = *st.balance;  // the balance is always in `credits`
  record["source"] = st.source;
  record["observed_at"] = util::format_iso8601_ms(st.observed_at_ms);
  std::vector<json::value> page{std::move(record)};
  auto hints = builtin_hints("credits");
  co_await emit(ctx, sink, hints, out, page);
}

asio::awaitable<void> status(Context& ctx, PageSink& sink, ResourceOutcome& out) {
  co_await ctx.health.probe();
  const auto& st = ctx.health.state();
  json::object record = st.upstream;  // the upstream fields, when /v1/status serves them
  record["observed_at"] = util::format_iso8601_ms(st.last_probe_ms);
  record["up"] = st.up;
  record["latency_ms"] = st.latency_ms;
  record["http_status"] = st.http_status;
  record["probe"] = st.probe;
  if (!st.last_error.empty()) record["error"] = st.last_error;
  std::vector<json::value> page{std::move(record)};
  auto hints = builtin_hints("status");
  co_await emit(ctx, sink, hints, out, page);
}

asio::awaitable<void> models(Context& ctx, PageSink& sink, ResourceOutcome& out) {
  auto r = co_await ctx.client.get_json("GET /v1/models", "/v1/models", ctx.call);
  std::vector<json::value> page;
  auto take = [&](json::array& list) {  // moved, not copied: the answer is ours
    page.assign(std::make_move_iterator(list.begin()), std::make_move_iterator(list.end()));
  };
  if (r.body.is_array()) {
    take(r.body.as_array());
  } else if (json::value* data = r.body.is_object() ? r.body.as_object().if_contains("data") : nullptr;
             data && data->is_array()) {
    take(data->as_array());
  } else {
    throw ApiError(ErrorKind::protocol, r.status, "GET /v1/models", "",
                   "GET /v1/models answered neither a list nor an object with a data list");
  }
  auto hints = builtin_hints("models");
  co_await emit(ctx, sink, hints, out, page);
}

asio::awaitable<void> image_projects(Context& ctx, PageSink& sink, ResourceOutcome& out) {
  auto hints = builtin_hints("image_projects");
  std::vector<json::value> page;
  for (const auto& id : ctx.known_projects) {
    if (is_cancelled(ctx)) co_return;
    try {
      auto p = co_await ctx.client.project(id, ctx.call);
      if (ctx.on_project) co_await ctx.on_project(p);
      page.push_back(p.raw);
    } catch (const ApiError& e) {
      if (e.kind() != ErrorKind::not_found) throw;
      log::warn("a known project is gone upstream", {{"project", id}});
    }
    if (page.size() >= 100) {
      co_await emit(ctx, sink, hints, out, page);
      page.clear();
    }
  }
  co_await emit(ctx, sink, hints, out, page);
}

// ----- REST resources ------------------------------------------------------------------------

std::string query_string(const json::object& params) {
  std::string q;
  for (const auto& kv : params) {
    std::string v;
    const json::value& val = kv.value();
    if (val.is_string()) {
      v = std::string(val.as_string());
    } else if (val.is_null()) {
      continue;
    } else {
      v = json::serialize(val);
    }
    q += (q.empty() ? "" : "&") + net::url_encode(kv.key()) + "=" + net::url_encode(v);
  }
  return q;
}

std::string with_query(const std::string& path, const json::object& params) {
  std::string q = query_string(params);
  if (q.empty()) return path;
  return path + (path.find('?') == std::string::npos ? "?" : "&") + q;
}

bool truthy(const json::value* v) {
  if (v == nullptr || v->is_null()) return false;
  if (v->is_bool()) return v->as_bool();
  if (v->is_string()) return !v->as_string().empty();
  if (v->is_number()) return v->to_number<double>() != 0;
  return true;
}

std::optional<std::int64_t> as_int(const json::value* v) {
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return util::to_int64(static_cast<double>(v->as_uint64()));  // past int64: not a count
  if (v->is_double()) return util::to_int64(v->as_double());
  if (v->is_string()) {
    try {
      return std::stoll(std::string(v->as_string()));
    } catch (...) {
    }
  }
  return std::nullopt;
}

// The rel="next" target of an RFC 8288 Link header.
std::optional<std::string> link_next(const std::string& header, const std::string& rel) {
  std::size_t pos = 0;
  while (pos < header.size()) {
    std::size_t open = header.find('<', pos);
    std::size_t close = header.find('>', open);
    if (open == std::string::npos || close == std::string::npos) break;
    std::size_t end = header.find(',', close);
    std::string params = header.substr(close + 1, end == std::string::npos ? std::string::npos : end - close - 1);
    if (params.find("rel=\"" + rel + "\"") != std::string::npos || params.find("rel=" + rel) != std::string::npos) {
      return header.substr(open + 1, close - open - 1);
    }
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return std::nullopt;
}

using util::compare_cursor;

// dlt deduplicates the closed start of an incremental range by these hashes.
std::string row_key(const json::value& record, const std::vector<std::string>& pk) {
  if (pk.empty() || !record.is_object()) return util::sha256_hex(json::serialize(record));
  json::array keys;
  for (const auto& k : pk) {
    const json::value* v = record.as_object().if_contains(k);
    keys.push_back(v ? *v : json::value(nullptr));
  }
  return util::sha256_hex(json::serialize(keys));
}

}  // namespace

asio::awaitable<ResourceOutcome> extract_builtin(const std::string& name, Context& ctx, PageSink& sink) {
  ResourceOutcome out{name};
  try {
    if (name == "credits") {
      co_await credits(ctx, sink, out);
    } else if (name == "status") {
      co_await status(ctx, sink, out);
    } else if (name == "models") {
      co_await models(ctx, sink, out);
    } else if (name == "image_projects") {
      co_await image_projects(ctx, sink, out);
    } else {
      throw std::invalid_argument("unknown built-in resource " + name);
    }
    if (is_cancelled(ctx)) out.status = "cancelled";
  } catch (const ApiError& e) {
    // An API without the endpoint (the real one has no /v1/models): skipped, not failed.
    out.status = e.kind() == ErrorKind::not_found ? "skipped" : "failed";
    out.error = e.what();
  } catch (const std::exception& e) {
    out.status = "failed";
    out.error = e.what();
  }
  if (out.status == "skipped") log::warn("resource skipped", {{"resource", name}, {"reason", out.error}});
  co_return out;
}

asio::awaitable<ResourceOutcome> extract_rest(const config::ResourceConfig& r, const json::object& cursor_state,
                                              Context& ctx, PageSink& sink) {
  ResourceOutcome out{r.name};
  const auto& ep = r.endpoint;
  const auto& pg = ep.paginator;
  const normalize::Resource hints = rest_hints(r);
  const std::string endpoint = ep.method + " /v1/" + (ep.path.starts_with("/") ? ep.path.substr(1) : ep.path);

  // Incremental: start at the stored last value (else initial_value); rows at
  // the boundary already loaded are recognised by their hashes.
  std::optional<json::value> start;
  json::array boundary;
  if (r.incremental) {
    if (const json::value* lv = cursor_state.if_contains("last_value")) start = *lv;
    if (!start && !r.incremental->initial_value.is_null()) start = r.incremental->initial_value;
    if (const json::value* h = cursor_state.if_contains("unique_hashes"); h && h->is_array()) boundary = h->as_array();
  }
  std::optional<json::value> last = start;
  json::array last_hashes = boundary;

  json::object params = ep.params;
  if (r.incremental && start) params[r.incremental->param] = *start;
  std::int64_t offset = pg.offset;
  std::int64_t page_no = pg.page.value_or(pg.base_page);
  if (pg.type == config::PaginatorType::offset) {
    params[pg.offset_param] = offset;
    params[pg.limit_param] = pg.limit;
  } else if (pg.type == config::PaginatorType::page_number) {
    params[pg.page_param] = page_no;
  }
  std::string next = with_query(ep.path, params);
  const json::value body = ep.json.value_or(json::value(nullptr));  // null: no body
  // The JSON paths, parsed once (the config validated them): not once per record or page.
  auto parsed = [](std::string_view text) {
    std::string error;
    return config::parse_json_path(text, error);
  };
  const auto cursor_value_path = r.incremental ? parsed(r.incremental->cursor_path) : std::nullopt;
  const auto next_url_path = parsed(pg.next_url_path);
  const auto total_path = pg.total_path ? parsed(*pg.total_path) : std::nullopt;
  const auto has_more_path = pg.has_more_path ? parsed(*pg.has_more_path) : std::nullopt;
  const auto next_cursor_path = parsed(pg.cursor_path);
  std::vector<const config::JsonPath*> paginator_paths;  // read after the records are taken
  for (const auto* p : {&next_url_path, &total_path, &has_more_path, &next_cursor_path}) {
    if (*p) paginator_paths.push_back(&**p);
  }
  auto find = [](const json::value& root, const std::optional<config::JsonPath>& path) -> const json::value* {
    return path ? find_value(root, *path) : nullptr;
  };
  // dlt's incremental, record by record across batches and pages: rows before the start,
  // and the start's rows already loaded, are dropped; the newest cursor value is tracked.
  auto keep_new = [&](std::vector<json::value>& records) {
    std::vector<json::value> kept;
    for (auto& rec : records) {
      const json::value* c = find(rec, cursor_value_path);
      if (c == nullptr || c->is_null()) {
        kept.push_back(std::move(rec));  // dlt raises here by default; we keep the row
        continue;
      }
      std::optional<std::string> key;  // the row's hash, computed only for boundary rows, once
      auto hash = [&]() -> const std::string& {
        if (!key) key = row_key(rec, r.primary_key);
        return *key;
      };
      if (start) {
        int cmp = compare_cursor(*c, *start);
        if (cmp < 0) continue;
        if (cmp == 0 && std::find(boundary.begin(), boundary.end(), json::value(hash())) != boundary.end()) continue;
      }
      const int vs_last = last ? compare_cursor(*c, *last) : 1;
      if (vs_last > 0) {
        last = *c;
        last_hashes.clear();
      }
      if (vs_last >= 0) last_hashes.push_back(json::value(hash()));
      kept.push_back(std::move(rec));
    }
    records = std::move(kept);
  };
  PageGuard guard(r.max_pages);
  try {
    for (;;) {
      if (is_cancelled(ctx)) {
        out.status = "cancelled";
        break;
      }
      // Before the request: a looping cursor or link never fetches (nor loads) a page twice.
      if (auto stop = guard.admit(next)) throw std::runtime_error(*stop);
      // POST (dlt's `method: POST` + `json:`): the same body on every page; `params` and the
      // paginators' parameters stay in the query string, as for GET (paginators name query
      // parameters only), so every paginator pages a POST the same way.
      magichour::JsonResponse res;
      if (ep.method == "POST") {
        res = co_await ctx.client.post_page(endpoint, next, body, ctx.call);
      } else {
        res = co_await ctx.client.get_page(endpoint, next, ctx.call);
      }
      // The page streams (docs/memory.md): its records reach the sink batch by batch while
      // the rest is parsed. The client checked the whole text is JSON, and the stream checks
      // it again before its first batch: no record of a malformed page is ever loaded.
      PageStream page(res.text, ep.data_selector, paginator_paths);
      std::size_t page_size = 0;
      std::vector<json::value> records;
      while (page.next(records)) {
        page_size += records.size();
        if (r.incremental) keep_new(records);
        co_await emit_batch(sink, hints, out, records);
      }
      page_done(ctx, out);
      const json::value& page_body = page.rest();

      // The next request, per paginator.
      std::optional<std::string> following;
      switch (pg.type) {
        case config::PaginatorType::none:
        case config::PaginatorType::single_page: {
          const json::value* limit = ep.params.if_contains("limit");
          bool full = limit && as_int(limit) && static_cast<std::int64_t>(page_size) == *as_int(limit);
          if (pg.type == config::PaginatorType::none && full) {
            log::warn("one full page and no paginator: rows beyond it were not fetched; configure a paginator",
                      {{"resource", r.name}, {"rows", page_size}});
          }
          break;
        }
        case config::PaginatorType::json_link: {
          const json::value* link = find(page_body, next_url_path);
          if (link && link->is_string() && !link->as_string().empty()) {
            std::string err;
            auto base = net::parse_url(res.url, err);
            following = base ? net::resolve_url(*base, std::string(link->as_string())) : std::string(link->as_string());
          }
          break;
        }
        case config::PaginatorType::header_link: {
          if (auto h = res.header("Link")) {
            if (auto target = link_next(*h, pg.links_next_key)) {
              std::string err;
              auto base = net::parse_url(res.url, err);
              following = base ? net::resolve_url(*base, *target) : *target;
            }
          }
          break;
        }
        case config::PaginatorType::offset: {
          offset += pg.limit;
          auto total = as_int(find(page_body, total_path));
          bool more = !(pg.stop_after_empty_page && page_size == 0) && !(total && offset >= *total) &&
                      !(pg.maximum && offset >= *pg.maximum);
          if (pg.has_more_path) more = more && truthy(find(page_body, has_more_path));
          if (!total && !pg.has_more_path && static_cast<std::int64_t>(page_size) < pg.limit) more = false;
          if (more) {
            params[pg.offset_param] = offset;
            following = with_query(ep.path, params);
          }
          break;
        }
        case config::PaginatorType::page_number: {
          ++page_no;
          auto total = as_int(find(page_body, total_path));
          bool more = !(pg.stop_after_empty_page && page_size == 0) && !(total && page_no >= *total + pg.base_page) &&
                      !(pg.maximum && page_no > *pg.maximum);
          if (pg.has_more_path) more = more && truthy(find(page_body, has_more_path));
          if (more) {
            params[pg.page_param] = page_no;
            following = with_query(ep.path, params);
          }
          break;
        }
        case config::PaginatorType::cursor: {
          const json::value* c = find(page_body, next_cursor_path);
          bool more = truthy(c) && !(pg.stop_after_empty_page && page_size == 0);
          if (pg.has_more_path) more = more && truthy(find(page_body, has_more_path));
          if (more) {
            params[pg.cursor_param] = c->is_string() ? json::value(c->as_string()) : *c;
            following = with_query(ep.path, params);
          }
          break;
        }
      }
      if (!following) break;
      // The same body posted to a create endpoint would create (and bill) projects
      // outside the ledger: a POST resource's next page must not lead there.
      if (ep.method == "POST" && magichour::is_create_endpoint(path_of(*following))) {
        throw std::runtime_error("the next page of POST resource '" + r.name +
                                 "' points at a Magic Hour create endpoint; refused (it would create and bill "
                                 "projects)");
      }
      next = *following;
    }
  } catch (const ApiError& e) {
    bool skip = e.kind() == ErrorKind::not_found && r.on_not_found == config::OnNotFound::skip;
    out.status = skip ? "skipped" : "failed";
    out.error = e.what();
    if (skip) log::warn("resource skipped", {{"resource", r.name}, {"reason", out.error}});
  } catch (const std::exception& e) {
    out.status = "failed";
    out.error = e.what();
  }
  if (r.incremental && out.status == "succeeded" && last) {
    out.cursor = json::object{
        {"cursor_path", r.incremental->cursor_path}, {"last_value", *last}, {"unique_hashes", last_hashes}};
  }
  co_return out;
}

}  // namespace mh::extract
