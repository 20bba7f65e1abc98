// async::spawn (issue 18): an exception escaping a background coroutine is logged
// with the task's name, and a coroutine that finishes normally logs nothing.
#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "async/spawn.hpp"
#include "log/log.hpp"
#include "support/log_capture.hpp"

namespace asio = boost::asio;

namespace {

using Capture = mh::test::LogCapture;

asio::awaitable<void> fails_later() {
  // Named, not a temporary in a co_await expression (README, "Coroutines and GCC 12").
  auto ex = co_await asio::this_coro::executor;
  co_await asio::post(ex, asio::use_awaitable);
  throw std::runtime_error("the disk is on fire");
}

asio::awaitable<void> succeeds(bool& ran) {
  auto ex = co_await asio::this_coro::executor;
  co_await asio::post(ex, asio::use_awaitable);
  ran = true;
}

}  // namespace

TEST_CASE("spawn: an exception escaping a background task is logged") {
  Capture cap;
  mh::log::set_level(mh::log::Level::info);
  asio::io_context io;
  mh::async::spawn(io, fails_later(), "test failing task");
  io.run();
  REQUIRE(cap.lines.size() == 1);
  const std::string& l = cap.lines[0];
  CHECK(l.find("level=error msg=\"a background task failed\"") != std::string::npos);
  CHECK(l.find("task=\"test failing task\"") != std::string::npos);
  CHECK(l.find("error=\"the disk is on fire\"") != std::string::npos);
}

TEST_CASE("spawn: a background task that succeeds logs nothing") {
  Capture cap;
  mh::log::set_level(mh::log::Level::debug);
  asio::io_context io;
  bool ran = false;
  mh::async::spawn(io.get_executor(), succeeds(ran), "test quiet task");
  io.run();
  mh::log::set_level(mh::log::Level::info);
  CHECK(ran);
  CHECK(cap.lines.empty());
}
