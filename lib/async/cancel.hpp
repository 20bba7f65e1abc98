// A run's cancellation: a flag its loops check between steps, and wake-ups for
// the coroutines sleeping meanwhile (a poll interval or backoff can last a
// minute), so that a cancel takes effect at once. I/O thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>

namespace mh::async {

class Cancellation {
 public:
  Cancellation() = default;
  Cancellation(const Cancellation&) = delete;  // wake-ups refer to this object
  Cancellation& operator=(const Cancellation&) = delete;

  bool requested() const noexcept { return requested_; }
  // For code that only checks between steps (extraction, between pages).
  const bool* flag() const noexcept { return &requested_; }
  // Sets the flag and calls every registered wake-up once.
  void request();

  // Keeps a wake-up registered while it lives.
  class Registration {
   public:
    Registration() = default;
    Registration(Cancellation* owner, std::uint64_t id) : owner_(owner), id_(id) {}
    Registration(Registration&& o) noexcept : owner_(o.owner_), id_(o.id_) { o.owner_ = nullptr; }
    Registration& operator=(Registration&&) = delete;
    Registration(const Registration&) = delete;
    ~Registration();

   private:
    Cancellation* owner_ = nullptr;
    std::uint64_t id_ = 0;
  };
  // `wake` runs on request() (at once when already requested), e.g. to cancel a sleeping timer.
  [[nodiscard]] Registration on_request(std::function<void()> wake);

 private:
  bool requested_ = false;
  std::uint64_t next_id_ = 0;
  std::map<std::uint64_t, std::function<void()>> wakes_;
};

}  // namespace mh::async
