#include "app/serve.hpp"

#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <csignal>
#include <filesystem>
#include <memory>

#include "app/notify.hpp"
#include "app/version.hpp"
#include "async/blocking.hpp"
#include "config/dsn.hpp"
#include "config/load.hpp"
#include "db/migrate.hpp"
#include "log/log.hpp"

namespace mh::app {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

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

  int run() {
    log::info("mhloader starting", {{"version", kVersion},
                                    {"revision", kRevision},
                                    {"config", opts_.config_path},
                                    {"pid", static_cast<long>(::getpid())}});
    if (!prepare_state_dir(cfg_->state_dir)) return 1;
    asio::co_spawn(io_, handle_signals(), asio::detached);
    asio::co_spawn(io_, start_database(), asio::detached);
    // systemd WatchdogSec= (notify): pings come from the I/O thread, so a stuck loop gets restarted.
    if (auto every = watchdog_ping_interval()) asio::co_spawn(io_, watchdog(*every), asio::detached);
    io_.run();
    // Blocking work may still be finishing a libpq call; it cannot touch io_ once it is stopped.
    blocking_.join();
    log::info("mhloader stopped");
    return exit_code_;
  }

 private:
  awaitable<void> handle_signals() {
    asio::signal_set signals(io_, SIGINT, SIGTERM, SIGHUP);
    for (;;) {
      int sig = co_await signals.async_wait(use_awaitable);
      if (sig == SIGHUP) {
        // systemd: RELOADING=1 … READY=1 around a reload, failed or not; before the first
        // READY=1 systemd is still starting us and a reload notification would end that early.
        const bool was_ready = ready_;
        if (was_ready) notify_reloading();
        co_await reload();
        if (was_ready) notify_ready();
        continue;
      }
      notify_stopping();  // systemd: deactivating; no more watchdog pings expected
      log::info("shutting down", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
      stopping_ = true;
      io_.stop();
      co_return;
    }
  }

  // Re-reads the configuration; a bad one is reported and the running one kept.
  awaitable<void> reload() {
    const std::string path = opts_.config_path;
    auto read_config = [&path] { return config::load_file(path); };
    auto result = co_await async::run_blocking(blocking_, read_config);
    for (const auto& w : result.warnings) log::warn("configuration warning", {{"detail", w}});
    if (!result.config) {
      for (const auto& e : result.errors) log::error("configuration error", {{"detail", e.to_string()}});
      log::error("reload failed; keeping the running configuration",
                 {{"config", path}, {"errors", result.errors.size()}});
      co_return;
    }
    config::register_secrets(*result.config);
    if (!opts_.log_level_pinned) {
      log::set_level(log::parse_level(result.config->log.level).value_or(log::Level::info));
    }
    cfg_ = std::make_shared<const config::Config>(std::move(*result.config));
    log::info("configuration reloaded", {{"config", path}, {"jobs", cfg_->jobs.size()}});
  }

  // Connects and migrates, retrying with backoff: a daemon started before its
  // database keeps waiting for it instead of exiting.
  awaitable<void> start_database() {
    asio::steady_timer timer(io_);
    std::chrono::seconds delay{1};
    for (int attempt = 1; !stopping_; ++attempt) {
      const std::string dsn = cfg_->destination.dsn.value;
      auto migrate = [&dsn] { return db::migrate(dsn); };
      try {
        auto outcome = co_await async::run_blocking(blocking_, migrate);
        log::info("database ready", {{"dsn", config::mask_dsn(dsn)},
                                     {"schema_version", outcome.to_version},
                                     {"migrated_from", outcome.from_version}});
        log::info("mhloader ready", {{"jobs", cfg_->jobs.size()}, {"listen", cfg_->control.listen}});
        // systemd Type=notify: READY=1 where we log "mhloader ready" (keep them together
        // when this moves after the control listener comes up).
        ready_ = true;
        notify_ready();
        co_return;
      } catch (const std::exception& e) {
        log::warn("database not ready; retrying",
                  {{"attempt", attempt}, {"error", e.what()}, {"retry_in_s", static_cast<long>(delay.count())}});
        notify_status("waiting for the database");  // shown by `systemctl status` while starting
      }
      timer.expires_after(delay);
      co_await timer.async_wait(use_awaitable);
      delay = std::min(delay * 2, std::chrono::seconds(30));
    }
  }

  // WATCHDOG=1 every `every` (half of WatchdogSec) until shutdown.
  awaitable<void> watchdog(std::chrono::microseconds every) {
    asio::steady_timer timer(io_);
    while (!stopping_) {
      notify_watchdog();
      timer.expires_after(every);
      co_await timer.async_wait(use_awaitable);
    }
  }

  std::shared_ptr<const config::Config> cfg_;
  ServeOptions opts_;
  asio::io_context io_{1};
  asio::thread_pool blocking_{2};
  bool stopping_ = false;
  bool ready_ = false;  // READY=1 sent (systemd)
  int exit_code_ = 0;
};

}  // namespace

int serve(config::Config config, const ServeOptions& options) {
  Daemon daemon(std::move(config), options);
  return daemon.run();
}

}  // namespace mh::app
