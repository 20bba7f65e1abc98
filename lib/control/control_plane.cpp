#include "control/control_plane.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <cctype>
#include <charconv>
#include <map>
#include <optional>

#include "async/blocking.hpp"
#include "async/spawn.hpp"
#include "control/problem.hpp"
#include "control/router.hpp"
#include "control/views.hpp"
#include "db/inspect.hpp"
#include "db/ops.hpp"
#include "db/pool.hpp"
#include "load/destination.hpp"
#include "load/package_builder.hpp"
#include "log/log.hpp"
#include "metrics/metrics.hpp"
#include "monitor/monitors.hpp"
#include "schedule/scheduler.hpp"

namespace mh::control {

namespace asio = boost::asio;
namespace json = boost::json;
using net::HttpRequest;
using net::HttpResponse;

namespace {

// How old the job list's database part (pause flags, last runs) may be before a
// background refresh; requests never wait for it once it was read once.
constexpr auto kOverviewMaxAge = std::chrono::seconds(1);
// Older than this (nobody asked for a while): the request waits for a fresh read.
constexpr auto kOverviewWaitAge = std::chrono::seconds(5);

HttpResponse json_response(int status, const json::value& body) {
  return HttpResponse::json(status, json::serialize(body));
}

std::optional<std::string> param(const HttpRequest& r, std::string_view name) {
  auto v = r.query_param(name);
  if (v && v->empty()) return std::nullopt;
  return v;
}

std::int64_t parse_int(std::string_view text, std::string_view what, std::int64_t min, std::int64_t max) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v < min || v > max) {
    throw Problem(400, std::string(what) + " must be an integer from " + std::to_string(min) + " to " +
                           std::to_string(max) + ", not '" + std::string(text.substr(0, 64)) + "'");
  }
  return v;
}

std::int64_t int_param(const HttpRequest& r, std::string_view name, std::int64_t fallback, std::int64_t min,
                       std::int64_t max) {
  auto v = param(r, name);
  return v ? parse_int(*v, "query parameter '" + std::string(name) + "'", min, max) : fallback;
}

template <std::size_t N>
std::optional<std::string> enum_param(const HttpRequest& r, std::string_view name, const char* const (&allowed)[N]) {
  auto v = param(r, name);
  if (!v) return v;
  std::string list;
  for (const char* a : allowed) {
    if (*v == a) return v;
    list += list.empty() ? a : std::string(", ") + a;
  }
  throw Problem(400, "query parameter '" + std::string(name) + "' must be one of " + list);
}

// A listener address only this machine reaches.
bool is_loopback(const std::string& host) { return host == "localhost" || host == "::1" || host.starts_with("127."); }

// The host of a Host header: lower case, without the port and IPv6 brackets.
std::string host_name(std::string_view header) {
  std::string_view h = header;
  if (h.starts_with("[")) {
    h = h.substr(1, h.find(']') == std::string_view::npos ? h.size() : h.find(']') - 1);
  } else if (auto colon = h.rfind(':'); colon != std::string_view::npos) {
    h = h.substr(0, colon);
  }
  std::string out(h);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

}  // namespace

struct ControlPlane::Impl : std::enable_shared_from_this<Impl> {
  using Handler = asio::awaitable<HttpResponse> (Impl::*)(const HttpRequest&, const PathParams&);
  struct Entry {
    const char* method;
    const char* path;
    bool auth;
    Handler handler;
  };
  static const std::vector<Entry>& table();

  ControlDeps deps;
  Router router;
  std::map<std::string, db::JobOverview> overview;
  std::optional<std::chrono::steady_clock::time_point> overview_at;
  bool overview_refreshing = false;
  std::uint64_t overview_edits = 0;  // local changes (pause/resume) a read started earlier must not undo

  explicit Impl(ControlDeps d) : deps(std::move(d)) {}

  void build_router() {
    for (const auto& e : table()) {
      Handler h = e.handler;
      // Only Impl::handle calls these, and ControlPlane::handle holds the Impl meanwhile.
      router.add(Route{e.method, e.path, e.auth,
                       [this, h](const HttpRequest& r, const PathParams& p) { return (this->*h)(r, p); }});
    }
  }

  // ----- jobs --------------------------------------------------------------------------------

