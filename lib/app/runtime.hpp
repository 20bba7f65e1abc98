// The daemon's parts wired together once (I/O loop, blocking pool, database
// pool, HTTP client, concurrency limit, Magic Hour client, monitors, metrics,
// destination), for `serve` and `mhloader run`.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "async/fair_limiter.hpp"
#include "async/io_loop.hpp"
#include "config/config.hpp"
#include "db/pool.hpp"
#include "load/destination.hpp"
#include "magichour/client.hpp"
#include "metrics/metrics.hpp"
#include "monitor/monitors.hpp"
#include "net/http_client.hpp"
#include "pipeline/run.hpp"

namespace mh::app {

class Runtime {
 public:
  explicit Runtime(std::shared_ptr<const config::Config> config);
  ~Runtime();

  pipeline::Services services();
  // A reload that restart_keys() accepted: the Magic Hour client takes the new
  // key, base URL and retry policy; everything else reads the config per run.
  void apply_reload(std::shared_ptr<const config::Config> next);
  // Runs `aw` on the I/O loop until it completes (for the one-shot CLI commands).
  template <class T>
  T run_until(boost::asio::awaitable<T> aw) {
    if (drained_) throw std::logic_error("Runtime::run_until after drain()");
    auto future = boost::asio::co_spawn(io, std::move(aw), boost::asio::use_future);
    io.restart();
    while (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready) io.run_one();
    return future.get();
  }
  std::string instance() const;
  // Ends the loop for good: stops it, lets the blocking pool finish (a libpq call in
  // progress completes), then destroys the coroutines still suspended while every part
  // they use is alive. Whoever owns parts those coroutines use calls it before they go.
  // Nothing may use the loop after it: a wait would complete at once, and a handler
  // posted then would outlive the parts it refers to.
  void drain();

  std::shared_ptr<const config::Config> config;
  async::IoLoop io{1};
  boost::asio::thread_pool blocking{3};
  metrics::Metrics metrics;
  net::HttpClient http;
  async::FairLimiter limiter;
  magichour::Client client;
  db::Pool db;
  monitor::CreditMonitor credits;
  monitor::HealthMonitor health;
  std::unique_ptr<load::Destination> destination;

 private:
  bool drained_ = false;
};

// The keys whose change a reload cannot apply, as "magic_hour.timeout", in
// file order: the HTTP client, the concurrency limit, the database pool, the
// destination and the control listener are built once. Empty: reloadable.
// `bound_port` is the listener's port: "host:0" then naming it is no change.
std::vector<std::string> restart_keys(const config::Config& before, const config::Config& after,
                                      std::uint16_t bound_port = 0);

// A one-line description of where data lands, password as *** ("postgres" / "filesystem").
std::string destination_kind(const config::Config& config);
std::string destination_location(const config::Config& config);

}  // namespace mh::app
