#include "app/runtime.hpp"

#include <unistd.h>

#include "app/version.hpp"
#include "config/dsn.hpp"

namespace mh::app {

namespace {

net::HttpClientOptions http_options(const config::Config& c) {
  net::HttpClientOptions o;
  o.connect_timeout = c.magic_hour.connect_timeout;
  o.timeout = c.magic_hour.timeout;
  o.ca_file = c.magic_hour.ca_file;
  o.user_agent = std::string("mhloader/") + kVersion;
  o.proxy = net::ProxySettings::from_environment();
  return o;
}

magichour::ClientSettings client_settings(const config::Config& c) {
  magichour::ClientSettings s;
  s.base_url = c.magic_hour.base_url;
  s.api_key = c.magic_hour.api_key.value;
  s.api_key_source = c.magic_hour.api_key.source;
  s.retry = c.magic_hour.retry;
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
  io.stop();
  blocking.join();
}

std::string Runtime::instance() const {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(::getpid());
}

pipeline::Services Runtime::services() {
  return pipeline::Services{config, io, blocking, db, client, credits, health, *destination, &metrics, instance()};
}

std::string destination_kind(const config::Config& c) {
  return c.destination.type == config::DestinationType::postgres ? "postgres" : "filesystem";
}

std::string destination_location(const config::Config& c) {
  if (c.destination.type == config::DestinationType::filesystem) return c.destination.filesystem.path;
  return config::mask_dsn(c.destination.dsn.value);
}

}  // namespace mh::app
