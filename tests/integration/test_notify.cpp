// `mhloader serve` under systemd's notify protocol: the test binds its own Unix
// datagram socket as NOTIFY_SOCKET and checks what the real daemon sends and when.
#include <doctest/doctest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "support/pg.hpp"
#include "support/process.hpp"
#include "support/sim.hpp"
#include "support/temp_dir.hpp"

using namespace std::chrono_literals;
using mh::test::Child;
using mh::test::ProcessOptions;
using mh::test::TempDir;

namespace {

std::uint64_t monotonic_usec() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000u + static_cast<std::uint64_t>(ts.tv_nsec) / 1'000u;
}

struct Message {
  std::string text;  // e.g. "RELOADING=1\nMONOTONIC_USEC=123"
  pid_t pid = 0;     // the sender, from SCM_CREDENTIALS (systemd's NotifyAccess=main checks it)

  bool has(const std::string& assignment) const {
    return ("\n" + text + "\n").find("\n" + assignment + "\n") != std::string::npos;
  }
  std::optional<std::string> value(const std::string& key) const {
    std::string s = "\n" + text;
    auto at = s.find("\n" + key + "=");
    if (at == std::string::npos) return std::nullopt;
    at += key.size() + 2;
    return s.substr(at, s.find('\n', at) - at);
  }
};

// What systemd listens on: an AF_UNIX datagram socket that asks for sender credentials.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    REQUIRE(path.size() < sizeof(addr.sun_path));
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    int on = 1;
    REQUIRE(::setsockopt(fd_, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) == 0);
  }
  ~NotifySocket() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  std::optional<Message> receive(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
    char data[4096];
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
    iovec iov{data, sizeof(data)};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    ssize_t n = ::recvmsg(fd_, &msg, 0);
    REQUIRE(n >= 0);
    Message m;
    m.text.assign(data, static_cast<std::size_t>(n));
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
        ucred cred{};
        std::memcpy(&cred, CMSG_DATA(c), sizeof(cred));
        m.pid = cred.pid;
      }
    }
    return m;
  }

  // Every message until (and including) the first one holding `assignment`;
  // empty when none arrives in time.
  std::vector<Message> until(const std::string& assignment, std::chrono::milliseconds timeout) {
    std::vector<Message> got;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) return {};
      auto m = receive(left);
      if (!m) return {};
      got.push_back(*m);
      if (m->has(assignment)) return got;
    }
  }

  // Everything that arrives within `period`.
  std::vector<Message> during(std::chrono::milliseconds period) {
    std::vector<Message> got;
    auto deadline = std::chrono::steady_clock::now() + period;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) return got;
      if (auto m = receive(left)) got.push_back(*m);
    }
  }

 private:
  std::string path_;
  int fd_ = -1;
};

std::string config_yaml(const std::string& dsn, const std::string& state_dir) {
  return "state_dir: " + state_dir + "\nmagic_hour: {api_key: mhk_notify_test}\ndestination:\n  dsn: \"" + dsn +
         "\"\ncontrol: {listen: \"127.0.0.1:0\"}\njobs: [{name: account, every: 1m, resources: [credits]}]\n";
}

ProcessOptions notify_env(const std::string& socket_path, const std::string& watchdog_usec) {
  ProcessOptions o = mh::test::daemon_env();
  o.env["NOTIFY_SOCKET"] = socket_path;
  o.env["WATCHDOG_USEC"] = watchdog_usec;
  return o;
}

// systemd sets WATCHDOG_PID to the service's main pid. The shell learns its own pid
// and execs mhloader, which keeps it: the daemon sees its real pid, as under systemd.
std::vector<std::string> serve_with_own_watchdog_pid(const std::string& config) {
  return {"/bin/sh",  "-c",  "WATCHDOG_PID=$$; export WATCHDOG_PID; exec \"$0\" \"$@\"", MHLOADER_BIN, "serve",
          "--config", config};
}

int count(const std::vector<Message>& ms, const std::string& assignment) {
  int n = 0;
  for (const auto& m : ms) n += m.has(assignment) ? 1 : 0;
  return n;
}

std::string dump(const std::vector<Message>& ms) {
  std::string s;
  for (const auto& m : ms) s += "[" + m.text + "] ";
  return s;
}

}  // namespace

