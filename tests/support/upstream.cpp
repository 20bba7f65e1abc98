#include "support/upstream.hpp"

#include <doctest/doctest.h>

#include "log/log.hpp"

namespace mh::test {

LogCapture::LogCapture(std::string forbidden) : forbidden_(std::move(forbidden)) {
  log::set_level(log::Level::debug);  // every line any code would write
  log::set_sink([this](std::string_view line) {
    std::lock_guard lock(mu_);
    lines_.emplace_back(line);
  });
}

LogCapture::~LogCapture() {
  log::set_sink({});
  log::set_level(log::Level::info);
  std::lock_guard lock(mu_);
  for (const auto& l : lines_) CHECK_MESSAGE(l.find(forbidden_) == std::string::npos, "API key in a log line: " << l);
}

std::vector<std::string> LogCapture::lines() const {
  std::lock_guard lock(mu_);
  return lines_;
}

std::size_t LogCapture::count(const std::string& needle) const {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (const auto& l : lines_) n += l.find(needle) != std::string::npos ? 1 : 0;
  return n;
}

namespace {
magichour::ClientSettings settings_for(const SimProcess& sim, const UpstreamOptions& o) {
  magichour::ClientSettings s;
  s.base_url = o.base_url.empty() ? sim.base_url() + "/v1" : o.base_url;
  s.api_key = o.api_key;
  s.api_key_source = o.key_source;
  s.retry = o.retry;
  return s;
}
}  // namespace

Upstream::Upstream(const SimProcess& sim, UpstreamOptions o)
    : options(std::move(o)),
      logs(options.api_key),
      http(io, blocking, options.http),
      limiter(io.get_executor(), options.max_concurrency),
      client(http, limiter, settings_for(sim, options), &metrics) {}

Upstream::~Upstream() { blocking.join(); }

}  // namespace mh::test