  asio::awaitable<void> refresh_overview() {
    std::vector<std::string> jobs;
    for (const auto& j : deps.config()->jobs) jobs.push_back(j.name);
    auto q = [this, &jobs] { return db::job_overview(deps.db, jobs); };
    const std::uint64_t edits = overview_edits;
    try {
      auto fresh = co_await async::run_blocking(deps.blocking, q);
      if (edits == overview_edits) {
        overview = std::move(fresh);
        overview_at = std::chrono::steady_clock::now();
      }
    } catch (const std::exception& e) {
      log::debug("cannot refresh the job overview", {{"error", e.what()}});
    }
    overview_refreshing = false;
  }

  static asio::awaitable<void> refresh_in_background(std::shared_ptr<Impl> self) { co_await self->refresh_overview(); }

  // The database's view of the jobs: read once, then refreshed in the background
  // so the job list answers from memory while a big load keeps Postgres busy.
  asio::awaitable<void> ensure_overview() {
    if (!overview_at) {
      for (int i = 0; i < 3 && !overview_at; ++i) co_await refresh_overview();
      if (!overview_at) throw Problem(503, "the job state cannot be read from Postgres");
    } else if (overview_refreshing) {
      // A read is on its way; answer from memory meanwhile.
    } else if (std::chrono::steady_clock::now() - *overview_at > kOverviewWaitAge) {
      overview_refreshing = true;
      co_await refresh_overview();  // after a quiet spell: read it now rather than answer old news
    } else if (std::chrono::steady_clock::now() - *overview_at > kOverviewMaxAge) {
      overview_refreshing = true;
      async::spawn(deps.io, refresh_in_background(shared_from_this()), "control plane refresh");
    }
  }

  const config::JobConfig& configured_job(const config::Config& cfg, const std::string& name) {
    for (const auto& j : cfg.jobs) {
      if (j.name == name) return j;
    }
    throw Problem(404, "no job named '" + name + "' is configured");
  }

  json::object job_view(const config::JobConfig& j, const schedule::JobStatus* status) const {
    auto ov = overview.find(j.name);
    return job_json(j, status, ov == overview.end() ? nullptr : &ov->second);
  }

  asio::awaitable<HttpResponse> list_jobs(const HttpRequest&, const PathParams&) {
    co_await ensure_overview();
    auto cfg = deps.config();
    const auto statuses = deps.scheduler.jobs();
    json::array jobs;
    for (const auto& j : cfg->jobs) {
      auto st = statuses.find(j.name);
      jobs.push_back(job_view(j, st == statuses.end() ? nullptr : &st->second));
    }
    co_return json_response(200, json::object{{"jobs", std::move(jobs)}});
  }

  asio::awaitable<HttpResponse> get_job(const HttpRequest&, const PathParams& p) {
    auto cfg = deps.config();
    const config::JobConfig& job = configured_job(*cfg, p.at("job"));
    co_await ensure_overview();
    const auto status = deps.scheduler.job(job.name);
    co_return json_response(200, job_view(job, status ? &*status : nullptr));
  }

  asio::awaitable<HttpResponse> trigger(const HttpRequest&, const PathParams& p) {
    auto cfg = deps.config();
    const std::string& name = configured_job(*cfg, p.at("job")).name;
    schedule::TriggerResult r = co_await deps.scheduler.trigger(name);
    using K = schedule::TriggerResult::Kind;
    switch (r.kind) {
      case K::started: {
        log::info("run triggered over HTTP", {{"job", name}, {"run_id", r.run_id}});
        HttpResponse res = json_response(
            202,
            json::object{{"run_id", r.run_id}, {"job", name}, {"href", "/api/v1/runs/" + std::to_string(r.run_id)}});
        res.set_header("Location", "/api/v1/runs/" + std::to_string(r.run_id));
        co_return res;
      }
      case K::already_running:
        co_return problem_response(409, "job '" + name + "' is already running", {{"run_id", r.run_id}});
      case K::locked_elsewhere:
        co_return problem_response(409, "job '" + name + "' is running in another mhloader process");
      case K::unknown_job: co_return problem_response(503, "jobs are not scheduled yet (waiting for the database)");
      case K::stopping: co_return problem_response(503, "mhloader is shutting down");
      case K::failed: break;
    }
    co_return problem_response(500, "the run could not start: " + r.error);
  }

