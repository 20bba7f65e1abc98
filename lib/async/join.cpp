#include "async/join.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <memory>

#include "async/spawn.hpp"

namespace mh::async {
namespace asio = boost::asio;

namespace {

struct JoinState {
  explicit JoinState(asio::any_io_executor ex) : done(ex, asio::steady_timer::time_point::max()) {}
  std::size_t remaining = 0;
  std::exception_ptr first_error;
  asio::steady_timer done;
};

// Parameters, not lambda captures: they live in this coroutine's own frame.
asio::awaitable<void> run_one(std::shared_ptr<JoinState> state, Task task) {
  try {
    co_await task();
  } catch (...) {
    if (!state->first_error) state->first_error = std::current_exception();
  }
  if (--state->remaining == 0) state->done.cancel();
}

}  // namespace

asio::awaitable<void> join_all(std::vector<Task> tasks) {
  auto ex = co_await asio::this_coro::executor;
  auto state = std::make_shared<JoinState>(ex);
  state->remaining = tasks.size();
  if (tasks.empty()) co_return;
  for (auto& t : tasks) async::spawn(ex, run_one(state, std::move(t)), "joined task");
  while (state->remaining > 0) co_await state->done.async_wait(asio::as_tuple(asio::use_awaitable));
  if (state->first_error) std::rethrow_exception(state->first_error);
}

}  // namespace mh::async
