#include "app/runtime.hpp"

#include <unistd.h>

#include "app/version.hpp"
#include "config/dsn.hpp"
#include "net/retry.hpp"

namespace mh::app {

namespace {

net::HttpClientOptions http_options(const config::Config& c) {
  net::HttpClientOptions o;
  o.connect_timeout = c.magic_hour.connect_timeout;
  o.timeout = c.magic_hour.timeout;
  o.max_response_bytes = static_cast<std::size_t>(c.magic_hour.max_response_bytes);
  o.ca_file = c.magic_hour.ca_file;
  o.user_agent = std::string("mhloader/") + kVersion;
  o.proxy = net::ProxySettings::from_environment();
  return o;
}

// The one place the configured retry policy becomes the HTTP client's.
net::RetryPolicy retry_policy(const config::RetryConfig& r) {
  return net::RetryPolicy{r.max_attempts, r.initial_delay, r.max_delay};
}

magichour::ClientSettings client_settings(const config::Config& c) {
  magichour::ClientSettings s;
  s.base_url = c.magic_hour.base_url;
  s.api_key = c.magic_hour.api_key.value;
  s.api_key_source = c.magic_hour.api_key.source;
  s.retry = retry_policy(c.magic_hour.retry);
  return s;
}

}  // namespace

Runtime::Runtime(std::shared_ptr<const config::Config> cfg)
    : config(std::move(cfg)),
      metrics(kVersion, kRevision),
      http(io, blocking, http_options(*config)),
      limiter(io.get_executor(), static_cast<std::size_t>(config->magic_hour.max_concurrency)),
      client(http, limiter, client_settings(*config), &metrics),
      db(config->destination.dsn.value),
      credits(io, client, config->monitor, &metrics),
      health(io, client, config->monitor, &metrics),
      destination(load::make_destination(config->destination)) {}

Runtime::~Runtime() {
  credits.stop();
  health.stop();
  drain();
}

void Runtime::drain() {
  drained_ = true;
  io.stop();
  blocking.join();
  io.abandon_pending();
}

std::string Runtime::instance() const {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(::getpid());
}

pipeline::Services Runtime::services() {
  return pipeline::Services{config, io, blocking, db, client, credits, health, *destination, &metrics, instance()};
}

void Runtime::apply_reload(std::shared_ptr<const config::Config> next) {
  client.update_settings(client_settings(*next));
  config = std::move(next);
}

std::vector<std::string> restart_keys(const config::Config& a, const config::Config& b, std::uint16_t bound_port) {
  std::vector<std::string> keys;
  auto check = [&keys](bool changed, const char* key) {
    if (changed) keys.emplace_back(key);
  };
  const auto& m = a.magic_hour;
  const auto& n = b.magic_hour;
  check(m.timeout != n.timeout, "magic_hour.timeout");
  check(m.connect_timeout != n.connect_timeout, "magic_hour.connect_timeout");
  check(m.max_concurrency != n.max_concurrency, "magic_hour.max_concurrency");
  check(m.ca_file != n.ca_file, "magic_hour.ca_file");
  check(m.max_response_bytes != n.max_response_bytes, "magic_hour.max_response_bytes");
  const auto& d = a.destination;
  const auto& e = b.destination;
  check(d.type != e.type, "destination.type");
  check(d.dsn.value != e.dsn.value, "destination.dsn");
  check(d.dataset != e.dataset, "destination.dataset");
  check(d.filesystem.path != e.filesystem.path || d.filesystem.format != e.filesystem.format, "destination.filesystem");
  const auto& c = a.control;
  const auto& k = b.control;
  const bool same_port = c.port == k.port || (c.port == 0 && k.port == bound_port);
  check(c.host != k.host || !same_port, "control.listen");
  const bool tls_changed = c.tls.has_value() != k.tls.has_value() ||
                           (c.tls && (c.tls->cert_file != k.tls->cert_file || c.tls->key_file != k.tls->key_file));
  check(tls_changed, "control.tls");
  check(c.max_connections != k.max_connections, "control.max_connections");
  check(c.read_timeout != k.read_timeout, "control.read_timeout");
  check(c.idle_timeout != k.idle_timeout, "control.idle_timeout");
  // The monitors copy their settings once (monitor.credits.reserve is read per run).
  check(a.monitor.credits.interval != b.monitor.credits.interval, "monitor.credits.interval");
  check(a.monitor.credits.low_balance != b.monitor.credits.low_balance, "monitor.credits.low_balance");
  check(a.monitor.health.interval != b.monitor.health.interval, "monitor.health.interval");
  // Pending load packages live in state_dir: a new one would leave them behind unloaded.
  check(a.state_dir != b.state_dir, "state_dir");
  return keys;
}

std::string destination_kind(const config::Config& c) {
  return c.destination.type == config::DestinationType::postgres ? "postgres" : "filesystem";
}

std::string destination_location(const config::Config& c) {
  if (c.destination.type == config::DestinationType::filesystem) return c.destination.filesystem.path;
  return config::mask_dsn(c.destination.dsn.value);
}

}  // namespace mh::app
