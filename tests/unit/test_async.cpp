// The async building blocks at shutdown (issue 13 point 8): coroutines destroyed while
// suspended, rather than resumed, leave the limiter and cancellations consistent.
#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>

#include "async/cancel.hpp"
#include "async/fair_limiter.hpp"
#include "async/io_loop.hpp"

namespace asio = boost::asio;
using mh::async::Cancellation;
using mh::async::FairLimiter;
using mh::async::IoLoop;

namespace {

// Takes a permit, then sleeps forever holding it. `yield`: goes round the loop first, so that
// its timer is the newest (the loop destroys the newest first).
asio::awaitable<void> hold_forever(FairLimiter& limiter, std::string key, int& holding, bool yield = false) {
  auto permit = co_await limiter.acquire(key);
  ++holding;
  // Named, not temporaries in a co_await expression (README, "Coroutines and GCC 12").
  auto ex = co_await asio::this_coro::executor;
  if (yield) co_await asio::post(ex, asio::use_awaitable);
  asio::steady_timer never(ex, asio::steady_timer::time_point::max());
  co_await never.async_wait(asio::use_awaitable);
}

}  // namespace

TEST_CASE("limiter: coroutines destroyed holding or waiting for a permit leave it with nothing in flight") {
  // What shutdown does: every suspended frame is destroyed, in whatever order the loop
  // keeps them. A release must not grant a destroyed waiter (the holder goes last), and a
  // slot granted to a waiter destroyed before it resumed comes back (the holder goes first).
  for (bool holder_first : {false, true}) {
    CAPTURE(holder_first);
    IoLoop io{1};
    FairLimiter limiter(io.get_executor(), 1);
    int holding = 0;
    // One holds the only slot; three wait, under two keys.
    asio::co_spawn(io, hold_forever(limiter, "a", holding, holder_first), asio::detached);
    asio::co_spawn(io, hold_forever(limiter, "b", holding), asio::detached);
    asio::co_spawn(io, hold_forever(limiter, "b", holding), asio::detached);
    asio::co_spawn(io, hold_forever(limiter, "c", holding), asio::detached);
    io.poll();
    REQUIRE(holding == 1);
    REQUIRE(limiter.in_flight() == 1);
    io.abandon_pending();
    CHECK(limiter.in_flight() == 0);
  }
}

TEST_CASE("cancellation: a registration may outlive its Cancellation (frames go in any order at shutdown)") {
  int woke = 0;
  auto c = std::make_unique<Cancellation>();
  auto early = c->on_request([&] { ++woke; });
  {
    auto gone = c->on_request([&] { woke += 10; });
  }
  c->request();
  CHECK(woke == 1);
  auto late = std::make_unique<Cancellation>();
  auto outliving = std::make_unique<Cancellation::Registration>(late->on_request([&] { woke += 100; }));
  late.reset();
  outliving.reset();  // ASan: this erased its entry in the freed Cancellation
  CHECK(woke == 1);
}
