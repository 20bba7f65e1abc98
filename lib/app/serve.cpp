#include "app/serve.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <csignal>
#include <filesystem>
#include <memory>

#include "app/commands.hpp"
#include "app/notify.hpp"
#include "app/runtime.hpp"
#include "app/version.hpp"
#include "async/blocking.hpp"
#include "async/spawn.hpp"
#include "config/dsn.hpp"
#include "config/load.hpp"
#include "control/control_plane.hpp"
#include "db/migrate.hpp"
#include "load/destination.hpp"
#include "load/pending.hpp"
#include "log/log.hpp"
#include "metrics/metrics.hpp"
#include "net/http_server.hpp"
#include "pipeline/validate_config.hpp"
#include "schedule/scheduler.hpp"

namespace mh::app {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

// Every connection is a descriptor: the soft limit (often 1024 outside systemd) goes
// up to the hard one, and a cap above what is left is reported.
void raise_fd_limit(int max_connections) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  if (lim.rlim_cur < lim.rlim_max) {
    rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
  }
  if (lim.rlim_cur != RLIM_INFINITY && static_cast<rlim_t>(max_connections) + 64 > lim.rlim_cur) {
    log::warn("control.max_connections is close to the open-files limit; connections may fail to be accepted",
              {{"max_connections", max_connections}, {"nofile", static_cast<long>(lim.rlim_cur)}});
  }
}

bool prepare_state_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    log::error("cannot create state_dir", {{"path", dir}, {"error", ec.message()}});
    return false;
  }
  if (::access(dir.c_str(), W_OK) != 0) {
    log::error("state_dir is not writable", {{"path", dir}});
    return false;
  }
  return true;
}

class Daemon {
 public:
  Daemon(config::Config cfg, const ServeOptions& opts)
      : cfg_(std::make_shared<const config::Config>(std::move(cfg))), opts_(opts) {}
  // Also when run() ends by an exception: the parts below go before the Runtime, and the
  // coroutines still suspended refer to them.
  ~Daemon() {
    if (rt_) rt_->drain();
  }

  int run() {
    log::info("mhloader starting", {{"version", kVersion},
                                    {"revision", kRevision},
                                    {"config", opts_.config_path},
                                    {"pid", static_cast<long>(::getpid())}});
    if (!prepare_state_dir(cfg_->state_dir)) return 1;
    raise_fd_limit(cfg_->control.max_connections);
    try {
      rt_ = std::make_unique<Runtime>(cfg_);
    } catch (const std::exception& e) {
      log::error("cannot start", {{"error", e.what()}});
      return 1;
    }
    scheduler_ = std::make_unique<schedule::Scheduler>(
        rt_->io,
        [this](std::shared_ptr<const config::Config> cfg) {
          pipeline::Services s = rt_->services();
          s.config = std::move(cfg);
          return s;
        },
        cfg_);
    postgres_ = std::make_unique<monitor::PostgresMonitor>(rt_->io, rt_->blocking, rt_->db, std::chrono::seconds(5),
                                                           &rt_->metrics);
    declare_jobs();
    if (!start_control_plane()) return 1;
    async::spawn(rt_->io, handle_signals(), "signal handler");
    async::spawn(rt_->io, start_database(), "database start");
    // systemd WatchdogSec= (notify): pings come from the I/O thread, so a stuck loop gets restarted.
    if (auto every = watchdog_ping_interval()) async::spawn(rt_->io, watchdog(*every), "systemd watchdog");
    rt_->io.run();
    // Before the parts they use go: a probe or request still suspended is destroyed now.
    rt_->drain();
    server_.reset();
    control_.reset();
    postgres_.reset();
    scheduler_.reset();
    rt_.reset();
    log::info("mhloader stopped");
    return 0;
  }

 private:
  void declare_jobs() {
    std::vector<std::string> names;
    for (const auto& j : cfg_->jobs) names.push_back(j.name);
    rt_->metrics.declare_jobs(names);
  }

