#include "async/spawn.hpp"

#include <exception>

#include "log/log.hpp"

namespace mh::async::detail {

// Parameters, not lambda captures: they live in this coroutine's own frame.
boost::asio::awaitable<void> logged(boost::asio::awaitable<void> task, const char* what) {
  try {
    co_await std::move(task);
  } catch (const std::exception& e) {
    log::error("a background task failed", {{"task", what}, {"error", e.what()}});
  } catch (...) {
    log::error("a background task failed", {{"task", what}, {"error", "an unknown exception"}});
  }
}

}  // namespace mh::async::detail