  asio::awaitable<HttpResponse> set_paused(const std::string& job, bool paused) {
    auto q = [&] { db::set_paused(deps.db, job, paused); };
    co_await async::run_blocking(deps.blocking, q);
    overview[job].paused = paused;
    ++overview_edits;
    log::info(paused ? "job paused" : "job resumed", {{"job", job}});
    co_return json_response(200, json::object{{"job", job}, {"paused", paused}});
  }

  asio::awaitable<HttpResponse> pause(const HttpRequest&, const PathParams& p) {
    auto cfg = deps.config();
    const std::string& name = configured_job(*cfg, p.at("job")).name;
    co_return co_await set_paused(name, true);
  }

  asio::awaitable<HttpResponse> resume(const HttpRequest&, const PathParams& p) {
    auto cfg = deps.config();
    const std::string& name = configured_job(*cfg, p.at("job")).name;
    co_return co_await set_paused(name, false);
  }

  // ----- runs --------------------------------------------------------------------------------

  asio::awaitable<HttpResponse> list_runs(const HttpRequest& req, const PathParams&) {
    const auto job = param(req, "job");
    const auto status = enum_param(req, "status", db::kRunStatuses);
    const int limit = static_cast<int>(int_param(req, "limit", 50, 1, 500));
    std::optional<std::int64_t> before;
    if (auto b = param(req, "before")) before = parse_int(*b, "query parameter 'before'", 1, INT64_MAX);
    auto q = [&] { return db::list_runs(deps.db, job, status, limit, before); };
    std::vector<db::RunRow> rows = co_await async::run_blocking(deps.blocking, q);
    json::array runs;
    for (const auto& r : rows) {
      json::object o = run_json(r);
      if (auto live = deps.scheduler.live(r.id)) overlay_live(o, *live);
      runs.push_back(std::move(o));
    }
    json::value next = nullptr;
    if (static_cast<int>(rows.size()) == limit) next = rows.back().id;
    co_return json_response(200, json::object{{"runs", std::move(runs)}, {"next_before", next}});
  }

  static std::int64_t run_id(const PathParams& p) { return parse_int(p.at("id"), "the run id", 1, INT64_MAX); }

  asio::awaitable<HttpResponse> get_run(const HttpRequest&, const PathParams& p) {
    const std::int64_t id = run_id(p);
    auto q = [&] { return db::get_run(deps.db, id); };
    std::optional<db::RunRow> row = co_await async::run_blocking(deps.blocking, q);
    if (!row) throw Problem(404, "no run " + std::to_string(id));
    json::object o = run_json(*row);
    if (auto live = deps.scheduler.live(id)) overlay_live(o, *live);
    co_return json_response(200, o);
  }

  asio::awaitable<HttpResponse> cancel_run(const HttpRequest&, const PathParams& p) {
    const std::int64_t id = run_id(p);
    if (deps.scheduler.cancel(id)) {
      co_return json_response(202, json::object{{"run_id", id}, {"status", "cancelling"}});
    }
    auto q = [&] { return db::get_run(deps.db, id); };
    std::optional<db::RunRow> row = co_await async::run_blocking(deps.blocking, q);
    if (!row) throw Problem(404, "no run " + std::to_string(id));
    if (row->status != "running")
      throw Problem(409, "run " + std::to_string(id) + " has already ended: " + row->status);
    throw Problem(409, "run " + std::to_string(id) +
                           " is not running in this mhloader process (another process runs it, or it was "
                           "interrupted and resumes with the job's next run)");
  }

  // ----- credits, upstream, submissions, loads, schema ---------------------------------------

  asio::awaitable<HttpResponse> credits(const HttpRequest&, const PathParams&) {
    auto cfg = deps.config();
    json::object o = credits_json(deps.credits.state(), deps.credits.history(), cfg->monitor.credits);
    co_return json_response(200, o);
  }

  asio::awaitable<HttpResponse> upstream(const HttpRequest&, const PathParams&) {
    json::object o = upstream_json(deps.health.state());
    co_return json_response(200, o);
  }

  asio::awaitable<HttpResponse> list_submissions(const HttpRequest& req, const PathParams&) {
    const auto state = enum_param(req, "state", db::kSubmissionStates);
    const int limit = static_cast<int>(int_param(req, "limit", 100, 1, 1000));
    auto q = [&] { return db::list_submissions(deps.db, state, limit); };
    std::vector<db::Submission> rows = co_await async::run_blocking(deps.blocking, q);
    json::array out;
    for (const auto& s : rows) out.push_back(submission_json(s));
    co_return json_response(200, json::object{{"submissions", std::move(out)}});
  }

