// The control plane over real HTTP against a running `mhloader serve`, with the
// real Postgres and magichour-sim: every route with and without the token, the
// error answers, limits, trigger / live progress / cancel, pause, reload, the
// readiness probe and the metrics scrape.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <csignal>
#include <fstream>
#include <pqxx/pqxx>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "control/control_plane.hpp"
#include "db/ops.hpp"
#include "db/pool.hpp"
#include "support/markdown.hpp"
#include "support/pg.hpp"
#include "support/process.hpp"
#include "support/sim.hpp"
#include "support/temp_dir.hpp"
#include "support/tls_files.hpp"

using mh::test::Child;
using mh::test::curl;
using mh::test::CurlOptions;
using mh::test::CurlResponse;
using mh::test::ProcessOptions;
using mh::test::SimProcess;
using mh::test::TempDatabase;
using mh::test::TempDir;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

const std::string kToken = "ctl-TOKEN-0123456789abcdef";

std::string jobs_yaml() {
  return "resources:\n  - name: saved_items\n    endpoint:\n      path: saved-items\n      params: {limit: 20}\n"
         "      data_selector: items\n      paginator: {type: cursor, cursor_path: next_cursor, cursor_param: cursor}\n"
         "    primary_key: id\n    write_disposition: merge\n"
         "jobs:\n  - {name: account, every: 1h, resources: [credits, saved_items]}\n"
         "  - {name: manual_only, resources: [status]}\n";
}

// A daemon with its own database, state folder and simulator.
class Daemon {
 public:
  explicit Daemon(std::vector<std::string> sim_args = {}, std::string control_extra = "",
                  std::optional<std::string> dsn = std::nullopt, const std::string& jobs = jobs_yaml(),
                  std::string listen_host = "127.0.0.1")
      : sim_(std::move(sim_args)), listen_host_(std::move(listen_host)) {
    dsn_ = dsn ? *dsn : db_.dsn();
    control_extra_ = std::move(control_extra);
    write_config(jobs);
    ProcessOptions o = mh::test::daemon_env();
    child_ = std::make_unique<Child>(std::vector<std::string>{MHLOADER_BIN, "serve", "--config", config_}, o);
    REQUIRE_MESSAGE(child_->wait_for_err("msg=\"control plane listening\"", 20s), child_->err());
    std::smatch m;
    std::string err = child_->err();
    REQUIRE(std::regex_search(
        err, m, std::regex("listen=" + std::regex_replace(listen_host_, std::regex("\\."), "\\.") + R"(:(\d+))")));
    port_ = std::stoi(m[1]);
  }
  ~Daemon() {
    if (child_) {
      child_->signal(SIGTERM);
      child_->wait(20s);
    }
  }

  void write_config(const std::string& rest) {
    config_ = dir_.write("mhloader.yaml",
                         "state_dir: " + dir_.path() + "/state\nmagic_hour:\n  base_url: " + sim_.base_url() +
                             "/v1\n  api_key: " + api_key_ + "\n" +
                             "  retry: {max_attempts: 2, initial_delay: 20ms, max_delay: 50ms}\n" +
                             "destination:\n  dsn: \"" + dsn_ + "\"\ncontrol:\n  listen: \"" + listen_host_ + ":" +
                             std::to_string(port_) + "\"\n  token: " + kToken + "\n" + control_extra_ +
                             "monitor:\n  credits: {interval: 1h}\n" + "  health: {interval: 1h}\n" + rest);
  }
  bool wait_ready() { return child_->wait_for_err("msg=\"mhloader ready\"", 30s); }
  // For the next write_config.
  void set_api_key(std::string key) { api_key_ = std::move(key); }
  void set_dsn(std::string dsn) { dsn_ = std::move(dsn); }

  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  CurlResponse call(const std::string& method, const std::string& path, bool token = true,
                    std::optional<std::string> body = std::nullopt) const {
    CurlOptions o;
    if (token) o.headers.push_back("Authorization: Bearer " + kToken);
    if (body) {
      o.headers.push_back("Content-Type: application/json");
      o.body = body;
    }
    return curl(method, url(path), o);
  }
  json::value get_json(const std::string& path) const {
    auto r = call("GET", path);
    REQUIRE_MESSAGE(r.status == 200, path << " → " << r.status << " " << r.body);
    return r.json();
  }

  Child& child() { return *child_; }
  const SimProcess& sim() const { return sim_; }
  TempDatabase& db() { return db_; }
  std::uint16_t port() const { return static_cast<std::uint16_t>(port_); }
  std::int64_t rss_kib() const {
    std::ifstream in("/proc/" + std::to_string(child_->pid()) + "/status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
    }
    return -1;
  }

 private:
  SimProcess sim_;
  std::string listen_host_;
  TempDatabase db_;
  TempDir dir_;
  std::string dsn_;
  std::string control_extra_;
  std::string api_key_ = "sim-dev-key";
  std::string config_;
  int port_ = 0;
  std::unique_ptr<Child> child_;
};

// A concrete path for a route template.
std::string concrete(const std::string& path) {
  std::string p = std::regex_replace(path, std::regex(R"(\{job\})"), "account");
  p = std::regex_replace(p, std::regex(R"(\{id\})"), "999999");
  return std::regex_replace(p, std::regex(R"(\{key\})"), "no-such-key");
}

// A loopback TCP connection for what curl cannot do (slow and idle clients).
class RawConn {
 public:
  explicit RawConn(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok_ = fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~RawConn() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConn(const RawConn&) = delete;
  bool ok() const { return ok_; }
  bool send(std::string_view s) {
    return ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
  }
  // Reads until the peer closes or `timeout`; returns what arrived.
  std::string read_until_close(std::chrono::milliseconds timeout, bool* closed = nullptr) {
    timeval tv{0, 100'000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[4096];
    while (std::chrono::steady_clock::now() < deadline) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        if (closed) *closed = true;
        return out;
      }
      if (n > 0) out.append(buf, static_cast<std::size_t>(n));
    }
    if (closed) *closed = false;
    return out;
  }

 private:
  int fd_ = -1;
  bool ok_ = false;
};

