#include "async/fair_limiter.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace mh::async {

FairLimiter::Permit& FairLimiter::Permit::operator=(Permit&& o) noexcept {
  if (this != &o) {
    release();
    owner_ = o.owner_;
    o.owner_ = nullptr;
  }
  return *this;
}

void FairLimiter::Permit::release() {
  if (owner_ != nullptr) {
    owner_->release_one();
    owner_ = nullptr;
  }
}

FairLimiter::FairLimiter(boost::asio::any_io_executor executor, std::size_t limit)
    : executor_(std::move(executor)), limit_(limit == 0 ? 1 : limit) {}

boost::asio::awaitable<FairLimiter::Permit> FairLimiter::acquire(const std::string& key) {
  if (in_flight_ < limit_ && order_.empty()) {
    peak_ = std::max(peak_, ++in_flight_);
    co_return Permit(this);
  }
  Waiter w{boost::asio::steady_timer(executor_, boost::asio::steady_timer::time_point::max()), false};
  auto& q = queues_[key];
  if (q.empty()) order_.push_back(key);
  q.push_back(&w);
  // The grant cancels the timer; a timer that somehow expires is re-armed.
  while (!w.granted) {
    co_await w.timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }
  co_return Permit(this);
}

void FairLimiter::release_one() {
  --in_flight_;
  grant_waiters();
}

void FairLimiter::grant_waiters() {
  while (in_flight_ < limit_ && !order_.empty()) {
    std::string key = order_.front();
    order_.pop_front();
    auto& q = queues_[key];
    Waiter* w = q.front();
    q.pop_front();
    if (q.empty()) {
      queues_.erase(key);
    } else {
      order_.push_back(key);  // this key waits for its next turn
    }
    peak_ = std::max(peak_, ++in_flight_);
    w->granted = true;
    w->timer.cancel();
  }
}

}  // namespace mh::async
