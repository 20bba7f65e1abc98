// Starts a background coroutine that nobody waits for; an exception escaping it is
// logged (asio::detached would drop it silently) instead of being lost.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <utility>

namespace mh::async {

namespace detail {
// Runs `task`, logging what escapes it under `what` (a string that outlives the task).
boost::asio::awaitable<void> logged(boost::asio::awaitable<void> task, const char* what);
}  // namespace detail

// `what` names the task in the log line: a string literal, typically.
template <typename ExecutorOrContext>
void spawn(ExecutorOrContext&& ex, boost::asio::awaitable<void> task, const char* what) {
  boost::asio::co_spawn(std::forward<ExecutorOrContext>(ex), detail::logged(std::move(task), what),
                        boost::asio::detached);
}

}  // namespace mh::async