json::value wait_for_run(const Daemon& d, std::int64_t id, const std::function<bool(const json::object&)>& done,
                         std::chrono::milliseconds timeout = 30s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  json::value last;
  while (std::chrono::steady_clock::now() < deadline) {
    last = d.get_json("/api/v1/runs/" + std::to_string(id));
    if (done(last.as_object())) return last;
    std::this_thread::sleep_for(50ms);
  }
  return last;
}

bool finished(const json::object& run) { return run.at("status").as_string() != "running"; }

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("control: every route refuses a missing or wrong token under /api/v1 and answers without one elsewhere") {
  Daemon d;
  REQUIRE(d.wait_ready());
  for (const auto& route : mh::control::route_table()) {
    const std::string path = concrete(route.path);
    CAPTURE(route.method + " " + route.path);
    auto none = d.call(route.method, path, false);
    if (route.auth) {
      CHECK(none.status == 401);
      CHECK(none.headers["content-type"] == "application/problem+json");
      CHECK(none.headers["www-authenticate"].find("Bearer") == 0);
      auto p = none.json().as_object();
      CHECK(p.at("status").as_int64() == 401);
      CHECK(p.at("title").as_string() == "Unauthorized");
      CHECK(p.contains("type"));
      CHECK(p.contains("detail"));
      CurlOptions wrong;
      wrong.headers.push_back("Authorization: Bearer " + kToken + "x");
      CHECK(curl(route.method, d.url(path), wrong).status == 401);
      CurlOptions basic;
      basic.headers.push_back("Authorization: Basic " + kToken);
      CHECK(curl(route.method, d.url(path), basic).status == 401);
      // With the token: anything but 401 (404 for the made-up ids, 400 for the empty resolve body).
      auto with = d.call(route.method, path, true);
      CHECK(with.status != 401);
      CHECK(with.status < 500);
    } else {
      CHECK(none.status < 400);
    }
  }
  // Lowercase scheme is accepted (RFC 7235: case-insensitive).
  CurlOptions lower;
  lower.headers.push_back("Authorization: bearer " + kToken);
  CHECK(curl("GET", d.url("/api/v1/jobs"), lower).status == 200);
  CHECK(d.child().err().find(kToken) == std::string::npos);
}