  asio::awaitable<HttpResponse> resolve_submission(const HttpRequest& req, const PathParams& p) {
    json::object body = parse_json_body(req);
    const json::value* action = body.if_contains("action");
    if (!action || !action->is_string() || (action->as_string() != "retry" && action->as_string() != "abandon")) {
      throw Problem(400, R"(the body must be {"action": "retry"} or {"action": "abandon"})");
    }
    const std::string key = p.at("key");
    const std::string what(action->as_string());
    auto q = [&] { return db::resolve_submission(deps.db, key, what); };
    db::ResolveOutcome r = co_await async::run_blocking(deps.blocking, q);
    if (r == db::ResolveOutcome::not_found) throw Problem(404, "no submission with key '" + key + "'");
    if (r == db::ResolveOutcome::not_uncertain) throw Problem(409, "only an uncertain submission can be resolved");
    log::warn("uncertain submission resolved by an operator", {{"key", key}, {"action", what}});
    co_return json_response(
        200, json::object{{"key", key}, {"action", what}, {"state", what == "abandon" ? "abandoned" : "removed"}});
  }

  asio::awaitable<HttpResponse> loads(const HttpRequest& req, const PathParams&) {
    auto cfg = deps.config();
    if (cfg->destination.type != config::DestinationType::postgres) {
      throw Problem(409, "the destination is the filesystem; _dlt_loads is listed for the postgres destination");
    }
    const int limit = static_cast<int>(int_param(req, "limit", 50, 1, 1000));
    const auto before = param(req, "before");
    const std::string dataset = load::normalize_dataset_name(cfg->destination.dataset);
    auto q = [&] { return db::recent_loads(deps.db, dataset, limit, before); };
    std::vector<db::LoadRow> rows = co_await async::run_blocking(deps.blocking, q);
    json::array out;
    for (const auto& l : rows) out.push_back(load_json(l));
    co_return json_response(200, json::object{{"dataset", dataset}, {"loads", std::move(out)}});
  }

  asio::awaitable<HttpResponse> schema(const HttpRequest&, const PathParams&) {
    auto cfg = deps.config();
    // The destination's stored schema: the union of what every job and replica loaded.
    auto q = [&]() -> std::optional<normalize::Schema> {
      try {
        auto s = load::make_destination(cfg->destination)->stored_schema(load::kSchemaName);
        return s ? std::move(s) : std::optional<normalize::Schema>(normalize::Schema(load::kSchemaName));
      } catch (const std::exception& e) {
        log::warn("cannot read the stored schema", {{"error", e.what()}});
        return std::nullopt;
      }
    };
    std::optional<normalize::Schema> s = co_await async::run_blocking(deps.blocking, q);
    if (!s) co_return problem_response(503, "the stored schema cannot be read from the destination");
    co_return json_response(200, schema_json(*s, load::normalize_dataset_name(cfg->destination.dataset)));
  }

  // ----- operations --------------------------------------------------------------------------

  asio::awaitable<HttpResponse> healthy(const HttpRequest&, const PathParams&) {
    co_return json_response(200, json::object{{"status", "healthy"}});
  }

  // Without the token only the names of the failing checks: libpq's text names the
  // database host and user, which an unauthenticated prober has no business reading.
  asio::awaitable<HttpResponse> ready(const HttpRequest& req, const PathParams&) {
    std::vector<NotReady> failing = deps.not_ready();
    if (failing.empty()) co_return json_response(200, json::object{{"status", "ready"}});
    json::array checks;
    std::string names;
    for (const auto& f : failing) {
      checks.push_back(json::value(f.check));
      names += (names.empty() ? "" : ", ") + f.check;
    }
    if (!bearer_matches(req, deps.config()->control.token.value)) {
      co_return problem_response(503, "not ready; failing checks: " + names, {{"failing", std::move(checks)}});
    }
    json::array list;
    for (auto& f : failing) list.push_back(json::value(f.reason));
    co_return problem_response(503, failing.front().reason,
                               {{"failing", std::move(checks)}, {"reasons", std::move(list)}});
  }

