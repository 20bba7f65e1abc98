// The credit monitor, the API health monitor and the Postgres monitor: periodic
// probes whose latest state other modules read (the credit guard, the control
// plane and its readiness, metrics).
// They log one line per transition (balance low / recovered, API down / up),
// not one per tick.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "magichour/client.hpp"

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

struct CreditState {
  std::optional<std::int64_t> balance;  // unset until the first successful read
  std::int64_t observed_at_ms = 0;      // wall clock of that read
  std::chrono::steady_clock::time_point observed{};
  // When that read was sent: the balance shows every charge made before it (the credit guard).
  std::chrono::steady_clock::time_point requested{};
  std::string source;       // "/v1/account" or "/v1/credits"
  boost::json::object raw;  // the upstream answer of that read
  bool low = false;
  std::string last_error;  // empty after a successful read
};

struct CreditSample {
  std::int64_t at_ms;
  std::int64_t balance;
};

class CreditMonitor {
 public:
  CreditMonitor(boost::asio::io_context& io, magichour::Client& client, config::MonitorConfig config,
                metrics::Metrics* metrics = nullptr);
  ~CreditMonitor();

  void start();  // reads now, then every credits.interval
  void stop();
  const CreditState& state() const;
  // The balances read, oldest first (the last kHistory; a day at the default 5m interval).
  std::vector<CreditSample> history() const;
  static constexpr std::size_t kHistory = 288;
  // A balance no older than `max_age`, reading one now if needed; nullopt if none can be read.
  boost::asio::awaitable<std::optional<CreditState>> fresh(std::chrono::milliseconds max_age);
  // One read now (the periodic loop uses it too).
  boost::asio::awaitable<void> refresh();

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

struct HealthState {
  bool up = false;
  bool probed = false;
  int http_status = 0;  // 0 when no answer
  double latency_ms = 0;
  std::string probe;  // "/v1/status" or "/v1/account"
  int consecutive_failures = 0;
  std::int64_t last_probe_ms = 0;
  std::string last_error;
  boost::json::object upstream;  // the /v1/status body, when served
};

class HealthMonitor {
 public:
  HealthMonitor(boost::asio::io_context& io, magichour::Client& client, config::MonitorConfig config,
                metrics::Metrics* metrics = nullptr);
  ~HealthMonitor();

  void start();
  void stop();
  const HealthState& state() const;
  boost::asio::awaitable<void> probe();

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

struct PostgresState {
  bool up = false;
  bool probed = false;
  std::int64_t last_probe_ms = 0;
  std::string last_error;  // libpq's message (it may quote the DSN: redact before showing it)
};

// Probes the operations database (and counts the generation ledger per state
// for mhloader_submissions); readiness is judged on its latest state.
class PostgresMonitor {
 public:
  PostgresMonitor(boost::asio::io_context& io, boost::asio::thread_pool& blocking, db::Pool& db,
                  std::chrono::milliseconds interval, metrics::Metrics* metrics = nullptr);
  ~PostgresMonitor();

  void start();
  void stop();
  const PostgresState& state() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace mh::monitor
