// Runs blocking work (libpqxx, file I/O) on the blocking pool from a coroutine
// and resumes on the caller's executor, so I/O threads never block.
//
// The callable is taken by lvalue reference on purpose: GCC 12 destroys a
// temporary in a co_await expression twice (a lambda capturing a std::string
// crashed with "double free"), so callers pass a named local, which outlives
// the co_await anyway.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <optional>
#include <type_traits>

namespace mh::async {

template <class F>
boost::asio::awaitable<std::invoke_result_t<F&>> run_blocking(boost::asio::thread_pool& pool, F& f) {
  using R = std::invoke_result_t<F&>;
  auto home = co_await boost::asio::this_coro::executor;
  co_await boost::asio::post(pool.get_executor(), boost::asio::use_awaitable);
  std::exception_ptr error;
  if constexpr (std::is_void_v<R>) {
    try {
      f();
    } catch (...) {
      error = std::current_exception();
    }
    co_await boost::asio::post(home, boost::asio::use_awaitable);
    if (error) std::rethrow_exception(error);
  } else {
    std::optional<R> result;
    try {
      result.emplace(f());
    } catch (...) {
      error = std::current_exception();
    }
    co_await boost::asio::post(home, boost::asio::use_awaitable);
    if (error) std::rethrow_exception(error);
    co_return std::move(*result);
  }
}

}  // namespace mh::async