  asio::awaitable<HttpResponse> reload(const HttpRequest& req, const PathParams&) {
    // No token on /-/* (docs/design.md §Control plane) while only this host can reach it; but a web page
    // must not make a browser post here.
    if (req.header("Origin")) throw Problem(403, "cross-origin requests to /-/reload are refused");
    if (!is_loopback(deps.config()->control.host) && !bearer_matches(req, deps.config()->control.token.value))
      co_return unauthorized();
    ReloadResult r = co_await deps.reload();
    if (r.refused == ReloadResult::Refused::shutting_down) throw Problem(503, "mhloader is shutting down");
    if (r.refused == ReloadResult::Refused::in_progress) throw Problem(409, "a reload is already in progress");
    json::array warnings;
    for (const auto& w : r.warnings) warnings.push_back(json::value(w));
    if (!r.ok) {
      json::array errors;
      for (const auto& e : r.errors) errors.push_back(json::value(e));
      json::array restart;
      for (const auto& k : r.restart_keys) restart.push_back(json::value(k));
      const char* detail = r.restart_keys.empty() ? "the new configuration has errors; the running one is kept"
                                                  : "the new configuration changes settings that need a restart; "
                                                    "the running one is kept";
      co_return problem_response(
          400, detail,
          {{"errors", std::move(errors)}, {"warnings", std::move(warnings)}, {"restart_keys", std::move(restart)}});
    }
    co_return json_response(200, json::object{{"status", "reloaded"}, {"jobs", r.jobs}, {"warnings", warnings}});
  }

  asio::awaitable<HttpResponse> metrics(const HttpRequest&, const PathParams&) {
    auto render = [this] { return deps.metrics.serialize(); };  // reads /proc: off the I/O thread
    std::string text = co_await async::run_blocking(deps.blocking, render);
    co_return HttpResponse::text(200, std::move(text), metrics::Metrics::kContentType);
  }

  asio::awaitable<HttpResponse> dashboard(const HttpRequest&, const PathParams&) {
    co_return HttpResponse::text(200, std::string(dashboard_page()), "text/html; charset=utf-8");
  }

  asio::awaitable<HttpResponse> openapi(const HttpRequest&, const PathParams&) {
    co_return HttpResponse::text(200, std::string(openapi_document()), "application/json");
  }

  // ----- dispatch ----------------------------------------------------------------------------

  // DNS rebinding: a web page whose name resolves to this listener sends its own
  // name as Host. The probes are exempt: they reveal nothing and Kubernetes sends
  // the pod's IP. No Host header (HTTP/1.0 probes) is no browser.
  bool host_allowed(const HttpRequest& req) const {
    if (req.path == "/-/healthy" || req.path == "/-/ready") return true;
    const auto header = req.header("Host");
    if (!header) return true;
    const auto cfg = deps.config();
    std::vector<std::string> allowed = cfg->control.allowed_hosts;
    if (allowed.empty()) {
      if (!is_loopback(cfg->control.host)) return true;
      allowed = {"localhost", "127.0.0.1", "::1"};
    }
    const std::string host = host_name(*header);
    return std::find(allowed.begin(), allowed.end(), host) != allowed.end();
  }

  HttpResponse unauthorized() const {
    const bool configured = !deps.config()->control.token.value.empty();
    HttpResponse r =
        problem_response(401, configured ? "a valid 'Authorization: Bearer <token>' header is required"
                                         : "no control token is configured (control.token_file); /api/v1 is closed");
    r.set_header("WWW-Authenticate", "Bearer realm=\"mhloader\"");
    return r;
  }

