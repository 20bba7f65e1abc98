#include "async/cancel.hpp"

#include <utility>

namespace mh::async {

void Cancellation::request() {
  if (state_->requested) return;
  state_->requested = true;
  // A wake-up may end its Registration (and erase itself): call from a copy.
  auto wakes = std::exchange(state_->wakes, {});
  for (auto& [id, wake] : wakes) wake();
}

Cancellation::Registration Cancellation::on_request(std::function<void()> wake) {
  if (state_->requested) {
    wake();
    return {};
  }
  std::uint64_t id = ++state_->next_id;
  state_->wakes.emplace(id, std::move(wake));
  return {state_, id};
}

Cancellation::Registration::~Registration() {
  if (state_) state_->wakes.erase(id_);
}

}  // namespace mh::async
