// The control plane (docs/design.md §Control plane, docs/control-plane.md): /api/v1/* (Bearer token), /-/healthy,
// /-/ready, /-/reload, /metrics, the dashboard and the OpenAPI document, as one
// handler for net::HttpServer, plus its observer (control metrics, access log).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "net/http_message.hpp"
#include "net/http_server.hpp"

namespace boost::asio {
class io_context;
class thread_pool;
}  // namespace boost::asio
namespace mh::db {
class Pool;
}
namespace mh::metrics {
class Metrics;
}
namespace mh::monitor {
class CreditMonitor;
class HealthMonitor;
}  // namespace mh::monitor
namespace mh::schedule {
class Scheduler;
}

namespace mh::control {

struct ReloadResult {
  enum class Refused { no, shutting_down, in_progress };
  Refused refused = Refused::no;  // not attempted
  bool ok = false;
  std::size_t jobs = 0;
  std::vector<std::string> errors;        // "file:line: key: message"
  std::vector<std::string> restart_keys;  // changed keys a reload cannot apply ("destination.dsn")
  std::vector<std::string> warnings;
};

// One failing readiness check: `check` is its name ("shutdown", "database",
// "postgres"), all a client without the token sees; `reason` is for operators.
struct NotReady {
  std::string check;
  std::string reason;  // redacted: no password, but libpq's host and user
};

// What the routes read and act on; all references outlive the control plane.
struct ControlDeps {
  boost::asio::io_context& io;
  boost::asio::thread_pool& blocking;
  db::Pool& db;
  schedule::Scheduler& scheduler;
  monitor::CreditMonitor& credits;
  monitor::HealthMonitor& health;
  metrics::Metrics& metrics;
  std::function<std::shared_ptr<const config::Config>()> config;  // the running configuration
  std::function<boost::asio::awaitable<ReloadResult>()> reload;   // the SIGHUP path
  std::function<std::vector<NotReady>()> not_ready;               // why not ready; empty when ready
};

class ControlPlane {
 public:
  explicit ControlPlane(ControlDeps deps);
  ~ControlPlane();
  ControlPlane(const ControlPlane&) = delete;
  ControlPlane& operator=(const ControlPlane&) = delete;

  boost::asio::awaitable<net::HttpResponse> handle(const net::HttpRequest& request);
  void observe(const net::HttpExchange& exchange);

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

struct RouteInfo {
  std::string method;
  std::string path;  // template, e.g. /api/v1/runs/{id}
  bool auth;
};
// Every route the control plane serves (for the OpenAPI check and the docs).
std::vector<RouteInfo> route_table();

std::string_view openapi_document();  // OpenAPI 3 JSON
std::string_view dashboard_page();    // HTML

}  // namespace mh::control
