#include "async/cancel.hpp"

#include <utility>

namespace mh::async {

void Cancellation::request() {
  if (requested_) return;
  requested_ = true;
  // A wake-up may end its Registration (and erase itself): call from a copy.
  auto wakes = std::exchange(wakes_, {});
  for (auto& [id, wake] : wakes) wake();
}

Cancellation::Registration Cancellation::on_request(std::function<void()> wake) {
  if (requested_) {
    wake();
    return {};
  }
  std::uint64_t id = ++next_id_;
  wakes_.emplace(id, std::move(wake));
  return {this, id};
}

Cancellation::Registration::~Registration() {
  if (owner_ != nullptr) owner_->wakes_.erase(id_);
}

}  // namespace mh::async
