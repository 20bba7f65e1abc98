// The daemon's I/O loop: an io_context that can destroy its suspended coroutines on
// demand, at a moment chosen by its owner, while everything they refer to still lives.
#pragma once

#include <boost/asio/io_context.hpp>

namespace mh::async {

class IoLoop : public boost::asio::io_context {
 public:
  using boost::asio::io_context::io_context;

  // Stops the loop and destroys every handler it still holds: coroutine frames suspended
  // on a timer, a socket or a post, with the permits and registrations they hold. The
  // io_context's destructor would do the same, but only after the parts those frames
  // refer to (the limiter, the scheduler's runs) are gone. I/O objects may be destroyed
  // afterwards, as during that destructor. Idempotent.
  void abandon_pending() {
    stop();
    shutdown();
  }
};

}  // namespace mh::async
