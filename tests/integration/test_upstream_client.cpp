// The HTTP(S) client and the retry rules against magichour-sim: keep-alive,
// TLS trust, proxies, and every fault kind (with what may and may not be retried).
#include <doctest/doctest.h>

#include <boost/asio.hpp>
#include <boost/asio/detached.hpp>
#include <boost/json.hpp>
#include <thread>

#include "async/join.hpp"
#include "integration/sim_helpers.hpp"
#include "log/log.hpp"
#include "net/retry.hpp"
#include "net/url.hpp"
#include "support/connect_proxy.hpp"
#include "support/tls_files.hpp"
#include "support/upstream.hpp"

using namespace mh;
using namespace mh::test;
using namespace std::chrono_literals;
using magichour::ErrorKind;

namespace {

const std::string kGen = R"({"image_count": 1, "style": {"prompt": "x"}})";

boost::json::object gen_body() { return boost::json::parse(kGen).as_object(); }

void set_faults(const SimProcess& sim, const std::string& json) {
  auto r = curl("PUT", sim.base_url() + "/_sim/faults", CurlOptions{{"Content-Type: application/json"}, json});
  REQUIRE(r.status == 204);
}

std::int64_t ledger_jobs(const SimProcess& sim) {
  return curl("GET", sim.base_url() + "/_sim/ledger").json().at("jobs").as_int64();
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

TEST_CASE("retry: Retry-After parsing and backoff bounds") {
  auto now = std::chrono::system_clock::from_time_t(1'700'000'000);
  CHECK(net::parse_retry_after("2", now) == 2000ms);
  CHECK(net::parse_retry_after(" 1.5 ", now) == 1500ms);
  CHECK_FALSE(net::parse_retry_after("0", now));  // no hint: back off instead, never spin
  CHECK_FALSE(net::parse_retry_after("-3", now));
  CHECK_FALSE(net::parse_retry_after("soon", now));
  // Out of int64 once in milliseconds: no undefined cast (the UBSan build runs this).
  CHECK_FALSE(net::parse_retry_after("-1e300", now));
  CHECK_FALSE(net::parse_retry_after("nan", now));
  CHECK(net::parse_retry_after("1e300", now) == std::chrono::milliseconds(net::kMaxRetryAfter));
  CHECK(net::parse_retry_after("100000", now) == std::chrono::milliseconds(net::kMaxRetryAfter));
  // 1,700,000,000 is Tue, 14 Nov 2023 22:13:20 GMT.
  CHECK(net::parse_retry_after("Tue, 14 Nov 2023 22:13:50 GMT", now) == 30'000ms);
  CHECK_FALSE(net::parse_retry_after("Tue, 14 Nov 2023 22:13:00 GMT", now));  // in the past

  net::RetryPolicy p{5, 100ms, 1000ms};
  std::mt19937_64 rng(1);
  for (int attempt = 1; attempt <= 8; ++attempt) {
    for (int i = 0; i < 50; ++i) {
      auto d = net::backoff_delay(p, attempt, rng);
      CHECK(d >= 100ms);
      CHECK(d <= std::min<std::chrono::milliseconds>(1000ms, 100ms * (1 << (attempt - 1))));
    }
  }
}

TEST_CASE("client: keep-alive reuses one connection for many GETs") {
  SimProcess sim;
  Upstream up(sim);
  for (int i = 0; i < 20; ++i) CHECK(up.run(up.client.account()).credits == 10000);
  CHECK(up.http.connections_opened() == 1);
}

TEST_CASE("client: HTTPS with the configured CA, and a clear error for a wrong one") {
  TempDir dir;
  TlsFiles tls = make_tls_files(dir);
  SimProcess sim({"--tls-cert", tls.cert, "--tls-key", tls.key});
  {
    UpstreamOptions o;
    o.http.ca_file = tls.ca;
    Upstream up(sim, o);
    CHECK(up.run(up.client.account()).tier == "pro");
  }
  UpstreamOptions o;
  o.http.ca_file = tls.other_ca;
  Upstream up(sim, o);
  auto e = expect_api_error([&] { up.run(up.client.account()); });
  CHECK(e.kind() == ErrorKind::transport);
  CHECK(std::string(e.what()).find("TLS handshake with 127.0.0.1:" + std::to_string(sim.port()) + " failed") !=
        std::string::npos);
  CHECK(std::string(e.what()).find("certificate verify failed") != std::string::npos);
  CHECK(std::string(e.what()).find("magic_hour.ca_file") != std::string::npos);
}

TEST_CASE("client: through a CONNECT proxy, and around it with NO_PROXY") {
  TempDir dir;
  TlsFiles tls = make_tls_files(dir);
  SimProcess sim({"--tls-cert", tls.cert, "--tls-key", tls.key});
  ConnectProxy proxy;
  UpstreamOptions o;
  o.http.ca_file = tls.ca;
  o.http.proxy.https_proxy = proxy.url();
  {
    Upstream up(sim, o);
    CHECK(up.run(up.client.account()).credits == 10000);
    CHECK(up.run(up.client.account()).credits == 10000);
    CHECK(proxy.tunnels() == 1);  // one tunnel, kept alive
    CHECK(proxy.last_target() == "127.0.0.1:" + std::to_string(sim.port()));
  }
  o.http.proxy.no_proxy = {"localhost", "127.0.0.1"};
  Upstream up(sim, o);
  CHECK(up.run(up.client.account()).credits == 10000);
  CHECK(proxy.tunnels() == 1);

  net::ProxySettings p;
  p.https_proxy = "http://proxy:3128";
  p.no_proxy = {".internal.example", "api.local:443"};
  CHECK(p.proxy_for("https", "api.magichour.ai") == "http://proxy:3128");
  CHECK_FALSE(p.proxy_for("https", "db.internal.example"));
  CHECK_FALSE(p.proxy_for("https", "api.local"));
  CHECK_FALSE(p.proxy_for("http", "api.magichour.ai"));  // no HTTP_PROXY set
}

TEST_CASE(
    "client: a proxy's user:password becomes Proxy-Authorization, never a log line, and https:// proxies are refused") {
  TempDir dir;
  TlsFiles tls = make_tls_files(dir);
  SimProcess sim({"--tls-cert", tls.cert, "--tls-key", tls.key});
  ConnectProxy proxy;
  UpstreamOptions o;
  o.http.ca_file = tls.ca;
  o.http.proxy.https_proxy = "http://mh-user:p%40ss@127.0.0.1:" + std::to_string(proxy.port());
  {
    Upstream up(sim, o);
    CHECK(up.run(up.client.account()).credits == 10000);
    CHECK(proxy.tunnels() == 1);
    CHECK(proxy.last_proxy_authorization() == "Basic bWgtdXNlcjpwQHNz");  // base64("mh-user:p@ss")
    // The password is registered as a secret: even a line quoting the proxy URL masks it.
    mh::log::warn("proxy in use", {{"proxy", o.http.proxy.https_proxy.value_or("")}});
    REQUIRE(up.logs.count("proxy in use") == 1);
    for (const auto& line : up.logs.lines()) {
      CHECK(line.find("p%40ss") == std::string::npos);
      CHECK(line.find("p@ss") == std::string::npos);
    }
  }
  // TLS to the proxy itself is not spoken: a clear error, and nothing is sent to it.
  o.http.proxy.https_proxy = "https://127.0.0.1:" + std::to_string(proxy.port());
  Upstream up(sim, o);
  auto e = expect_api_error([&] { up.run(up.client.account()); });
  CHECK(e.kind() == ErrorKind::transport);
  CHECK(std::string(e.what()).find("an https:// proxy is not supported") != std::string::npos);
  CHECK(proxy.tunnels() == 1);
}

TEST_CASE("client: a pooled connection idle for idle_keepalive is closed, not only left unused") {
  TempDir dir;
  TlsFiles tls = make_tls_files(dir);
  SimProcess sim({"--tls-cert", tls.cert, "--tls-key", tls.key});
  ConnectProxy proxy;  // sees when the client closes its connection
  UpstreamOptions o;
  o.http.ca_file = tls.ca;
  o.http.proxy.https_proxy = proxy.url();
  o.http.idle_keepalive = 300ms;
  Upstream up(sim, o);
  CHECK(up.run(up.client.account()).credits == 10000);
  CHECK(proxy.open_tunnels() == 1);
  // Nothing else is asked: the pool itself closes the idle connection.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (proxy.open_tunnels() != 0 && std::chrono::steady_clock::now() < deadline) {
    up.io.restart();
    up.io.run_for(50ms);
  }
  CHECK(proxy.open_tunnels() == 0);
  CHECK(up.run(up.client.account()).credits == 10000);  // a fresh one after that
  CHECK(proxy.tunnels() == 2);
}

TEST_CASE("client: a URL with CR, LF or another control character is refused before any byte is sent") {
  SimProcess sim;
  Upstream up(sim);
  const std::int64_t before = ledger_jobs(sim);
  const std::vector<std::string> bad_tails{"\r\nX-Injected: 1", "\n", std::string(1, '\0'), "\x7f", "\t", " x"};
  for (const std::string& bad : bad_tails) {
    net::ClientRequest req;
    req.url = sim.base_url() + "/v1/account" + bad;
    try {
      up.run(up.http.send(req));
      FAIL("a URL with byte " << static_cast<int>(static_cast<unsigned char>(bad[0])) << " was requested");
    } catch (const net::TransportError& err) {
      CHECK(err.request_sent() == false);
      CHECK(std::string(err.what()).find("control character") != std::string::npos);
    }
  }
  CHECK(up.http.connections_opened() == 0);
  // Downloads (signed URLs from the project answer) take the same way.
  TempDir dir;
  const std::string url = sim.base_url() + "/files/x\r\n.png";
  const std::string file = dir.path() + "/x.png";
  auto e = expect_api_error([&] { up.run(up.client.download(url, file)); });
  CHECK(e.kind() == ErrorKind::transport);
  CHECK(up.http.connections_opened() == 0);
  CHECK(ledger_jobs(sim) == before);
  std::string err;
  CHECK_FALSE(net::parse_url("https://h/a\rb", err));
  CHECK(net::parse_url("https://u:p@h:8443/a%0D%0Ab?q=1", err)->userinfo == "u:p");  // encoded: harmless
}

TEST_CASE("client: 429 with Retry-After waits as told, then succeeds") {
  SimProcess sim({"--fault", "GET /v1/account status=429 retry_after=1 first=1"});
  Upstream up(sim);
  auto t = std::chrono::steady_clock::now();
  CHECK(up.run(up.client.account()).credits == 10000);
  CHECK(seconds_since(t) >= 0.95);
  CHECK(up.metrics.serialize().find(R"(mhloader_upstream_retries_total{endpoint="GET /v1/account",reason="429"} 1)") !=
        std::string::npos);
}

TEST_CASE("client: 429 without Retry-After and Retry-After: 0 back off instead of spinning") {
  SimProcess sim({"--fault", "GET /v1/account status=429 first=2", "--fault",
                  "GET /v1/saved-items status=429 retry_after=0 first=3"});
  UpstreamOptions o;
  o.retry = {5, 100ms, 400ms};
  Upstream up(sim, o);
  auto t = std::chrono::steady_clock::now();
  CHECK(up.run(up.client.account()).credits == 10000);
  CHECK(seconds_since(t) >= 0.2);  // two waits of at least initial_delay
  t = std::chrono::steady_clock::now();
  up.run(up.client.get_json("GET /v1/saved-items", "/v1/saved-items"));
  CHECK(seconds_since(t) >= 0.3);
  auto stats = curl("GET", sim.base_url() + "/_sim/stats").json();
  CHECK(stats.at("routes").at("GET /v1/saved-items").at("requests").as_int64() == 4);
}

TEST_CASE("client: 5xx is retried up to max_attempts, then reported with the count") {
  SimProcess sim({"--fault", "GET /v1/account status=503 first=3", "--fault", "GET /v1/saved-items status=500"});
  Upstream up(sim);
  CHECK(up.run(up.client.account()).credits == 10000);
  auto e = expect_api_error([&] { up.run(up.client.get_json("GET /v1/saved-items", "/v1/saved-items")); });
  CHECK(e.kind() == ErrorKind::server);
  CHECK(e.status() == 500);
  CHECK(std::string(e.what()) ==
        "Magic Hour answered 500 Internal Server Error to GET /v1/saved-items after 5 attempts: "
        "Internal Server Error");
  auto stats = curl("GET", sim.base_url() + "/_sim/stats").json();
  CHECK(stats.at("routes").at("GET /v1/saved-items").at("requests").as_int64() == 5);
}

TEST_CASE("client: resets, truncated bodies and invalid JSON are retried on reads") {
  SimProcess sim({"--fault", "GET /v1/account reset first=1", "--fault", "GET /v1/account truncate first=1", "--fault",
                  "GET /v1/account bad_json first=1"});
  Upstream up(sim);
  CHECK(up.run(up.client.account()).credits == 10000);
  auto stats = curl("GET", sim.base_url() + "/_sim/stats").json();
  CHECK(stats.at("routes").at("GET /v1/account").at("requests").as_int64() == 4);
  auto m = up.metrics.serialize();
  CHECK(m.find(R"(reason="reset")") != std::string::npos);
  CHECK(m.find(R"(reason="bad_json")") != std::string::npos);
}

TEST_CASE("client: invalid JSON that stays invalid is a protocol error naming the byte offset, not the body") {
  SimProcess sim({"--fault", "GET /v1/account bad_json"});
  Upstream up(sim);
  auto e = expect_api_error([&] { up.run(up.client.account()); });
  CHECK(e.kind() == ErrorKind::protocol);
  std::string what = e.what();
  CHECK(what.find("Magic Hour sent invalid JSON for GET /v1/account (at byte ") != std::string::npos);
  CHECK(what.find("upstream error") == std::string::npos);
  CHECK(what.find("sim@example.com") == std::string::npos);
}

TEST_CASE("client: a slow response times out per attempt and fails as transport") {
  SimProcess sim({"--fault", "GET /v1/account latency=1500ms"});
  UpstreamOptions o;
  o.http.timeout = 300ms;
  o.retry = {2, 20ms, 20ms};
  Upstream up(sim, o);
  auto t = std::chrono::steady_clock::now();
  auto e = expect_api_error([&] { up.run(up.client.account()); });
  CHECK(seconds_since(t) < 1.4);
  CHECK(e.kind() == ErrorKind::transport);
  CHECK(std::string(e.what()).find("no complete response from http://127.0.0.1:") != std::string::npos);
  CHECK(std::string(e.what()).find("within 300ms (after 2 attempts)") != std::string::npos);
}

TEST_CASE("client: nothing listening is a connect error, retried, never uncertain") {
  int port = 0;
  {
    SimProcess gone;
    port = gone.port();
  }
  SimProcess sim;
  UpstreamOptions o;
  o.base_url = "http://127.0.0.1:" + std::to_string(port) + "/v1";
  o.retry = {3, 10ms, 10ms};
  Upstream up(sim, o);
  auto e = expect_api_error([&] { up.run(up.client.create(magichour::CreateKind::image_generator, gen_body())); });
  CHECK(e.kind() == ErrorKind::transport);  // certainly never reached: retried like a read, not "uncertain"
  CHECK(std::string(e.what()).find("cannot connect to 127.0.0.1:" + std::to_string(port)) != std::string::npos);
  CHECK(std::string(e.what()).find("after 3 attempts") != std::string::npos);
}

TEST_CASE("client: accept-then-drop on a create is uncertain and the simulator billed exactly one job") {
  SimProcess sim({"--fault", "POST /v1/ai-image-generator drop_after first=1"});
  Upstream up(sim);
  auto e = expect_api_error([&] { up.run(up.client.create(magichour::CreateKind::image_generator, gen_body())); });
  CHECK(e.kind() == ErrorKind::uncertain);
  CHECK(std::string(e.what()).find("may have reached Magic Hour") != std::string::npos);
  CHECK(std::string(e.what()).find("not resent") != std::string::npos);
  auto ledger = curl("GET", sim.base_url() + "/_sim/ledger").json();
  CHECK(ledger.at("jobs").as_int64() == 1);
  CHECK(ledger.at("creates").at(0).at("dropped").as_bool());
  auto stats = curl("GET", sim.base_url() + "/_sim/stats").json();
  CHECK(stats.at("routes").at("POST /v1/ai-image-generator").at("requests").as_int64() == 1);
}

TEST_CASE("client: creates retry a 429 (it was not processed) but 5xx, resets and timeouts are uncertain") {
  SimProcess sim({"--fault", "POST /v1/ai-image-generator status=429 first=2"});
  Upstream up(sim);
  auto created = up.run(up.client.create(magichour::CreateKind::image_generator, gen_body()));
  CHECK_FALSE(created.id.empty());
  CHECK(created.credits_charged == 5);
  CHECK(ledger_jobs(sim) == 1);

  for (const char* fault : {"status=502", "reset", "truncate", "bad_json"}) {
    CAPTURE(fault);
    set_faults(sim, std::string(R"({"faults": ["POST /v1/ai-image-generator )") + fault + R"( first=1"]})");
    auto before = ledger_jobs(sim);
    auto e = expect_api_error([&] { up.run(up.client.create(magichour::CreateKind::image_generator, gen_body())); });
    CHECK(e.kind() == ErrorKind::uncertain);
    auto stats = curl("GET", sim.base_url() + "/_sim/faults").json();
    CHECK(stats.at("faults").at(0).at("matched").as_int64() == 1);  // sent exactly once
    CHECK(ledger_jobs(sim) - before <= 1);
  }
  set_faults(sim, R"({"faults": ["POST /v1/ai-image-generator latency=1s first=1"]})");
  UpstreamOptions o;
  o.http.timeout = 200ms;
  Upstream slow(sim, o);
  auto before = ledger_jobs(sim);
  auto e = expect_api_error([&] { slow.run(slow.client.create(magichour::CreateKind::image_generator, gen_body())); });
  CHECK(e.kind() == ErrorKind::uncertain);
  CHECK(ledger_jobs(sim) == before + 1);  // it was processed: exactly why it must not be resent
}

TEST_CASE("client: the concurrency limit holds across many requests") {
  SimProcess sim({"--fault", "GET /v1/account latency=50ms"});
  UpstreamOptions o;
  o.max_concurrency = 4;
  Upstream up(sim, o);
  std::vector<async::Task> tasks;
  int done = 0;
  for (int i = 0; i < 24; ++i) {
    tasks.push_back([&, i]() -> boost::asio::awaitable<void> {
      magichour::CallOptions c;
      c.job = i % 2 ? "a" : "b";
      co_await up.client.account(c);
      ++done;
    });
  }
  up.run(async::join_all(std::move(tasks)));
  CHECK(done == 24);
  CHECK(up.limiter.peak_in_flight() == 4);
  CHECK(up.limiter.in_flight() == 0);
}

TEST_CASE("client: 429 after every retry is a rate_limited error with the attempt count") {
  SimProcess sim({"--fault", "GET /v1/account status=429"});
  UpstreamOptions o;
  o.retry = {3, 10ms, 20ms};
  Upstream up(sim, o);
  auto e = expect_api_error([&] { up.run(up.client.account()); });
  CHECK(e.kind() == magichour::ErrorKind::rate_limited);
  CHECK(std::string(e.what()) ==
        "Magic Hour rate-limited GET /v1/account (429 Too Many Requests) after 3 attempts: Too Many Requests");
}

TEST_CASE("limiter: freed slots go round-robin across jobs") {
  boost::asio::io_context io(1);
  async::FairLimiter limiter(io.get_executor(), 1);
  std::vector<std::string> order;
  std::vector<async::FairLimiter::Permit> held;
  auto take = [&](std::string job) -> boost::asio::awaitable<void> {
    auto permit = co_await limiter.acquire(job);
    order.push_back(job);
    held.push_back(std::move(permit));
  };
  // Job "a" queues five requests before job "b" queues one: "b" must not wait for all of "a".
  for (int i = 0; i < 5; ++i) boost::asio::co_spawn(io, take("a"), boost::asio::detached);
  boost::asio::co_spawn(io, take("b"), boost::asio::detached);
  io.run_for(50ms);
  REQUIRE(order == std::vector<std::string>{"a"});
  for (int round = 0; round < 5; ++round) {
    held.clear();  // releases the slot
    io.restart();
    io.run_for(20ms);
  }
  // The waiting keys alternate: the second slot goes to "a" (queued first), the third to "b", not the sixth.
  CHECK(order == std::vector<std::string>{"a", "a", "b", "a", "a", "a"});
  CHECK(limiter.peak_in_flight() == 1);
}

namespace {
// A one-shot HTTP server on its own thread that answers with a chunked body
// (the simulator always sends Content-Length).
class ChunkedServer {
 public:
  ChunkedServer() : acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] {
      boost::asio::ip::tcp::socket s(io_);
      acceptor_.accept(s);
      boost::asio::streambuf head;
      boost::asio::read_until(s, head, "\r\n\r\n");
      const std::string response =
          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
          "Connection: close\r\n\r\n"
          "c\r\n{\"credits\": \r\n"
          "7\r\n4242, \"\r\n"
          "d\r\ntier\": \"pro\"}\r\n"
          "0\r\n\r\n";
      boost::asio::write(s, boost::asio::buffer(response));
    });
  }
  ~ChunkedServer() { thread_.join(); }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
};
}  // namespace

TEST_CASE("client: a chunked response body is reassembled") {
  SimProcess sim;  // only for the fixture; the request goes to the chunked server
  ChunkedServer chunked;
  UpstreamOptions o;
  o.base_url = "http://127.0.0.1:" + std::to_string(chunked.port()) + "/v1";
  o.http.timeout = 3s;
  o.retry = {1, 10ms, 10ms};
  Upstream up(sim, o);
  auto account = up.run(up.client.account());
  CHECK(account.credits == 4242);
  CHECK(account.tier == "pro");
}
