// magichour-sim: a local stand-in for the Magic Hour API (see --help).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <charconv>
#include <csignal>
#include <iostream>

#include "log/log.hpp"
#include "net/http_server.hpp"
#include "simulator.hpp"
#include "util/duration.hpp"

namespace {

constexpr const char* kHelp = R"(Usage: magichour-sim [OPTIONS]

A local simulator of the Magic Hour REST API (https://api.magichour.ai/v1) for
mhloader's tests and its development setup. It follows the public API reference:
Bearer auth, the image generator and upscaler creates with their validation,
credits debited at create and refunded on error (an image costs the model's price
x the resolution's factor x image_count: 640px and 1k x1, 2k x2, 4k x4; `auto` is
the tier's resolution: free 640px, creator and pro 1k, business 2k), image projects moving
queued -> rendering -> complete|error, downloads and uploads served by the
simulator itself, /v1/account and cursor-paged /v1/saved-items.

Options:
  --listen HOST:PORT        address to listen on (default 127.0.0.1:8687; port 0 = any free)
  --api-key KEY             accepted API key; repeatable (default: sim-dev-key)
  --tls-cert FILE           serve HTTPS with this certificate chain (PEM) ...
  --tls-key FILE            ... and this private key
  --public-url URL          base of download/upload URLs (default: the listen address)
  --seed N                  random seed for ids, saved items and error draws (default 1)
  --saved-items N           number of saved items (default 250)
  --render-time [EP=]DUR    render time, for all creates or one endpoint, e.g.
                            --render-time 2s --render-time ai-image-upscaler=5s (default 2s)
  --error-rate P            share of projects that end in `error` (0..1, default 0)
  --credits N               starting credit balance (default 10000)
  --tier TIER               free, creator, pro or business (default pro)
  --legacy-endpoints on|off serve the dlt page's /v1/credits, /v1/models, /v1/status
                            (default on; off acts like the real API, which lacks them)
  --fault SPEC              inject a fault; repeatable. SPEC is
                              METHOD ROUTE KIND [first=N | rate=P] [retry_after=V]
                            ROUTE is a path template or *, e.g. /v1/image-projects/{id};
                            KIND is status=NNN, latency=DUR, reset, drop_after,
                            truncate or bad_json. Examples:
                              "GET /v1/saved-items status=429 retry_after=1 first=2"
                              "POST /v1/ai-image-generator drop_after first=1"
                              "* * latency=200ms rate=0.1"
  --project-id ID           every create answers this id, however hostile (e.g. ../../x)
  --output-bytes N          every output file (download) has N bytes
  --output-stall DUR        answer downloads only after DUR (a stalled download)
  --big-page BYTES          serve GET /v1/_test/big-page (test-only): [0,0,…] of BYTES bytes
  --log-requests            log every request to stderr
  -h, --help                this help

Test-only shapes (NOT part of the real API, served with --legacy-endpoints on):
  GET /v1/credits  {"credits": <balance>, "tier": "<tier>"}
  GET /v1/models   {"data": [{"id", "name", "type", "endpoint", "credits_per_image",
                    "resolutions", "image_counts", "min_tier"}]}
  GET /v1/status   {"status": "operational", "time": "<ISO 8601>", "version": "magichour-sim"}

Test-only listings over the saved items (NOT part of the real API; oldest first), one per
dlt paginator the real API does not use, and one read by POST (dlt's `method: POST`):
  GET /v1/_test/saved-items/offset?offset=&limit=     {"items": [...], "total": N}
  GET /v1/_test/saved-items/pages?page=&per_page=     {"data": [...], "total_pages": P}  (1-based)
  GET /v1/_test/saved-items/links?after=              {"results": [...], "next": "/v1/...?after=K" | null}
  GET /v1/_test/saved-items/header-links?after=       [...] with Link: <URL>; rel="next"
  GET /v1/_test/saved-items/since?since=ISO           {"items": [...]} created at or after `since`
  GET /v1/_test/saved-items/typed-int|typed-text      {"items": [5 × {"id", "size"}]}, size an integer or text
  POST /v1/_test/saved-items/search?offset=|cursor=|page=&limit=  body {"filter": {"type": T}} (optional)
                            (with &next=URL the answer also carries "next": URL, a hostile link)
                                                      {"items": [...], "total": N, "pages": P, "next_cursor": "K" | null}
                                                      the body filters, the query string pages (page 1-based, limit 10)

Admin routes (no auth):
  GET/PUT/POST/DELETE /_sim/faults   list, replace, add, clear fault rules
                                     (body {"faults": ["SPEC", ...]} or rule objects)
  GET /_sim/ledger                   every create processed: project id, endpoint,
                                     request body SHA-256, credits debited and refunded
  GET /_sim/stats                    requests per route and status (0 = no response)
  GET/POST /_sim/state               credits, tier, legacy_endpoints, render_time_ms, error_rate,
                                     saved_items

On start it prints "magichour-sim listening on URL" to stdout.
)";

int usage(const std::string& msg) {
  std::cerr << "magichour-sim: " << msg << "\nRun 'magichour-sim --help' for usage.\n";
  return 2;
}

template <class T>
bool parse_number(const std::string& s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace mh;
  sim::SimOptions opt;
  net::HttpServerOptions server;
  server.port = 8687;
  server.max_body_bytes = 64 * 1024 * 1024;  // uploads
  server.max_connections = 4096;
  server.server_header = "magichour-sim";
  std::vector<std::string> faults;
  std::optional<std::string> public_url;
  bool keys_given = false;
  bool log_requests = false;

  std::vector<std::string> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> std::optional<std::string> {
      if (i + 1 < args.size()) return args[++i];
      return std::nullopt;
    };
    if (a == "-h" || a == "--help") {
      std::cout << kHelp;
      return 0;
    }
    if (a == "--log-requests") {
      log_requests = true;
      continue;
    }
    auto v = value();
    if (!v) return usage(a + " needs a value");
    std::string err;
    if (a == "--listen") {
      auto colon = v->rfind(':');
      unsigned port = 0;
      if (colon == std::string::npos || !parse_number(v->substr(colon + 1), port) || port > 65535) {
        return usage("--listen takes HOST:PORT");
      }
      server.host = v->substr(0, colon);
      if (server.host.size() > 2 && server.host.front() == '[')
        server.host = server.host.substr(1, server.host.size() - 2);
      server.port = static_cast<std::uint16_t>(port);
    } else if (a == "--api-key") {
      if (!keys_given) opt.api_keys.clear();
      keys_given = true;
      opt.api_keys.insert(*v);
    } else if (a == "--tls-cert") {
      server.tls_cert_file = *v;
    } else if (a == "--tls-key") {
      server.tls_key_file = *v;
    } else if (a == "--public-url") {
      public_url = *v;
    } else if (a == "--seed") {
      if (!parse_number(*v, opt.seed)) return usage("--seed takes a number");
    } else if (a == "--saved-items") {
      if (!parse_number(*v, opt.saved_items) || opt.saved_items < 0) return usage("--saved-items takes a count");
    } else if (a == "--render-time") {
      auto eq = v->find('=');
      auto d = util::parse_duration(eq == std::string::npos ? *v : v->substr(eq + 1), err);
      if (!d) return usage("--render-time: " + err);
      if (eq == std::string::npos) {
        opt.render_time = *d;
      } else {
        opt.render_time_for[v->substr(0, eq)] = *d;
      }
    } else if (a == "--error-rate") {
      if (!parse_number(*v, opt.error_rate) || opt.error_rate < 0 || opt.error_rate > 1) {
        return usage("--error-rate takes a number from 0 to 1");
      }
    } else if (a == "--credits") {
      if (!parse_number(*v, opt.credits)) return usage("--credits takes a number");
    } else if (a == "--tier") {
      auto t = magichour::parse_tier(*v);
      if (!t) return usage("--tier takes free, creator, pro or business");
      opt.tier = *t;
    } else if (a == "--legacy-endpoints") {
      if (*v != "on" && *v != "off") return usage("--legacy-endpoints takes on or off");
      opt.legacy_endpoints = *v == "on";
    } else if (a == "--fault") {
      faults.push_back(*v);
    } else if (a == "--project-id") {
      opt.project_id = *v;
    } else if (a == "--output-bytes") {
      std::size_t n = 0;
      if (!parse_number(*v, n)) return usage("--output-bytes takes a byte count");
      opt.output_bytes = n;
    } else if (a == "--output-stall") {
      auto d = util::parse_duration(*v, err);
      if (!d) return usage("--output-stall: " + err);
      opt.output_stall = *d;
    } else if (a == "--big-page") {
      if (!parse_number(*v, opt.big_page_bytes)) return usage("--big-page takes a byte count");
    } else {
      return usage("unknown option '" + a + "'");
    }
  }
  if (server.tls_cert_file.has_value() != server.tls_key_file.has_value()) {
    return usage("--tls-cert and --tls-key go together");
  }
  for (const auto& k : opt.api_keys) log::register_secret(k);

  sim::Simulator simulator(opt);
  for (const auto& spec : faults) {
    std::string err;
    auto rule = sim::parse_fault(spec, err);
    if (!rule) return usage("--fault: " + err);
    simulator.faults().add(std::move(*rule));
  }

  boost::asio::io_context io(1);
  net::HttpServer http(io, server, [&](const net::HttpRequest& req) -> boost::asio::awaitable<net::HttpResponse> {
    co_return simulator.handle(req);
  });
  if (log_requests) {
    http.set_observer([](const net::HttpExchange& x) {
      log::info("request", {{"method", x.request.method},
                            {"path", x.request.path},
                            {"status", x.status},
                            {"us", static_cast<long>(x.duration.count())}});
    });
  }
  try {
    http.start();
  } catch (const std::exception& e) {
    std::cerr << "magichour-sim: " << e.what() << "\n";
    return 1;
  }
  std::string host = server.host.find(':') != std::string::npos ? "[" + server.host + "]" : server.host;
  std::string base = (http.tls() ? "https://" : "http://") + host + ":" + std::to_string(http.port());
  simulator.set_public_url(public_url.value_or(base));
  std::cout << "magichour-sim listening on " << base << "/v1 (legacy endpoints "
            << (opt.legacy_endpoints ? "on" : "off") << ", tier " << magichour::tier_name(opt.tier) << ")" << std::endl;

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) {
    http.stop();
    io.stop();
  });
  io.run();
  return 0;
}