  asio::awaitable<HttpResponse> handle(const HttpRequest& req) {
    // Under /api/v1 the token comes first: without it, 404 and 405 would map the API.
    const bool api = req.path == "/api/v1" || req.path.starts_with("/api/v1/");
    std::optional<bool> token_ok;  // two digests per check: computed at most once
    auto authorized = [&] {
      if (!token_ok) token_ok = bearer_matches(req, deps.config()->control.token.value);
      return *token_ok;
    };
    if (!host_allowed(req)) {
      co_return problem_response(403,
                                 "the Host header names a host this control plane does not answer for "
                                 "(control.allowed_hosts)");
    }
    if (api && !authorized()) co_return unauthorized();
    Match m = router.match(req.method, req.path);
    if (!m.route) {
      if (m.allowed.empty()) co_return problem_response(404, "no route " + req.path.substr(0, 200));
      std::string allow;
      for (const auto& a : m.allowed) allow += (allow.empty() ? "" : ", ") + a;
      HttpResponse r = problem_response(405, req.method + " is not allowed here; allowed: " + allow);
      r.set_header("Allow", allow);
      co_return r;
    }
    if (m.route->auth && !authorized()) co_return unauthorized();
    // Problems are answers; anything else is our bug, logged with its message and
    // answered without it (it may hold details a client should not see).
    std::optional<HttpResponse> answer;
    std::optional<Problem> problem;
    try {
      answer = co_await m.route->handler(req, m.params);
    } catch (const Problem& p) {
      problem = p;
    } catch (const db::Unavailable& e) {
      problem = Problem(503, std::string("postgres is unavailable: ") + e.what());
    } catch (const std::exception& e) {
      log::error("control request failed", {{"route", m.route->name()}, {"error", e.what()}});
      problem = Problem(500, "internal error; see the daemon's log");
    }
    if (problem) co_return problem_response(problem->status(), problem->what(), problem->extra());
    co_return std::move(*answer);
  }

  void observe(const net::HttpExchange& x) {
    std::string route = "unmatched";
    if (!x.request.method.empty()) {
      Match m = router.match(x.request.method, x.request.path);
      if (m.route) route = m.route->name();
    }
    const double seconds = std::chrono::duration<double>(x.duration).count();
    deps.metrics.control_request(route, x.status, seconds);
    if (x.request.method.empty()) {
      log::info("control request refused before it parsed",
                {{"status", x.status}, {"remote", x.request.remote_address}});
    } else if (x.status >= 400) {
      // The path only: a query string is the client's and may carry anything.
      log::info("control request refused", {{"method", x.request.method},
                                            {"path", x.request.path.substr(0, 200)},
                                            {"status", x.status},
                                            {"remote", x.request.remote_address}});
    } else {
      log::debug("control request", {{"method", x.request.method},
                                     {"path", x.request.path.substr(0, 200)},
                                     {"status", x.status},
                                     {"ms", seconds * 1000}});
    }
  }
};

const std::vector<ControlPlane::Impl::Entry>& ControlPlane::Impl::table() {
  static const std::vector<Entry> t{
      {"GET", "/-/healthy", false, &Impl::healthy},
      {"GET", "/-/ready", false, &Impl::ready},
      {"POST", "/-/reload", false, &Impl::reload},
      {"GET", "/metrics", false, &Impl::metrics},
      {"GET", "/", false, &Impl::dashboard},
      {"GET", "/api/v1/jobs", true, &Impl::list_jobs},
      {"GET", "/api/v1/jobs/{job}", true, &Impl::get_job},
      {"POST", "/api/v1/jobs/{job}/runs", true, &Impl::trigger},
      {"POST", "/api/v1/jobs/{job}/pause", true, &Impl::pause},
      {"POST", "/api/v1/jobs/{job}/resume", true, &Impl::resume},
      {"GET", "/api/v1/runs", true, &Impl::list_runs},
      {"GET", "/api/v1/runs/{id}", true, &Impl::get_run},
      {"POST", "/api/v1/runs/{id}/cancel", true, &Impl::cancel_run},
      {"GET", "/api/v1/credits", true, &Impl::credits},
      {"GET", "/api/v1/upstream", true, &Impl::upstream},
      {"GET", "/api/v1/submissions", true, &Impl::list_submissions},
      {"POST", "/api/v1/submissions/{key}/resolve", true, &Impl::resolve_submission},
      {"GET", "/api/v1/loads", true, &Impl::loads},
      {"GET", "/api/v1/schema", true, &Impl::schema},
      {"GET", "/api/v1/openapi.json", true, &Impl::openapi},
  };
  return t;
}

ControlPlane::ControlPlane(ControlDeps deps) : impl_(std::make_shared<Impl>(std::move(deps))) { impl_->build_router(); }

ControlPlane::~ControlPlane() = default;

asio::awaitable<HttpResponse> ControlPlane::handle(const HttpRequest& request) {
  auto impl = impl_;
  co_return co_await impl->handle(request);
}

void ControlPlane::observe(const net::HttpExchange& exchange) { impl_->observe(exchange); }

std::vector<RouteInfo> route_table() {
  std::vector<RouteInfo> out;
  for (const auto& e : ControlPlane::Impl::table()) out.push_back({e.method, e.path, e.auth});
  return out;
}

}  // namespace mh::control