  // The listener comes up before the database is ready, so /-/healthy, /-/ready
  // (503 with the reason) and /metrics answer while the daemon waits for Postgres.
  bool start_control_plane() {
    control::ControlDeps deps{rt_->io,
                              rt_->blocking,
                              rt_->db,
                              *scheduler_,
                              rt_->credits,
                              rt_->health,
                              rt_->metrics,
                              [this] { return cfg_; },
                              [this] { return reload(); },
                              [this] { return not_ready(); }};
    control_ = std::make_unique<control::ControlPlane>(std::move(deps));
    const auto& c = cfg_->control;
    net::HttpServerOptions o;
    o.host = c.host;
    o.port = c.port;
    o.max_connections = static_cast<std::size_t>(c.max_connections);
    o.read_timeout = c.read_timeout;
    o.idle_timeout = c.idle_timeout;
    if (c.tls) {
      o.tls_cert_file = c.tls->cert_file;
      o.tls_key_file = c.tls->key_file;
    }
    o.server_header = std::string("mhloader/") + kVersion;
    auto* plane = control_.get();
    server_ =
        std::make_unique<net::HttpServer>(rt_->io, o, [plane](const net::HttpRequest& r) { return plane->handle(r); });
    server_->set_observer([plane](const net::HttpExchange& x) { plane->observe(x); });
    try {
      server_->start();
    } catch (const std::exception& e) {
      log::error("cannot start the control plane", {{"error", e.what()}});
      return false;
    }
    log::info("control plane listening", {{"listen", c.host + ":" + std::to_string(server_->port())},
                                          {"tls", server_->tls()},
                                          {"token", c.token.value.empty() ? "none: /api/v1 is closed" : "set"}});
    return true;
  }

  std::vector<control::NotReady> not_ready() const {
    std::vector<control::NotReady> reasons;
    if (stopping_) reasons.push_back({"shutdown", "shutting down"});
    if (!ready_) {
      reasons.push_back({"database", db_error_.empty() ? std::string("connecting to and migrating the database")
                                                       : "database not ready: " + db_error_});
    } else if (const auto& pg = postgres_->state(); pg.probed && !pg.up) {
      reasons.push_back({"postgres", "postgres unreachable: " + pg.last_error});
    }
    return reasons;
  }