TEST_CASE("control: 404, 405 with Allow, HEAD, bad parameters and bodies get problem answers") {
  Daemon d;
  REQUIRE(d.wait_ready());
  auto nf = d.call("GET", "/api/v1/nothing");
  CHECK(nf.status == 404);
  CHECK(nf.headers["content-type"] == "application/problem+json");
  CHECK(d.call("GET", "/api/v1/jobs/").status == 404);
  CHECK(d.call("GET", "/api/v1/nothing", false).status == 401);  // the token first: no map of the API
  CHECK(d.call("DELETE", "/api/v1/jobs/account", false).status == 401);
  CHECK(d.call("GET", "/nothing", false).status == 404);
  CHECK(d.call("GET", "/api/v1/jobs/nope").status == 404);
  CHECK(d.call("POST", "/api/v1/jobs/nope/runs").status == 404);

  auto na = d.call("DELETE", "/api/v1/jobs/account");
  CHECK(na.status == 405);
  CHECK(na.headers["allow"] == "GET, HEAD");
  auto na2 = d.call("GET", "/api/v1/jobs/account/runs");
  CHECK(na2.status == 405);
  CHECK(na2.headers["allow"] == "POST");
  CHECK(d.call("GET", "/-/reload").status == 405);

  RawConn head(d.port());
  REQUIRE(head.ok());
  head.send("HEAD /-/healthy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const std::string head_answer = head.read_until_close(3s);
  CHECK(head_answer.find("HTTP/1.1 200") == 0);
  CHECK(head_answer.find("Content-Length: ") != std::string::npos);
  CHECK(head_answer.substr(head_answer.find("\r\n\r\n") + 4).empty());

  auto bad_limit = d.call("GET", "/api/v1/runs?limit=0");
  CHECK(bad_limit.status == 400);
  CHECK(std::string(bad_limit.json().at("detail").as_string()).find("limit") != std::string::npos);
  CHECK(d.call("GET", "/api/v1/runs?limit=abc").status == 400);
  CHECK(d.call("GET", "/api/v1/runs?before=-3").status == 400);
  CHECK(d.call("GET", "/api/v1/runs?status=exploded").status == 400);
  CHECK(d.call("GET", "/api/v1/submissions?state=nope").status == 400);
  CHECK(d.call("GET", "/api/v1/runs/abc").status == 400);
  CHECK(d.call("GET", "/api/v1/runs/12345").status == 404);

  auto malformed = d.call("POST", "/api/v1/submissions/k/resolve", true, std::string("{\"action\": "));
  CHECK(malformed.status == 400);
  CHECK(std::string(malformed.json().at("detail").as_string()).find("not valid JSON") != std::string::npos);
  CHECK(d.call("POST", "/api/v1/submissions/k/resolve", true, std::string("[1]")).status == 400);
  CHECK(d.call("POST", "/api/v1/submissions/k/resolve", true, std::string("{\"action\":\"x\"}")).status == 400);
  CHECK(d.call("POST", "/api/v1/submissions/k/resolve", true, std::string("{\"action\":\"abandon\"}")).status == 404);

  // Oversized request line + headers (431) and body (413); a request that is not HTTP (400).
  CurlOptions big_header;
  big_header.headers.push_back("Authorization: Bearer " + kToken);
  big_header.headers.push_back("X-Big: " + std::string(17 * 1024, 'a'));
  CHECK(curl("GET", d.url("/api/v1/jobs"), big_header).status == 431);
  CurlOptions big_body;
  big_body.headers.push_back("Authorization: Bearer " + kToken);
  big_body.headers.push_back("Content-Type: application/json");
  big_body.body = std::string(1024 * 1024 + 10, ' ');
  CHECK(curl("POST", d.url("/api/v1/submissions/k/resolve"), big_body).status == 413);
  RawConn garbage(d.port());
  REQUIRE(garbage.ok());
  garbage.send("HELLO THERE\r\n\r\n");
  CHECK(garbage.read_until_close(3s).find("HTTP/1.1 400") == 0);

  CHECK(d.call("GET", "/-/healthy").status == 200);  // nothing above hurt the daemon
  CHECK(d.child().err().find("msg=\"control request refused\"") != std::string::npos);
  // Refused before parsing: logged and counted too.
  CHECK(d.child().err().find("msg=\"control request refused before it parsed\" status=431") != std::string::npos);
  const std::string metrics = d.call("GET", "/metrics", false).body;
  CHECK(metrics.find("mhloader_control_requests_total{code=\"431\",route=\"unmatched\"} 1") != std::string::npos);
  CHECK(metrics.find("mhloader_control_requests_total{code=\"413\",route=\"unmatched\"} 1") != std::string::npos);
}

TEST_CASE("control: a client sending one byte a second is cut off, and 1,000 connections leave others served") {
  Daemon d({}, "  read_timeout: 1500ms\n");
  REQUIRE(d.wait_ready());
  {
    RawConn slow(d.port());
    REQUIRE(slow.ok());
    const std::string req = "GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n";
    auto started = std::chrono::steady_clock::now();
    bool closed = false;
    for (char c : req) {
      if (!slow.send(std::string_view(&c, 1))) {
        closed = true;
        break;
      }
      std::string got = slow.read_until_close(1s, &closed);
      if (closed) break;
    }
    auto took = std::chrono::steady_clock::now() - started;
    CHECK(closed);
    CHECK(took < 6s);  // read_timeout 1.5 s, not the ~35 s the whole request would take
  }

  // 1,000 connections (the default cap is 1,024): half send a partial request
  // and stall, the others say nothing; other clients are still served.
  const std::int64_t rss_before = d.rss_kib();
  std::vector<std::unique_ptr<RawConn>> conns;
  for (int i = 0; i < 1000; ++i) {
    conns.push_back(std::make_unique<RawConn>(d.port()));
    REQUIRE(conns.back()->ok());
    if (i % 2 == 0) conns.back()->send("GET /-/healthy HTTP/1.1\r\n");
  }
  std::this_thread::sleep_for(300ms);
  for (int i = 0; i < 20; ++i) {
    auto r = d.call("GET", "/api/v1/jobs");
    CHECK_MESSAGE(r.status == 200, r.body);
  }
  const std::int64_t rss_during = d.rss_kib();
  MESSAGE("daemon RSS " << rss_before << " KiB idle, " << rss_during << " KiB with 1,000 connections open");
#if defined(__SANITIZE_THREAD__)
  // TSan keeps 4-8 bytes of shadow per byte the daemon touches: a bound for its build only.
  CHECK(rss_during - rss_before < 6 * 32 * 1024);
#else
  CHECK(rss_during - rss_before < 32 * 1024);
#endif
  conns.clear();
  std::this_thread::sleep_for(200ms);
  CHECK(d.call("GET", "/-/healthy").status == 200);
  CHECK(::kill(d.child().pid(), 0) == 0);
}

TEST_CASE("control: at the connection cap idle connections make room, busy ones get 503 until they time out") {
  Daemon d({}, "  read_timeout: 1s\n  max_connections: 32\n");
  REQUIRE(d.wait_ready());
  std::vector<std::unique_ptr<RawConn>> idle;
  for (int i = 0; i < 100; ++i) {
    idle.push_back(std::make_unique<RawConn>(d.port()));
    REQUIRE(idle.back()->ok());
  }
  std::this_thread::sleep_for(300ms);
  CHECK(d.call("GET", "/-/healthy").status == 200);  // an idle one was closed for it

  std::vector<std::unique_ptr<RawConn>> busy;
  for (int i = 0; i < 40; ++i) {
    busy.push_back(std::make_unique<RawConn>(d.port()));
    busy.back()->send("GET /-/healthy HTTP/1.1\r\n");
  }
  std::this_thread::sleep_for(300ms);
  auto refused = d.call("GET", "/-/healthy");
  CHECK(refused.status == 503);
  CHECK(std::string(refused.json().at("detail").as_string()) == "too many connections");
  std::this_thread::sleep_for(1500ms);  // the stalled requests hit read_timeout
  CHECK(d.call("GET", "/-/healthy").status == 200);
  // The refused connections were counted.
  const std::string metrics = d.call("GET", "/metrics", false).body;
  CHECK(metrics.find("mhloader_control_requests_total{code=\"503\",route=\"unmatched\"}") != std::string::npos);
}

TEST_CASE("control: trigger, live progress, finish, cancel, pause and resume") {
  // Saved-items pages take 150 ms each: 12 pages make a run long enough to watch.
  Daemon d({"--saved-items", "240", "--fault", "GET /v1/saved-items latency=150ms"});
  REQUIRE(d.wait_ready());

  auto t = d.call("POST", "/api/v1/jobs/account/runs");
  REQUIRE_MESSAGE(t.status == 202, t.body);
  const std::int64_t id = t.json().at("run_id").as_int64();
  CHECK(t.headers["location"] == "/api/v1/runs/" + std::to_string(id));
  auto again = d.call("POST", "/api/v1/jobs/account/runs");
  CHECK(again.status == 409);
  CHECK(again.json().at("run_id").as_int64() == id);

  // Live: saved_items pages counted while the run goes.
  auto live = wait_for_run(d, id, [](const json::object& r) {
    if (!r.contains("live")) return false;
    for (const auto& res : r.at("resources").as_array()) {
      if (res.at("name").as_string() == "saved_items" && res.at("pages").as_int64() >= 2) return true;
    }
    return false;
  });
  CHECK(live.at("status").as_string() == "running");
  CHECK(live.at("live").as_bool());
  auto jobs = d.get_json("/api/v1/jobs").at("jobs").as_array();
  const json::object* account = nullptr;
  for (const auto& j : jobs) {
    if (j.at("name").as_string() == "account") account = &j.as_object();
  }
  REQUIRE(account);
  REQUIRE(account->at("running_run").is_object());
  CHECK(account->at("running_run").at("id").as_int64() == id);
  CHECK(account->at("next_run_at").is_string());

  auto done = wait_for_run(d, id, finished);
  CHECK(done.at("status").as_string() == "succeeded");
  CHECK(done.at("rows").as_int64() >= 241);  // credits + 240 saved items (+ child rows)
  CHECK_FALSE(done.as_object().contains("live"));
  CHECK(done.at("load_id").is_string());
  CHECK(d.call("POST", "/api/v1/runs/" + std::to_string(id) + "/cancel").status == 409);  // already over
  // The job list's last run (read from Postgres in the background) catches up.
  json::value last;
  for (int i = 0; i < 60; ++i) {
    last = d.get_json("/api/v1/jobs/account").at("last_run");
    if (last.is_object() && last.at("status").as_string() == "succeeded") break;
    std::this_thread::sleep_for(100ms);
  }
  REQUIRE(last.is_object());
  CHECK(last.at("id").as_int64() == id);
  CHECK(last.at("status").as_string() == "succeeded");

  // Runs list with paging.
  auto t2 = d.call("POST", "/api/v1/jobs/manual_only/runs");
  REQUIRE(t2.status == 202);
  const std::int64_t id2 = t2.json().at("run_id").as_int64();
  wait_for_run(d, id2, finished);
  auto page1 = d.get_json("/api/v1/runs?limit=1");
  REQUIRE(page1.at("runs").as_array().size() == 1);
  CHECK(page1.at("runs").at(0).at("id").as_int64() == id2);
  const std::int64_t next = page1.at("next_before").as_int64();
  auto page2 = d.get_json("/api/v1/runs?limit=1&before=" + std::to_string(next));
  CHECK(page2.at("runs").at(0).at("id").as_int64() == id);
  CHECK(d.get_json("/api/v1/runs?job=manual_only").at("runs").as_array().size() == 1);
  CHECK(d.get_json("/api/v1/runs?status=failed").at("runs").as_array().empty());

  // Cancel a run in the middle of its pages.
  auto t3 = d.call("POST", "/api/v1/jobs/account/runs");
  REQUIRE(t3.status == 202);
  const std::int64_t id3 = t3.json().at("run_id").as_int64();
  wait_for_run(d, id3, [](const json::object& r) {
    for (const auto& res : r.at("resources").as_array()) {
      if (res.at("name").as_string() == "saved_items" && res.at("pages").as_int64() >= 1) return true;
    }
    return false;
  });
  auto c = d.call("POST", "/api/v1/runs/" + std::to_string(id3) + "/cancel");
  CHECK(c.status == 202);
  auto cancelled = wait_for_run(d, id3, finished, 10s);
  CHECK(cancelled.at("status").as_string() == "cancelled");
  CHECK(d.call("POST", "/api/v1/runs/424242/cancel").status == 404);

  // Pause and resume: the flag is in the job list and in mhloader.job_state.
  auto p = d.call("POST", "/api/v1/jobs/account/pause");
  CHECK(p.status == 200);
  CHECK(p.json().at("paused").as_bool());
  CHECK(d.get_json("/api/v1/jobs/account").at("paused").as_bool());
  mh::db::Pool pool(d.db().dsn(), 1);
  CHECK(mh::db::get_job_state(pool, "account").paused);
  CHECK(d.call("POST", "/api/v1/jobs/account/resume").status == 200);
  CHECK_FALSE(d.get_json("/api/v1/jobs/account").at("paused").as_bool());
  CHECK_FALSE(mh::db::get_job_state(pool, "account").paused);

  // The data views after those runs.
  auto loads = d.get_json("/api/v1/loads?limit=10").at("loads").as_array();
  CHECK(loads.size() >= 2);
  auto schema = d.get_json("/api/v1/schema");
  std::set<std::string> tables;
  for (const auto& tb : schema.at("tables").as_array()) tables.insert(std::string(tb.at("name").as_string()));
  CHECK(tables.count("saved_items"));
  CHECK(tables.count("saved_items__tags"));
  auto credits = d.get_json("/api/v1/credits");
  CHECK(credits.at("balance").is_int64());
  CHECK(credits.at("history").as_array().size() >= 1);
  auto upstream = d.get_json("/api/v1/upstream");
  CHECK(upstream.at("up").as_bool());
}

TEST_CASE("control: an uncertain submission is listed and resolved by an operator") {
  Daemon d;
  REQUIRE(d.wait_ready());
  mh::db::Pool pool(d.db().dsn(), 1);
  for (const char* key : {"k-abandon", "k-retry", "k-done"}) {
    mh::db::Submission s;
    s.key = key;
    s.job = "account";
    s.run_id = 1;
    s.resource = "ai_image_generator";
    s.request = json::object{{"image_count", 1}};
    REQUIRE(mh::db::insert_pending(pool, s));
    mh::db::set_submission_state(pool, key, std::string(key) == "k-done" ? "complete" : "uncertain", "test");
  }
  auto listed = d.get_json("/api/v1/submissions?state=uncertain").at("submissions").as_array();
  CHECK(listed.size() == 2);
  auto a = d.call("POST", "/api/v1/submissions/k-abandon/resolve", true, std::string(R"({"action":"abandon"})"));
  CHECK(a.status == 200);
  CHECK(mh::db::get_submission(pool, "k-abandon")->state == "abandoned");
  auto r = d.call("POST", "/api/v1/submissions/k-retry/resolve", true, std::string(R"({"action":"retry"})"));
  CHECK(r.status == 200);
  CHECK_FALSE(mh::db::get_submission(pool, "k-retry").has_value());
  CHECK(d.call("POST", "/api/v1/submissions/k-done/resolve", true, std::string(R"({"action":"retry"})")).status == 409);
  CHECK(d.get_json("/api/v1/submissions?state=uncertain").at("submissions").as_array().empty());
}

TEST_CASE("control: the job list and /metrics show each job's credit budget and budget used") {
  Daemon d({"--render-time", "100ms"}, "", std::nullopt, R"(jobs:
  - name: banners
    credit_budget: 100
    generate:
      - resource: ai_image_generator
        requests:
          - {image_count: 1, model: seedream-v4, resolution: 2k, style: {prompt: "a"}}
          - {image_count: 1, model: flux-schnell, resolution: 1k, style: {prompt: "b"}}
          - {image_count: 1, model: seedream-v4, resolution: 1k, style: {prompt: "c"}}
)");
  REQUIRE(d.wait_ready());
  auto before = d.get_json("/api/v1/jobs/banners");
  CHECK(before.at("credit_budget").as_int64() == 100);
  CHECK(before.at("credit_budget_used").is_null());  // no run yet
  auto t = d.call("POST", "/api/v1/jobs/banners/runs");
  REQUIRE_MESSAGE(t.status == 202, t.body);
  auto done = wait_for_run(d, t.json().at("run_id").as_int64(), finished);
  CHECK(done.at("details").at("credit_guard").at("committed").as_int64() == 85);  // 80 + 5; 40 more would pass 100
  json::value job;
  for (int i = 0; i < 60; ++i) {
    job = d.get_json("/api/v1/jobs/banners");
    if (job.at("last_run").is_object() && job.at("last_run").at("status").as_string() != "running") break;
    std::this_thread::sleep_for(100ms);
  }
  CHECK(job.at("credit_budget_used").as_int64() == 85);
  const std::string metrics = d.call("GET", "/metrics", false).body;
  CHECK(metrics.find("mhloader_credits_budget{job=\"banners\"} 100") != std::string::npos);
  CHECK(metrics.find("mhloader_credits_budget_used{job=\"banners\"} 85") != std::string::npos);
}

TEST_CASE("control: POST /-/reload applies a good config, keeps the old one on a bad one, and says so in metrics") {
  Daemon d;
  REQUIRE(d.wait_ready());
  auto metric = [&](const std::string& name) {
    auto text = d.call("GET", "/metrics", false).body;
    std::smatch m;
    std::regex re("\n" + name + " ([0-9.e+-]+)");
    return std::regex_search(text, m, re) ? std::stod(m[1]) : -1.0;
  };
  CHECK(metric("mhloader_config_last_reload_successful") == 1);

  // A browser on another page cannot make a reload happen.
  CurlOptions cross;
  cross.headers.push_back("Origin: http://evil.example");
  CHECK(curl("POST", d.url("/-/reload"), cross).status == 403);

  d.write_config(jobs_yaml() + "  - {name: added, every: 1h, resources: [status]}\n");
  auto ok = d.call("POST", "/-/reload", false);
  CHECK(ok.status == 200);
  CHECK(ok.json().at("jobs").as_int64() == 3);
  CHECK(d.get_json("/api/v1/jobs/added").at("name").as_string() == "added");

  d.write_config(jobs_yaml() + "  - {name: broken, every: often, resources: [status]}\n");
  auto bad = d.call("POST", "/-/reload", false);
  CHECK(bad.status == 400);
  CHECK(bad.headers["content-type"] == "application/problem+json");
  auto errors = bad.json().at("errors").as_array();
  REQUIRE(errors.size() >= 1);
  const std::string first(errors.at(0).as_string());
  CAPTURE(first);
  CHECK(first.find("at jobs[2].every, line ") != std::string::npos);
  CHECK(first.find("line") != std::string::npos);
  CHECK(metric("mhloader_config_last_reload_successful") == 0);
  CHECK(d.call("GET", "/api/v1/jobs/added").status == 200);  // the old config still runs
  CHECK(d.call("GET", "/api/v1/jobs/broken").status == 404);

  // SIGHUP takes the same path.
  d.write_config(jobs_yaml());
  d.child().signal(SIGHUP);
  REQUIRE(d.child().wait_for_err("msg=\"configuration reloaded\" config", 10s));
  for (int i = 0; i < 50 && metric("mhloader_config_last_reload_successful") != 1; ++i)
    std::this_thread::sleep_for(50ms);
  CHECK(metric("mhloader_config_last_reload_successful") == 1);
  CHECK(d.call("GET", "/api/v1/jobs/added").status == 404);
}

TEST_CASE("control: a reload rotates the API key for every call after it, and one needing a restart is refused whole") {
  Daemon d({"--api-key", "sim-dev-key", "--api-key", "key-two"});
  REQUIRE(d.wait_ready());
  auto uses = [&](const char* key) {
    auto k = mh::test::curl("GET", d.sim().base_url() + "/_sim/stats").json().at("keys").as_object();
    return k.contains(key) ? k.at(key).as_int64() : 0;
  };
  auto run_account = [&] {
    auto t = d.call("POST", "/api/v1/jobs/account/runs");
    REQUIRE_MESSAGE(t.status == 202, t.body);
    auto run = wait_for_run(d, t.json().at("run_id").as_int64(), finished);
    CHECK(run.at("status").as_string() == "succeeded");
  };
  run_account();
  CHECK(uses("sim-dev-key") > 0);
  CHECK(uses("key-two") == 0);

  // Rotated: every call from now on carries key-two.
  d.set_api_key("key-two");
  d.write_config(jobs_yaml());
  REQUIRE(d.call("POST", "/-/reload", false).status == 200);
  const std::int64_t one = uses("sim-dev-key");
  run_account();
  const std::int64_t two = uses("key-two");
  CHECK(two > 0);
  CHECK(uses("sim-dev-key") == one);

  // A new DSN needs a restart: refused whole, so the key in the same file is not taken either.
  d.set_api_key("sim-dev-key");
  d.set_dsn("host=127.0.0.1 port=1 user=other dbname=other");
  d.write_config(jobs_yaml());
  auto refused = d.call("POST", "/-/reload", false);
  CHECK(refused.status == 400);
  auto body = refused.json();
  REQUIRE(body.at("restart_keys").as_array().size() == 1);
  CHECK(body.at("restart_keys").at(0).as_string() == "destination.dsn");
  const std::string error(body.at("errors").at(0).as_string());
  CHECK(error.find("destination.dsn") != std::string::npos);
  CHECK(error.find("other") == std::string::npos);  // names the key, never the value
  run_account();
  CHECK(uses("sim-dev-key") == one);
  CHECK(uses("key-two") > two);

  // SIGHUP is refused the same way and says which keys.
  d.child().signal(SIGHUP);
  REQUIRE(d.child().wait_for_err("msg=\"reload refused; keeping the running configuration\"", 10s));
  CHECK(d.child().err().find("keys=destination.dsn") != std::string::npos);
}

TEST_CASE("control: a run whose job lock connection dies fails loudly and loads nothing") {
  // 30 pages of 150 ms: time to cut the lock's connection while the run extracts.
  Daemon d({"--saved-items", "600", "--fault", "GET /v1/saved-items latency=150ms"});
  REQUIRE(d.wait_ready());
  auto t = d.call("POST", "/api/v1/jobs/account/runs");
  REQUIRE_MESSAGE(t.status == 202, t.body);
  const std::int64_t id = t.json().at("run_id").as_int64();
  auto live = wait_for_run(d, id, [](const json::object& r) {
    for (const auto& res : r.at("resources").as_array()) {
      if (res.at("name").as_string() == "saved_items" && res.at("pages").as_int64() >= 1) return true;
    }
    return false;
  });
  REQUIRE(live.at("status").as_string() == "running");
  {
    // Only this test's database: advisory locks are per database, and other tests run "account" too.
    pqxx::connection c{d.db().dsn()};
    pqxx::nontransaction tx{c};
    auto killed = tx.exec_params(
        "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1 AND "
        "database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND "
        "((classid::bigint << 32) | objid::bigint) = $1",
        mh::db::job_lock_key("account"));
    REQUIRE(killed.size() == 1);
  }
  auto run = wait_for_run(d, id, finished);
  CHECK(run.at("status").as_string() == "failed");
  const std::string error(run.at("error").as_string());
  CHECK(error.find("lock of job account is lost") != std::string::npos);
  // The watcher noticed while pages were still coming and cancelled the run; then nothing loaded.
  CHECK(d.child().err().find("job lock lost; cancelling the run") != std::string::npos);
  CHECK(d.child().err().find("job lock lost; the run stops without loading") != std::string::npos);
  for (const auto& res : run.at("resources").as_array()) {
    if (res.at("name").as_string() == "saved_items") CHECK(res.at("pages").as_int64() < 30);
  }
  pqxx::connection c{d.db().dsn()};
  pqxx::read_transaction tx{c};
  // Nothing was loaded: the dataset does not even exist.
  CHECK(
      tx.exec1("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'magic_hour_data'")[0].as<int>() ==
      0);
}

TEST_CASE("control: /-/ready is 503 with the reason while Postgres is unreachable, /-/healthy stays 200") {
  Daemon d({}, "", std::string("host=127.0.0.1 port=1 user=x dbname=x connect_timeout=1"));
  REQUIRE(d.child().wait_for_err("database not ready; retrying", 10s));
  // Without the token: only which check fails, not libpq's text with the host and user.
  auto anon = d.call("GET", "/-/ready", false);
  CHECK(anon.status == 503);
  CHECK(anon.headers["content-type"] == "application/problem+json");
  CHECK(anon.json().at("failing") == json::array{"database"});
  CHECK_FALSE(anon.json().as_object().contains("reasons"));
  CHECK(anon.body.find("127.0.0.1") == std::string::npos);
  CHECK(anon.body.find("user") == std::string::npos);
  auto r = d.call("GET", "/-/ready");
  CHECK(r.status == 503);
  CHECK(r.json().at("failing") == json::array{"database"});
  auto reasons = r.json().at("reasons").as_array();
  REQUIRE(reasons.size() >= 1);
  CHECK(std::string(reasons.at(0).as_string()).find("database not ready") == 0);
  CHECK(d.call("GET", "/-/healthy", false).status == 200);
  auto trig = d.call("POST", "/api/v1/jobs/account/runs");
  CHECK(trig.status == 503);
  auto runs = d.call("GET", "/api/v1/runs");
  CHECK(runs.status == 503);
  CHECK(std::string(runs.json().at("detail").as_string()).find("postgres is unavailable") == 0);
}

TEST_CASE("control: /metrics is valid exposition format with every family docs/control-plane.md lists") {
  Daemon d;
  REQUIRE(d.wait_ready());
  REQUIRE(d.call("POST", "/api/v1/jobs/manual_only/runs").status == 202);
  std::this_thread::sleep_for(500ms);
  auto r = d.call("GET", "/metrics", false);
  REQUIRE(r.status == 200);
  CHECK(r.headers["content-type"].find("text/plain; version=0.0.4") == 0);

  std::set<std::string> names;
  const auto section = mh::test::markdown_section(slurp(MHLOADER_SOURCE_DIR "/docs/control-plane.md"), "## Metrics");
  for (const auto& row : mh::test::markdown_table(section)) names.insert(mh::test::unquote(row.at("family")));
  REQUIRE(names.size() >= 26);
  for (const auto& n : names) {
    CAPTURE(n);
    CHECK(r.body.find("# TYPE " + n + " ") != std::string::npos);
  }
  CHECK(r.body.find("mhloader_runs_total{job=\"manual_only\",outcome=\"succeeded\"} 1") != std::string::npos);
  CHECK(r.body.find("mhloader_postgres_up 1") != std::string::npos);
  CHECK(r.body.find("mhloader_control_requests_total{code=\"202\",route=\"POST /api/v1/jobs/{job}/runs\"} 1") !=
        std::string::npos);

  // promtool (Debian's prometheus package) lints the exposition.
  TempDir dir;
  std::string file = dir.write("metrics.txt", r.body);
  auto lint = mh::test::run_process({"/bin/sh", "-c", "promtool check metrics < " + file});
  CHECK_MESSAGE(lint.exit_code == 0, lint.out << lint.err);
}

TEST_CASE("control: the Dockerfile HEALTHCHECK and the Kubernetes probes pass against a running daemon") {
  Daemon d;
  REQUIRE(d.wait_ready());
  // HEALTHCHECK ... CMD ["/bin/bash", "-c", "... /dev/tcp/127.0.0.1/8686 ..."]
  const std::string dockerfile = slurp(MHLOADER_SOURCE_DIR "/Dockerfile");
  std::smatch m;
  REQUIRE(std::regex_search(dockerfile, m, std::regex(R"(HEALTHCHECK[^\n]*\\\n\s*CMD (\[[^\n]*\]))")));
  json::array cmd = json::parse(m[1].str()).as_array();
  std::vector<std::string> argv;
  for (const auto& a : cmd) {
    argv.push_back(std::regex_replace(std::string(a.as_string()), std::regex("8686"), std::to_string(d.port())));
  }
  auto healthy = mh::test::run_process(argv);
  CHECK_MESSAGE(healthy.exit_code == 0, healthy.err);

  const std::string deployment = slurp(MHLOADER_SOURCE_DIR "/deploy/k8s/deployment.yaml");
  std::set<std::string> probes;
  const std::regex probe_re(R"(httpGet: \{path: (\S+), port)");
  for (std::sregex_iterator it(deployment.begin(), deployment.end(), probe_re), end; it != end; ++it) {
    probes.insert((*it)[1]);
  }
  CHECK(probes == std::set<std::string>{"/-/healthy", "/-/ready"});
  for (const auto& p : probes) CHECK(d.call("GET", p, false).status == 200);
}

TEST_CASE("control: with control.tls the listener speaks HTTPS only") {
  TempDir certs;
  auto tls = mh::test::make_tls_files(certs);
  Daemon d({}, "  tls: {cert_file: " + tls.cert + ", key_file: " + tls.key + "}\n");
  REQUIRE(d.wait_ready());
  CHECK(d.child().err().find("tls=true") != std::string::npos);
  const std::string https = "https://127.0.0.1:" + std::to_string(d.port());
  CurlOptions o;
  o.cacert = tls.ca;
  o.headers.push_back("Authorization: Bearer " + kToken);
  auto r = curl("GET", https + "/api/v1/jobs", o);
  CHECK(r.status == 200);
  CHECK(r.json().at("jobs").as_array().size() == 2);
  CurlOptions wrong_ca;
  wrong_ca.cacert = tls.other_ca;
  CHECK(curl("GET", https + "/-/healthy", wrong_ca).curl_exit == 60);  // certificate not trusted
  CHECK(d.call("GET", "/-/healthy", false).status == 0);               // plain HTTP gets no answer
}

TEST_CASE(
    "control: TLS handshakes count against max_connections, and one still in its handshake makes room like an idle "
    "one") {
  TempDir certs;
  auto tls = mh::test::make_tls_files(certs);
  // read_timeout (the handshake's bound too) far beyond the test: only eviction closes them.
  Daemon d({}, "  tls: {cert_file: " + tls.cert + ", key_file: " + tls.key +
                   "}\n  max_connections: 3\n  read_timeout: 300s\n");
  REQUIRE(d.wait_ready());
  std::vector<std::unique_ptr<RawConn>> silent;
  for (int i = 0; i < 3; ++i) {
    silent.push_back(std::make_unique<RawConn>(d.port()));
    REQUIRE(silent.back()->ok());
    std::this_thread::sleep_for(100ms);  // accepted in this order: the first is the oldest
  }
  RawConn fourth(d.port());
  REQUIRE(fourth.ok());
  bool closed = false;
  silent.front()->read_until_close(10s, &closed);
  CHECK(closed);  // the cap counted the three handshakes and evicted the oldest
  CurlOptions o;
  o.cacert = tls.ca;
  CHECK(curl("GET", "https://127.0.0.1:" + std::to_string(d.port()) + "/-/healthy", o).status == 200);
}

TEST_CASE("control: Prometheus scrapes the daemon with deploy/'s scrape config and loads its rules") {
  Daemon d;
  REQUIRE(d.wait_ready());
  REQUIRE(d.call("POST", "/api/v1/jobs/manual_only/runs").status == 202);

  // deploy/prometheus/prometheus.yml with the target pointed at this daemon and a 1 s interval.
  TempDir dir;
  std::string config = slurp(MHLOADER_SOURCE_DIR "/deploy/prometheus/prometheus.yml");
  config = std::regex_replace(config, std::regex("mhloader:8686"), "127.0.0.1:" + std::to_string(d.port()));
  config = std::regex_replace(config, std::regex("scrape_interval: 15s"), "scrape_interval: 1s");
  REQUIRE(config.find("127.0.0.1:" + std::to_string(d.port())) != std::string::npos);
  dir.write("prometheus.yml", config);
  dir.write("rules.yml", slurp(MHLOADER_SOURCE_DIR "/deploy/prometheus/rules.yml"));
  // A free port for Prometheus' own listener.
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  REQUIRE(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  const int prom_port = ntohs(a.sin_port);
  ::close(s);
  Child prometheus({"/usr/bin/prometheus", "--config.file=" + dir.path() + "/prometheus.yml",
                    "--storage.tsdb.path=" + dir.path() + "/data",
                    "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)});
  const std::string api = "http://127.0.0.1:" + std::to_string(prom_port) + "/api/v1/query?query=";
  auto query = [&](const std::string& q) {
    auto r = curl("GET", api + q);
    if (r.status != 200) return json::array();
    return r.json().at("data").at("result").as_array();
  };
  json::array up, runs;
  for (int i = 0; i < 100 && (up.empty() || runs.empty()); ++i) {
    std::this_thread::sleep_for(200ms);
    up = query("up%7Bjob%3D%22mhloader%22%7D");
    runs = query("mhloader_runs_total%7Bjob%3D%22manual_only%22%2Coutcome%3D%22succeeded%22%7D");
  }
  REQUIRE_MESSAGE(!up.empty(), prometheus.err());
  CHECK(up.at(0).at("value").at(1).as_string() == "1");
  // honor_labels keeps the series' own `job` (the mhloader job), not the scrape job's name.
  REQUIRE(!runs.empty());
  CHECK(runs.at(0).at("value").at(1).as_string() == "1");
  // The alert rules loaded and evaluate against the live series.
  auto rules = curl("GET", "http://127.0.0.1:" + std::to_string(prom_port) + "/api/v1/rules");
  REQUIRE(rules.status == 200);
  const json::value rules_doc = rules.json();
  std::size_t n = 0;
  for (const auto& g : rules_doc.at("data").at("groups").as_array()) n += g.at("rules").as_array().size();
  CHECK(n >= 9);
  prometheus.signal(SIGTERM);
  prometheus.wait(10s);
}

TEST_CASE("control: SIGTERM closes idle keep-alive connections and does not wait for stalled ones") {
  Daemon d;
  REQUIRE(d.wait_ready());
  RawConn idle(d.port());
  REQUIRE(idle.ok());
  idle.send("GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n");
  bool closed = true;
  CHECK(idle.read_until_close(500ms, &closed).find("HTTP/1.1 200") == 0);
  CHECK_FALSE(closed);  // kept alive
  RawConn stalled(d.port());
  REQUIRE(stalled.ok());
  stalled.send("GET /-/healthy HTTP/1.1\r\n");  // never finished
  std::this_thread::sleep_for(100ms);
  auto started = std::chrono::steady_clock::now();
  d.child().signal(SIGTERM);
  idle.read_until_close(5s, &closed);
  CHECK(closed);
  auto r = d.child().wait(10s);
  CHECK(r.exit_code == 0);
  CHECK(std::chrono::steady_clock::now() - started < 5s);  // not the 10 s read_timeout nor the 60 s idle_timeout
}

TEST_CASE("control: /-/ready never shows the database password libpq quotes") {
  // libpq quotes a URI password with a bad percent escape in its error message.
  Daemon d({}, "", std::string("postgresql://mh:SECRETPW%zz@127.0.0.1:1/mh"));
  REQUIRE(d.child().wait_for_err("database not ready; retrying", 10s));
  auto anon = d.call("GET", "/-/ready", false);
  CHECK(anon.status == 503);
  CHECK(anon.body.find("SECRETPW") == std::string::npos);
  CHECK(anon.body.find("***") == std::string::npos);  // no libpq text at all without the token
  auto r = d.call("GET", "/-/ready");
  CHECK(r.status == 503);
  CHECK(r.body.find("SECRETPW") == std::string::npos);
  CHECK(r.body.find("***") != std::string::npos);
  CHECK(d.child().err().find("SECRETPW") == std::string::npos);
}

TEST_CASE("control: a Postgres outage delays a job's schedule and readiness, and both come back") {
  Daemon d({}, "", std::nullopt, "jobs:\n  - {name: ticking, every: 1s, resources: [status]}\n");
  REQUIRE(d.wait_ready());
  // A connection of its own per count: one cut by the outage would make libpqxx 6.4 leak
  // a PGresult when it notices (LeakSanitizer reports it in the ASan build).
  auto runs = [&]() -> std::size_t {
    mh::db::Pool pool(d.db().dsn(), 1);
    return mh::db::list_runs(pool, std::string("ticking"), std::string("succeeded"), 1000, {}).size();
  };
  for (int i = 0; i < 100 && runs() < 1; ++i) std::this_thread::sleep_for(50ms);
  REQUIRE(runs() >= 1);

  // The outage: nobody may connect to the database, and the daemon's connections are cut.
  auto admin = [&](const std::string& sql) {
    auto r = mh::test::run_process({"/usr/bin/psql", mh::test::admin_dsn(), "-v", "ON_ERROR_STOP=1", "-qc", sql});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  };
  const std::string db = d.db().name();
  admin("ALTER DATABASE \"" + db + "\" ALLOW_CONNECTIONS false");
  admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + db + "'");
  REQUIRE_MESSAGE(d.child().wait_for_err("cannot reach the job's state in Postgres; retrying", 10s), d.child().err());
  bool unready = false;
  for (int i = 0; i < 100 && !unready; ++i) {
    unready = d.call("GET", "/-/ready", false).status == 503;
    if (!unready) std::this_thread::sleep_for(100ms);
  }
  CHECK(unready);  // the Postgres monitor probes every 5 s

  admin("ALTER DATABASE \"" + db + "\" ALLOW_CONNECTIONS true");
  const auto before = runs();
  for (int i = 0; i < 200 && runs() < before + 2; ++i) std::this_thread::sleep_for(50ms);
  CHECK(runs() >= before + 2);  // the schedule goes on
  bool ready = false;
  for (int i = 0; i < 100 && !ready; ++i) {
    ready = d.call("GET", "/-/ready", false).status == 200;
    if (!ready) std::this_thread::sleep_for(100ms);
  }
  CHECK(ready);
  CHECK(d.child().err().find("schedule stopped on an error") == std::string::npos);
}

TEST_CASE("control: a Host header outside the allow-list is refused (DNS rebinding), the probes are exempt") {
  auto with_host = [](const Daemon& d, const std::string& path, const std::string& host) {
    CurlOptions o;
    o.headers = {"Authorization: Bearer " + kToken, "Host: " + host};
    return curl("GET", d.url(path), o).status;
  };
  {
    Daemon d;  // on loopback: the loopback names only
    REQUIRE(d.wait_ready());
    const std::string port = std::to_string(d.port());
    CHECK(with_host(d, "/api/v1/jobs", "127.0.0.1:" + port) == 200);
    CHECK(with_host(d, "/api/v1/jobs", "LOCALHOST:" + port) == 200);
    CHECK(with_host(d, "/api/v1/jobs", "[::1]:" + port) == 200);
    CHECK(with_host(d, "/api/v1/jobs", "evil.example:" + port) == 403);
    CHECK(with_host(d, "/metrics", "evil.example") == 403);
    CHECK(with_host(d, "/", "evil.example") == 403);
    CHECK(with_host(d, "/-/healthy", "evil.example") == 200);
    CHECK(with_host(d, "/-/ready", "10.1.2.3:" + port) == 200);
  }
  Daemon d({}, "  allowed_hosts: [mhloader.internal]\n");
  REQUIRE(d.wait_ready());
  CHECK(with_host(d, "/api/v1/jobs", "mhloader.internal:8686") == 200);
  CHECK(with_host(d, "/api/v1/jobs", "localhost") == 403);
}

TEST_CASE("control: POST /-/reload needs the token when the listener is not on loopback") {
  {
    Daemon d;  // loopback: no token needed (only this host reaches it)
    REQUIRE(d.wait_ready());
    CHECK(d.call("POST", "/-/reload", false).status == 200);
  }
  Daemon d({}, "", std::nullopt, jobs_yaml(), "0.0.0.0");
  REQUIRE(d.wait_ready());
  auto r = d.call("POST", "/-/reload", false);
  CHECK(r.status == 401);
  CHECK(r.headers["www-authenticate"] == "Bearer realm=\"mhloader\"");
  CHECK(d.child().err().find("configuration reloaded") == std::string::npos);
  CHECK(d.call("POST", "/-/reload").status == 200);
}

TEST_CASE("control: the daemon cannot leave a core dump (RLIMIT_CORE 0, not dumpable)") {
  Daemon d;
  std::ifstream in("/proc/" + std::to_string(d.child().pid()) + "/limits");
  std::string line, core;
  while (std::getline(in, line)) {
    if (line.rfind("Max core file size", 0) == 0) core = line;
  }
  REQUIRE_FALSE(core.empty());
  CHECK(std::regex_search(core, std::regex(R"(^Max core file size\s+0\s+0\s)")));
}
