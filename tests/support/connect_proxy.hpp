// A minimal HTTP CONNECT proxy on a loopback port, on its own thread, for the
// client's proxy tests: it tunnels bytes and counts the tunnels it opened.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace mh::test {

class ConnectProxy {
 public:
  ConnectProxy();
  ~ConnectProxy();
  std::uint16_t port() const;
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port()); }
  int tunnels() const;                           // CONNECTs accepted
  int open_tunnels() const;                      // tunnels the client has not closed yet
  std::string last_target() const;               // host:port of the last CONNECT
  std::string last_proxy_authorization() const;  // its Proxy-Authorization header, empty when none

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace mh::test
