// Runs coroutines concurrently on the caller's executor and waits for all of
// them; the first exception (if any) is rethrown once every task has finished.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <vector>

namespace mh::async {

using Task = std::function<boost::asio::awaitable<void>()>;

boost::asio::awaitable<void> join_all(std::vector<Task> tasks);

}  // namespace mh::async
