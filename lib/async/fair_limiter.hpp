// A limit on concurrent operations (upstream requests in flight), shared fairly:
// waiters queue per key (a job) and freed slots go round-robin across keys, so
// one job with 200 requests cannot starve another with 2.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstddef>
#include <deque>
#include <list>
#include <map>
#include <string>

namespace mh::async {

class FairLimiter {
 public:
  class Permit {
   public:
    Permit() = default;
    explicit Permit(FairLimiter* owner) : owner_(owner) {}
    Permit(Permit&& o) noexcept : owner_(o.owner_) { o.owner_ = nullptr; }
    Permit& operator=(Permit&& o) noexcept;
    ~Permit() { release(); }
    void release();

   private:
    FairLimiter* owner_ = nullptr;
  };

  // Must be used from one thread (the io_context's).
  FairLimiter(boost::asio::any_io_executor executor, std::size_t limit);

  boost::asio::awaitable<Permit> acquire(const std::string& key);
  std::size_t limit() const { return limit_; }
  std::size_t in_flight() const { return in_flight_; }
  std::size_t peak_in_flight() const { return peak_; }

 private:
  struct Waiter {
    boost::asio::steady_timer timer;
    bool granted = false;
  };
  class Queued;
  void release_one();
  void grant_waiters();

  boost::asio::any_io_executor executor_;
  std::size_t limit_;
  std::size_t in_flight_ = 0;
  std::size_t peak_ = 0;
  std::map<std::string, std::deque<Waiter*>> queues_;
  std::list<std::string> order_;  // keys with waiters, in round-robin order
};

}  // namespace mh::async
