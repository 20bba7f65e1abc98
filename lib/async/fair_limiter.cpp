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

// A waiter's place in its queue. When the waiting coroutine is destroyed instead of
// resumed (shutdown destroys suspended frames), it leaves the queue, or hands back the
// slot it was granted but never took, so that no release later touches a dead frame.
class FairLimiter::Queued {
 public:
  Queued(FairLimiter& owner, const std::string& key, Waiter& w) : owner_(owner), key_(key), w_(w) {
    auto& q = owner_.queues_[key_];
    q.push_back(&w_);  // first: order_ never names an empty queue, even if a push throws
    if (q.size() == 1) {
      try {
        owner_.order_.push_back(key_);
      } catch (...) {
        q.pop_back();
        throw;
      }
    }
  }
  Queued(const Queued&) = delete;
  Queued& operator=(const Queued&) = delete;
  ~Queued() {
    if (taken_) return;
    if (w_.granted) {
      owner_.release_one();
      return;
    }
    auto it = owner_.queues_.find(key_);
    if (it == owner_.queues_.end()) return;
    std::erase(it->second, &w_);
    if (it->second.empty()) {
      owner_.queues_.erase(it);
      owner_.order_.remove(key_);
    }
  }
  Permit take() {
    taken_ = true;
    return Permit(&owner_);
  }

 private:
  FairLimiter& owner_;
  std::string key_;
  Waiter& w_;
  bool taken_ = false;
};

boost::asio::awaitable<FairLimiter::Permit> FairLimiter::acquire(const std::string& key) {
  if (in_flight_ < limit_ && order_.empty()) {
    peak_ = std::max(peak_, ++in_flight_);
    co_return Permit(this);
  }
  Waiter w{boost::asio::steady_timer(executor_, boost::asio::steady_timer::time_point::max()), false};
  Queued queued(*this, key, w);
  // The grant cancels the timer; a timer that somehow expires is re-armed.
  while (!w.granted) {
    co_await w.timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }
  co_return queued.take();
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