  awaitable<void> handle_signals() {
    asio::signal_set signals(rt_->io, SIGINT, SIGTERM, SIGHUP);
    for (;;) {
      int sig = co_await signals.async_wait(use_awaitable);
      if (sig == SIGHUP) {
        // systemd: RELOADING=1 … READY=1 around a reload, failed or not; before the first
        // READY=1 systemd is still starting us and a reload notification would end that early.
        co_await reload();
        continue;
      }
      notify_stopping();  // systemd: deactivating; no more watchdog pings expected
      log::info("shutting down", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
      co_await shutdown();
      co_return;
    }
  }

  // Stop scheduling, cancel polling, and give a load in progress shutdown_timeout
  // to commit (a load transaction commits or rolls back; never half).
  awaitable<void> shutdown() {
    stopping_ = true;  // /-/ready answers 503 from now on; the listener stays up while the run drains
    scheduler_->stop();
    rt_->credits.stop();
    rt_->health.stop();
    postgres_->stop();
    asio::steady_timer timer(rt_->io);
    auto deadline = std::chrono::steady_clock::now() + cfg_->shutdown_timeout;
    while (!scheduler_->idle() && std::chrono::steady_clock::now() < deadline) {
      timer.expires_after(std::chrono::milliseconds(50));
      co_await timer.async_wait(use_awaitable);
    }
    if (!scheduler_->idle()) log::warn("shutdown_timeout reached with a run in progress; abandoning it");
    // Requests in progress get a moment to finish; their connections then close.
    server_->stop();
    for (int i = 0; i < 20 && server_->connections() > 0; ++i) {
      timer.expires_after(std::chrono::milliseconds(50));
      co_await timer.async_wait(use_awaitable);
    }
    rt_->io.stop();
  }

  // Re-reads the configuration; a bad one is reported and the running one kept.
  // SIGHUP and POST /-/reload both come here.
  awaitable<control::ReloadResult> reload() {
    control::ReloadResult out;
    if (stopping_) {  // the listener stays up while a run drains; nothing may start again
      out.refused = control::ReloadResult::Refused::shutting_down;
      co_return out;
    }
    if (reloading_) {  // SIGHUP and POST /-/reload, or two POSTs: one at a time
      log::warn("reload ignored: another one is in progress");
      out.refused = control::ReloadResult::Refused::in_progress;
      co_return out;
    }
    reloading_ = true;
    std::exception_ptr error;
    try {
      out = co_await reload_config();
    } catch (...) {
      error = std::current_exception();
    }
    reloading_ = false;
    if (error) std::rethrow_exception(error);
    co_return out;
  }

  awaitable<control::ReloadResult> reload_config() {
    // systemd: RELOADING=1 … READY=1 around a reload, failed or not; before the first
    // READY=1 systemd is still starting us and a reload notification would end that early.
    const bool was_ready = ready_;
    if (was_ready) notify_reloading();
    const std::string path = opts_.config_path;
    auto read_config = [&path] { return pipeline::load_config_file(path); };
    auto result = co_await async::run_blocking(rt_->blocking, read_config);
    control::ReloadResult out;
    for (const auto& w : result.warnings) {
      log::warn("configuration warning", {{"detail", w}});
      out.warnings.push_back(w);
    }
    if (!result.config) {
      for (const auto& e : result.errors) {
        log::error("configuration error", {{"detail", e.to_string()}});
        out.errors.push_back(e.to_string());
      }
      log::error("reload failed; keeping the running configuration",
                 {{"config", path}, {"errors", result.errors.size()}});
      rt_->metrics.set_config_reload_successful(false);
      if (was_ready) notify_ready();
      co_return out;
    }
    config::register_secrets(*result.config);
    // All or nothing: a change the running parts cannot take refuses the whole reload.
    if (auto keys = restart_keys(*cfg_, *result.config, server_->port()); !keys.empty()) {
      std::string list;
      for (const auto& k : keys) list += (list.empty() ? "" : ", ") + k;
      std::string message = "these settings need a restart and were not reloaded: " + list;
      log::error("reload refused; keeping the running configuration", {{"config", path}, {"keys", list}});
      out.errors.push_back(std::move(message));
      out.restart_keys = std::move(keys);
      rt_->metrics.set_config_reload_successful(false);
      if (was_ready) notify_ready();
      co_return out;
    }
    apply_log_level(*result.config, opts_.log_level_pinned);
    cfg_ = std::make_shared<const config::Config>(std::move(*result.config));
    rt_->apply_reload(cfg_);
    declare_jobs();
    if (ready_) scheduler_->reload(cfg_);
    rt_->metrics.set_config_reload_successful(true);
    log::info("configuration reloaded", {{"config", path}, {"jobs", cfg_->jobs.size()}});
    out.ok = true;
    out.jobs = cfg_->jobs.size();
    if (was_ready) notify_ready();
    co_return out;
  }

  // Connects and migrates, retrying with backoff (a daemon started before its
  // database waits for it), loads packages a previous process left, then starts
  // the monitors and the scheduler.
  awaitable<void> start_database() {
    asio::steady_timer timer(rt_->io);
    std::chrono::seconds delay{1};
    for (int attempt = 1; !stopping_; ++attempt) {
      const std::string dsn = cfg_->destination.dsn.value;
      const std::string state_dir = cfg_->state_dir;
      auto migrate = [&] {
        auto outcome = db::migrate(dsn);
        try {
          load::resume_packages(state_dir, *rt_->destination);
        } catch (const load::BlockedLoad& e) {
          // The daemon still comes up: each run tries the package again and fails naming it.
          log::error("a pending load package blocks the loads of the dataset", {{"error", e.what()}});
        }
        return outcome;
      };
      try {
        auto outcome = co_await async::run_blocking(rt_->blocking, migrate);
        log::info("database ready", {{"dsn", config::mask_dsn(dsn)},
                                     {"schema_version", outcome.to_version},
                                     {"migrated_from", outcome.from_version}});
        if (stopping_) co_return;
        rt_->credits.start();
        rt_->health.start();
        scheduler_->reload(cfg_);  // the config may have been reloaded while waiting
        postgres_->start();
        log::info("mhloader ready", {{"jobs", cfg_->jobs.size()},
                                     {"listen", cfg_->control.host + ":" + std::to_string(server_->port())}});
        // systemd Type=notify: READY=1 where we log "mhloader ready": the control listener is
        // already up (start_control_plane), the database migrated, monitors and scheduler started.
        ready_ = true;
        db_error_.clear();
        notify_ready();
        co_return;
      } catch (const std::exception& e) {
        db_error_ = e.what();
        log::warn("database not ready; retrying",
                  {{"attempt", attempt}, {"error", e.what()}, {"retry_in_s", static_cast<long>(delay.count())}});
        notify_status("waiting for the database");  // shown by `systemctl status` while starting
      }
      timer.expires_after(delay);
      co_await timer.async_wait(asio::as_tuple(use_awaitable));
      delay = std::min(delay * 2, std::chrono::seconds(30));
    }
  }

  // WATCHDOG=1 every `every` (half of WatchdogSec) until shutdown.
  awaitable<void> watchdog(std::chrono::microseconds every) {
    asio::steady_timer timer(rt_->io);
    while (!stopping_) {
      notify_watchdog();
      timer.expires_after(every);
      co_await timer.async_wait(use_awaitable);
    }
  }

  std::shared_ptr<const config::Config> cfg_;
  ServeOptions opts_;
  std::unique_ptr<Runtime> rt_;
  std::unique_ptr<schedule::Scheduler> scheduler_;
  std::unique_ptr<monitor::PostgresMonitor> postgres_;
  std::unique_ptr<control::ControlPlane> control_;
  std::unique_ptr<net::HttpServer> server_;
  std::string db_error_;  // why the database is not ready yet
  bool reloading_ = false;
  bool stopping_ = false;
  bool ready_ = false;  // READY=1 sent (systemd)
};

}  // namespace

int serve(config::Config config, const ServeOptions& options) {
  Daemon daemon(std::move(config), options);
  return daemon.run();
}

}  // namespace mh::app
