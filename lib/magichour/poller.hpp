// Polls generation projects until they finish: many at once (each GET takes a
// slot of the concurrency limit), every `interval`, backing off while Magic Hour
// answers 429/5xx or not at all, and giving up on a project after `timeout` or
// at once when its run is cancelled.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "async/cancel.hpp"
#include "magichour/client.hpp"

namespace mh::magichour {

struct PollSettings {
  std::chrono::milliseconds interval{3000};
  std::chrono::milliseconds timeout{600'000};
  std::chrono::milliseconds max_backoff{60'000};
  // When set, a cancel ends polling at once (the sleep is woken), not after the
  // project finishes or `timeout`: shutdown must not wait out a long render.
  async::Cancellation* cancellation = nullptr;
};

struct PollResult {
  std::string id;
  std::string outcome;             // complete | error | canceled | timeout | failed | cancelled (by us, not upstream)
  std::optional<Project> project;  // the last state seen
  std::string error;               // why it failed (an ApiError's message)
};

// Called with each state seen (the jobs layer records progress with it).
using PollUpdate = std::function<void(const Project&)>;

// References, not copies: the caller's objects outlive the co_await (see README,
// "Coroutines and GCC 12"). `on_update` may be empty.
boost::asio::awaitable<PollResult> poll_project(Client& client, const std::string& id, const PollSettings& settings,
                                                const CallOptions& options, const PollUpdate& on_update);

// Results in the order of `ids`.
boost::asio::awaitable<std::vector<PollResult>> poll_projects(Client& client, const std::vector<std::string>& ids,
                                                              const PollSettings& settings, const CallOptions& options,
                                                              const PollUpdate& on_update);

}  // namespace mh::magichour