TEST_CASE("notify: READY after start-up, WATCHDOG pings, RELOADING/READY on SIGHUP, STOPPING on SIGTERM") {
  mh::test::TempDatabase db;
  TempDir dir;
  NotifySocket sock(dir.path() + "/notify.sock");
  std::string file = dir.write("mhloader.yaml", config_yaml(db.dsn(), dir.path() + "/state"));
  // WatchdogSec=0.4s: the daemon must ping every 200 ms.
  Child daemon(serve_with_own_watchdog_pid(file), notify_env(dir.path() + "/notify.sock", "400000"));

  auto start = sock.until("READY=1", 20s);
  REQUIRE_MESSAGE(!start.empty(), "no READY=1; stderr: " << daemon.err());
  // READY=1 comes after the daemon is ready (its log line is written first), and only once.
  CHECK(daemon.err().find("msg=\"mhloader ready\"") != std::string::npos);
  CHECK(count(start, "READY=1") == 1);
  // ... and after the control listener is up: it answers at once.
  std::smatch port;
  const std::string log = daemon.err();
  REQUIRE(std::regex_search(log, port, std::regex(R"(msg="control plane listening" listen=127\.0\.0\.1:(\d+))")));
  auto healthy = mh::test::curl("GET", "http://127.0.0.1:" + port[1].str() + "/-/ready");
  CHECK_MESSAGE(healthy.status == 200, healthy.body);
  for (const auto& m : start) {
    CHECK_MESSAGE(m.pid == daemon.pid(), "sent by pid " << m.pid << ", main pid is " << daemon.pid());
    CHECK_FALSE(m.has("RELOADING=1"));
    CHECK_FALSE(m.has("STOPPING=1"));
  }

  // About five pings a second; far fewer means no watchdog, far more a wrong interval.
  auto steady = sock.during(1000ms);
  int pings = count(steady, "WATCHDOG=1");
  CHECK_MESSAGE(pings >= 3, dump(steady));
  CHECK_MESSAGE(pings <= 8, dump(steady));
  CHECK(pings == static_cast<int>(steady.size()));  // nothing else while idle

  std::uint64_t before = monotonic_usec();
  daemon.signal(SIGHUP);
  auto reload = sock.until("RELOADING=1", 10s);
  std::uint64_t after = monotonic_usec();
  REQUIRE_MESSAGE(!reload.empty(), daemon.err());
  CHECK(count(reload, "READY=1") == 0);
  auto stamp = reload.back().value("MONOTONIC_USEC");
  REQUIRE_MESSAGE(stamp.has_value(), reload.back().text);
  std::uint64_t usec = std::stoull(*stamp);
  CHECK(usec >= before);
  CHECK(usec <= after);
  auto reloaded = sock.until("READY=1", 10s);
  REQUIRE_MESSAGE(!reloaded.empty(), daemon.err());
  CHECK(count(reloaded, "RELOADING=1") == 0);
  CHECK(daemon.err().find("msg=\"configuration reloaded\"") != std::string::npos);

  daemon.signal(SIGTERM);
  auto stop = sock.until("STOPPING=1", 10s);
  REQUIRE_MESSAGE(!stop.empty(), daemon.err());
  CHECK(stop.back().pid == daemon.pid());
  auto r = daemon.wait(10s);
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == 0);
  // Nothing after STOPPING=1: the watchdog stops with the event loop.
  auto late = sock.during(300ms);
  CHECK_MESSAGE(late.empty(), dump(late));
}

TEST_CASE("notify: no READY while the database is unreachable, and no WATCHDOG for another WATCHDOG_PID") {
  TempDir dir;
  NotifySocket sock(dir.path() + "/notify.sock");
  std::string file =
      dir.write("mhloader.yaml", config_yaml("host=127.0.0.1 port=1 user=x dbname=x", dir.path() + "/state"));
  ProcessOptions o = notify_env(dir.path() + "/notify.sock", "200000");
  o.env["WATCHDOG_PID"] = "1";  // the watchdog belongs to another process: not ours to feed
  Child daemon({MHLOADER_BIN, "serve", "--config", file}, o);

  REQUIRE_MESSAGE(daemon.wait_for_err("database not ready; retrying", 10s), daemon.err());
  daemon.signal(SIGHUP);  // before READY=1 a reload must not report RELOADING=1/READY=1
  REQUIRE_MESSAGE(daemon.wait_for_err("configuration reloaded", 10s), daemon.err());
  auto waiting = sock.during(1500ms);
  CHECK_MESSAGE(count(waiting, "STATUS=waiting for the database") >= 1, dump(waiting));
  CHECK_MESSAGE(count(waiting, "READY=1") == 0, dump(waiting));
  CHECK_MESSAGE(count(waiting, "RELOADING=1") == 0, dump(waiting));
  CHECK_MESSAGE(count(waiting, "WATCHDOG=1") == 0, dump(waiting));

  daemon.signal(SIGTERM);
  auto stop = sock.until("STOPPING=1", 10s);
  CHECK_MESSAGE(!stop.empty(), daemon.err());
  auto r = daemon.wait(15s);
  CHECK(r.exit_code == 0);
}
