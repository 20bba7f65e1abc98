#include "monitor/monitors.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <deque>

#include "async/blocking.hpp"
#include "async/cancel.hpp"
#include "async/spawn.hpp"
#include "db/ops.hpp"
#include "log/log.hpp"
#include "metrics/metrics.hpp"
#include "util/time.hpp"

namespace mh::monitor {
namespace asio = boost::asio;
using magichour::ApiError;
using magichour::ErrorKind;

namespace {

// Runs `tick` now and then every `interval` until `stopped`.
template <class Impl>
asio::awaitable<void> periodic(std::shared_ptr<Impl> impl, std::chrono::milliseconds interval) {
  while (!impl->stopped) {
    if constexpr (requires { impl->cancel; }) {
      auto stop = impl->cancel;  // held: start() may replace it while this tick is out
      co_await impl->tick(stop.get());
    } else {
      co_await impl->tick();
    }
    if (impl->stopped) break;
    impl->timer.expires_after(interval);
    co_await impl->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

// One loop per monitor: started once, stopped by cancelling its timer and the loop's probe
// in flight (a probe stuck for a minute would otherwise hold up shutdown, and its permit).
// Reads a run asks for (refresh, fresh, probe) are not the loop's: a stop leaves them be.
template <class Impl>
void start_periodic(const std::shared_ptr<Impl>& impl, std::chrono::milliseconds interval) {
  if (!impl->stopped) return;
  impl->stopped = false;
  if constexpr (requires { impl->cancel; }) {
    if (impl->cancel->requested()) impl->cancel = std::make_shared<async::Cancellation>();
  }
  async::spawn(impl->io, periodic(impl, interval), "monitor loop");
}

template <class Impl>
void stop_periodic(Impl& impl) {
  impl.stopped = true;
  impl.timer.cancel();
  if constexpr (requires { impl.cancel; }) impl.cancel->request();
}

}  // namespace

// ----- credits -------------------------------------------------------------------------------

struct CreditMonitor::Impl {
  asio::io_context& io;
  magichour::Client& client;
  config::MonitorConfig config;
  metrics::Metrics* metrics;
  CreditState state;
  asio::steady_timer timer;
  bool stopped = true;
  std::shared_ptr<async::Cancellation> cancel = std::make_shared<async::Cancellation>();  // the loop's, by stop()
  bool use_legacy = false;  // /v1/account answered 404: this API serves only /v1/credits
  std::deque<CreditSample> history;

  Impl(asio::io_context& i, magichour::Client& c, config::MonitorConfig cfg, metrics::Metrics* m)
      : io(i), client(c), config(cfg), metrics(m), timer(i) {}

  asio::awaitable<std::int64_t> read_balance(async::Cancellation* stop) {
    magichour::CallOptions o{"monitor", 0, "credits", stop};
    if (!use_legacy) {
      try {
        auto account = co_await client.account(o);
        state.source = "/v1/account";
        state.raw = std::move(account.raw);
        co_return account.credits;
      } catch (const ApiError& e) {
        if (e.kind() != ErrorKind::not_found) throw;
        log::info("GET /v1/account is not served; reading the balance from /v1/credits");
        use_legacy = true;
      }
    }
    auto legacy = co_await client.credits(o);
    state.source = "/v1/credits";
    state.raw = std::move(legacy.raw);
    co_return legacy.credits;
  }

  // `stop`: the periodic loop's cancellation, none for a read a run asked for.
  asio::awaitable<void> tick(async::Cancellation* stop = nullptr) {
    try {
      const auto sent = std::chrono::steady_clock::now();
      std::int64_t balance = co_await read_balance(stop);
      state.requested = sent;
      bool was_low = state.low;
      bool first = !state.balance.has_value();
      state.balance = balance;
      state.observed_at_ms = util::now_epoch_ms();
      state.observed = std::chrono::steady_clock::now();
      state.low = balance < config.credits.low_balance;
      state.last_error.clear();
      history.push_back({state.observed_at_ms, balance});
      if (history.size() > kHistory) history.pop_front();
      if (metrics) metrics->set_credits(balance, state.low);
      if (state.low && (first || !was_low)) {
        log::warn("credit balance is low", {{"credits", balance}, {"low_balance", config.credits.low_balance}});
      } else if (!state.low && was_low) {
        log::info("credit balance recovered", {{"credits", balance}, {"low_balance", config.credits.low_balance}});
      }
    } catch (const ApiError& e) {
      if (stop != nullptr && stop->requested()) co_return;  // stopped: not a failed read
      if (state.last_error.empty()) log::warn("cannot read the credit balance", {{"error", e.what()}});
      state.last_error = e.what();
    }
  }
};

CreditMonitor::CreditMonitor(asio::io_context& io, magichour::Client& client, config::MonitorConfig config,
                             metrics::Metrics* metrics)
    : impl_(std::make_shared<Impl>(io, client, config, metrics)) {}
CreditMonitor::~CreditMonitor() { stop(); }

void CreditMonitor::start() { start_periodic(impl_, impl_->config.credits.interval); }
void CreditMonitor::stop() { stop_periodic(*impl_); }

const CreditState& CreditMonitor::state() const { return impl_->state; }

std::vector<CreditSample> CreditMonitor::history() const {
  return std::vector<CreditSample>(impl_->history.begin(), impl_->history.end());
}

asio::awaitable<void> CreditMonitor::refresh() { co_await impl_->tick(); }

asio::awaitable<std::optional<CreditState>> CreditMonitor::fresh(std::chrono::milliseconds max_age) {
  auto impl = impl_;
  auto young = [&] {
    return impl->state.balance && std::chrono::steady_clock::now() - impl->state.observed <= max_age;
  };
  if (!young()) co_await impl->tick();
  if (!young()) co_return std::nullopt;
  co_return impl->state;
}

// ----- health --------------------------------------------------------------------------------

struct HealthMonitor::Impl {
  asio::io_context& io;
  magichour::Client& client;
  config::MonitorConfig config;
  metrics::Metrics* metrics;
  HealthState state;
  asio::steady_timer timer;
  bool stopped = true;
  std::shared_ptr<async::Cancellation> cancel = std::make_shared<async::Cancellation>();  // the loop's, by stop()
  bool use_account = false;  // /v1/status answered 404: probe the authenticated /v1/account

  Impl(asio::io_context& i, magichour::Client& c, config::MonitorConfig cfg, metrics::Metrics* m)
      : io(i), client(c), config(cfg), metrics(m), timer(i) {}

  // `stop`: the periodic loop's cancellation, none for a probe a run asked for.
  asio::awaitable<void> tick(async::Cancellation* stop = nullptr) {
    // A probe measures: one attempt, no retries.
    magichour::CallOptions o{"monitor", 1, "status", stop};
    auto started = std::chrono::steady_clock::now();
    bool up = false;
    int status = 0;
    std::string error;
    boost::json::object upstream;
    std::string probe = use_account ? "/v1/account" : "/v1/status";
    try {
      if (!use_account) {
        try {
          auto r = co_await client.get_json("GET /v1/status", "/v1/status", o);
          status = r.status;
          up = r.body.is_object();  // any 2xx JSON object means up
          if (up) upstream = r.body.as_object();
          if (!up) error = "GET /v1/status did not answer a JSON object";
        } catch (const ApiError& e) {
          if (e.kind() != ErrorKind::not_found) throw;
          log::info("GET /v1/status is not served; probing /v1/account for API health");
          use_account = true;
          probe = "/v1/account";
          started = std::chrono::steady_clock::now();
        }
      }
      if (use_account) {
        co_await client.account(o);
        status = 200;
        up = true;
      }
    } catch (const ApiError& e) {
      if (stop != nullptr && stop->requested()) co_return;  // stopped: the API was not found down
      status = e.status();
      error = e.what();
    }
    double latency = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    bool was_up = state.up;
    bool first = !state.probed;
    state.probed = true;
    state.up = up;
    state.http_status = status;
    state.latency_ms = latency;
    state.probe = probe;
    state.last_probe_ms = util::now_epoch_ms();
    state.last_error = error;
    state.upstream = std::move(upstream);
    state.consecutive_failures = up ? 0 : state.consecutive_failures + 1;
    if (metrics) metrics->set_upstream_up(up);
    if (!up && (first || was_up)) {
      log::warn("Magic Hour API is down", {{"probe", probe}, {"status", status}, {"error", error}});
    } else if (up && (first || !was_up)) {
      log::info("Magic Hour API is up", {{"probe", probe}, {"latency_ms", latency}});
    }
  }
};

HealthMonitor::HealthMonitor(asio::io_context& io, magichour::Client& client, config::MonitorConfig config,
                             metrics::Metrics* metrics)
    : impl_(std::make_shared<Impl>(io, client, config, metrics)) {}
HealthMonitor::~HealthMonitor() { stop(); }

void HealthMonitor::start() { start_periodic(impl_, impl_->config.health.interval); }
void HealthMonitor::stop() { stop_periodic(*impl_); }

const HealthState& HealthMonitor::state() const { return impl_->state; }

asio::awaitable<void> HealthMonitor::probe() { co_await impl_->tick(); }

// ----- postgres ------------------------------------------------------------------------------

struct PostgresMonitor::Impl {
  asio::io_context& io;
  asio::thread_pool& blocking;
  db::Pool& db;
  std::chrono::milliseconds interval;
  metrics::Metrics* metrics;
  PostgresState state;
  asio::steady_timer timer;
  bool stopped = true;

  Impl(asio::io_context& i, asio::thread_pool& b, db::Pool& d, std::chrono::milliseconds iv, metrics::Metrics* m)
      : io(i), blocking(b), db(d), interval(iv), metrics(m), timer(i) {}

  asio::awaitable<void> tick() {
    auto count = [this] { return db::submission_counts(db); };
    std::string error;
    std::map<std::string, std::int64_t> counts;
    try {
      counts = co_await async::run_blocking(blocking, count);
    } catch (const std::exception& e) {
      error = e.what();
    }
    const bool was_up = state.up, first = !state.probed;
    state.probed = true;
    state.up = error.empty();
    state.last_probe_ms = util::now_epoch_ms();
    state.last_error = error;
    if (metrics) {
      metrics->set_postgres_up(state.up);
      if (state.up) metrics->set_submissions(counts);
    }
    if (!state.up && (was_up || first)) log::error("postgres is unreachable", {{"error", error}});
    if (state.up && !was_up && !first) log::info("postgres is reachable again");
  }
};

PostgresMonitor::PostgresMonitor(asio::io_context& io, asio::thread_pool& blocking, db::Pool& db,
                                 std::chrono::milliseconds interval, metrics::Metrics* metrics)
    : impl_(std::make_shared<Impl>(io, blocking, db, interval, metrics)) {}
PostgresMonitor::~PostgresMonitor() { stop(); }

void PostgresMonitor::start() { start_periodic(impl_, impl_->interval); }
void PostgresMonitor::stop() { stop_periodic(*impl_); }
const PostgresState& PostgresMonitor::state() const { return impl_->state; }

}  // namespace mh::monitor
