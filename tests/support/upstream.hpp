// The upstream stack wired as the daemon wires it (io_context, blocking pool,
// HTTP client, concurrency limit, metrics, Magic Hour client), pointed at a
// magichour-sim, with every log line of the test captured.
#pragma once

#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "async/fair_limiter.hpp"
#include "magichour/client.hpp"
#include "metrics/metrics.hpp"
#include "net/http_client.hpp"
#include "support/sim.hpp"

namespace mh::test {

struct UpstreamOptions {
  std::string api_key = "sim-dev-key";
  std::string key_source = "environment variable MAGIC_HOUR_API_KEY";
  net::RetryPolicy retry{5, std::chrono::milliseconds(20), std::chrono::milliseconds(200)};
  std::size_t max_concurrency = 8;
  net::HttpClientOptions http;  // ca_file, timeouts, proxy
  std::string base_url;         // default: the simulator's /v1
};

// Captures every log line while alive; fails the test if the API key shows up in one.
class LogCapture {
 public:
  explicit LogCapture(std::string forbidden);
  ~LogCapture();
  std::vector<std::string> lines() const;
  std::size_t count(const std::string& needle) const;

 private:
  std::string forbidden_;
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

struct Upstream {
  Upstream(const SimProcess& sim, UpstreamOptions options = {});
  ~Upstream();

  // Runs `aw` on the io_context until it completes (other coroutines keep running meanwhile).
  template <class T>
  T run(boost::asio::awaitable<T> aw) {
    auto future = boost::asio::co_spawn(io, std::move(aw), boost::asio::use_future);
    io.restart();
    while (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready) io.run_one();
    return future.get();
  }

  UpstreamOptions options;
  LogCapture logs;
  boost::asio::io_context io{1};
  boost::asio::thread_pool blocking{2};
  metrics::Metrics metrics{"test", "test"};
  net::HttpClient http;
  async::FairLimiter limiter;
  magichour::Client client;
};

// Runs `f`, which must throw an ApiError, and returns it (fails the test otherwise).
template <class F>
magichour::ApiError expect_api_error(F&& f) {
  try {
    f();
  } catch (const magichour::ApiError& e) {
    return e;
  }
  FAIL("no ApiError was thrown");
  throw std::logic_error("unreachable");
}

}  // namespace mh::test
