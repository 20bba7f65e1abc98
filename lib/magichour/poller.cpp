#include "magichour/poller.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "async/join.hpp"
#include "log/log.hpp"

namespace mh::magichour {
namespace asio = boost::asio;

asio::awaitable<PollResult> poll_project(Client& client, const std::string& id, const PollSettings& settings,
                                         const CallOptions& caller_options, const PollUpdate& on_update) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const auto deadline = std::chrono::steady_clock::now() + settings.timeout;
  auto wait = settings.interval;
  PollResult result{id, "", std::nullopt, ""};
  // Each GET is one attempt: the poll loop itself is the retry, paced by the interval.
  CallOptions options = caller_options;
  options.max_attempts = 1;
  std::optional<async::Cancellation::Registration> wake;
  if (settings.cancellation) wake.emplace(settings.cancellation->on_request([&timer] { timer.cancel(); }));
  auto cancelled = [&] { return settings.cancellation != nullptr && settings.cancellation->requested(); };
  for (;;) {
    if (cancelled()) {
      result.outcome = "cancelled";  // the project renders on upstream; a later poll can pick it up
      co_return result;
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      result.outcome = "timeout";
      co_return result;
    }
    timer.expires_after(std::min<std::chrono::steady_clock::duration>(wait, deadline - now));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (cancelled()) continue;
    try {
      Project p = co_await client.project(id, options);
      if (on_update) on_update(p);
      const bool done = p.terminal();
      if (done) result.outcome = p.status;
      result.project = std::move(p);
      if (done) co_return result;
      wait = settings.interval;
    } catch (const ApiError& e) {
      bool transient = e.kind() == ErrorKind::rate_limited || e.kind() == ErrorKind::server ||
                       e.kind() == ErrorKind::transport || e.kind() == ErrorKind::protocol;
      if (!transient) {
        result.outcome = "failed";
        result.error = e.what();
        co_return result;
      }
      result.error = e.what();
      wait = std::min(wait * 2, settings.max_backoff);  // back off while Magic Hour struggles
      log::debug("project poll failed; backing off", {{"project", id}, {"error", e.what()}});
    }
  }
}

asio::awaitable<std::vector<PollResult>> poll_projects(Client& client, const std::vector<std::string>& ids,
                                                       const PollSettings& settings, const CallOptions& options,
                                                       const PollUpdate& on_update) {
  std::vector<PollResult> results(ids.size());
  std::vector<async::Task> tasks;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    tasks.push_back([&, i]() -> asio::awaitable<void> {
      results[i] = co_await poll_project(client, ids[i], settings, options, on_update);
    });
  }
  co_await async::join_all(std::move(tasks));
  co_return results;
}

}  // namespace mh::magichour
