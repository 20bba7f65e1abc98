// A TCP proxy in front of the test PostgreSQL that reads the client's side of
// the wire protocol and, when armed, cuts the connection at the first COPY
// data message, as if the server went away in the middle of a load's COPY.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace mh::test {

class PgCutProxy {
 public:
  // Forwards to the server of `dsn` (keyword form, host=… port=…).
  explicit PgCutProxy(const std::string& dsn);
  ~PgCutProxy();
  PgCutProxy(const PgCutProxy&) = delete;
  PgCutProxy& operator=(const PgCutProxy&) = delete;

  std::uint16_t port() const;
  // `dsn` through the proxy, with TLS and GSS encryption off so the protocol stays readable.
  std::string through(const std::string& dsn) const;
  // The next connection that sends COPY data is closed before that data reaches the server.
  void cut_next_copy();
  int cuts() const;           // connections cut so far
  int copy_messages() const;  // CopyData messages forwarded (all connections)

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace mh::test
