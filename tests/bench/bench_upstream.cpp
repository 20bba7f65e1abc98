// Upstream client throughput against magichour-sim: sequential GETs per second
// over one keep-alive connection versus a new connection per request.
//   bench_upstream [requests]   (default 5000; starts its own simulator)
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <iostream>
#include <thread>

#include "async/fair_limiter.hpp"
#include "magichour/client.hpp"
#include "net/http_client.hpp"
#include "support/process.hpp"

using namespace mh;

namespace {

double run(const std::string& base, std::size_t max_idle, int requests, std::uint64_t& connections) {
  boost::asio::io_context io(1);
  boost::asio::thread_pool blocking(1);
  net::HttpClientOptions o;
  o.max_idle_per_origin = max_idle;
  net::HttpClient http(io, blocking, o);
  async::FairLimiter limiter(io.get_executor(), 8);
  magichour::Client client(http, limiter, {base + "/v1", "sim-dev-key", "bench", {}});
  auto work = [&]() -> boost::asio::awaitable<void> {
    for (int i = 0; i < requests; ++i) co_await client.account();
  };
  auto start = std::chrono::steady_clock::now();
  auto f = boost::asio::co_spawn(io, work(), boost::asio::use_future);
  io.run();
  f.get();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  connections = http.connections_opened();
  blocking.join();
  return requests / secs;
}

}  // namespace

int main(int argc, char** argv) {
  int requests = argc > 1 ? std::stoi(argv[1]) : 5000;
  test::Child sim({MAGICHOUR_SIM_BIN, "--listen", "127.0.0.1:0"});
  std::string base = test::wait_for_sim_url(sim, std::chrono::seconds(10));
  if (base.empty()) {
    std::cerr << "magichour-sim did not start: " << sim.err() << "\n";
    return 1;
  }
  std::uint64_t conns_keep = 0, conns_new = 0;
  double keep = run(base, 16, requests, conns_keep);
  double fresh = run(base, 0, requests, conns_new);
  std::cout << "GET /v1/account x" << requests << " against magichour-sim (plain HTTP, loopback)\n";
  std::cout << "  keep-alive:              " << static_cast<long>(keep) << " req/s (" << conns_keep
            << " connection(s))\n";
  std::cout << "  new connection each:     " << static_cast<long>(fresh) << " req/s (" << conns_new
            << " connections)\n";
  std::cout << "  keep-alive speed-up:     " << keep / fresh << "x\n";
  sim.signal(SIGTERM);
  sim.wait(std::chrono::seconds(5));
  return 0;
}
