// A run's cancellation: a flag its loops check between steps, and wake-ups for
// the coroutines sleeping meanwhile (a poll interval or backoff can last a
// minute), so that a cancel takes effect at once. I/O thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>

namespace mh::async {

class Cancellation {
 public:
  Cancellation() = default;
  Cancellation(const Cancellation&) = delete;  // the flag's address is handed out
  Cancellation& operator=(const Cancellation&) = delete;

  bool requested() const noexcept { return state_->requested; }
  // For code that only checks between steps (extraction, between pages).
  const bool* flag() const noexcept { return &state_->requested; }
  // Sets the flag and calls every registered wake-up once.
  void request();

  struct State {
    bool requested = false;
    std::uint64_t next_id = 0;
    std::map<std::uint64_t, std::function<void()>> wakes;
  };

  // Keeps a wake-up registered while it lives. It shares the wake-ups' state, so it may
  // outlive the Cancellation: at shutdown suspended coroutines are destroyed in no
  // particular order, a run's before the requests it started.
  class Registration {
   public:
    Registration() = default;
    Registration(std::shared_ptr<State> state, std::uint64_t id) : state_(std::move(state)), id_(id) {}
    Registration(Registration&& o) noexcept = default;
    Registration& operator=(Registration&&) = delete;
    Registration(const Registration&) = delete;
    ~Registration();

   private:
    std::shared_ptr<State> state_;
    std::uint64_t id_ = 0;
  };
  // `wake` runs on request() (at once when already requested), e.g. to cancel a sleeping timer.
  [[nodiscard]] Registration on_request(std::function<void()> wake);

 private:
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace mh::async
