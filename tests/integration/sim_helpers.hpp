// Shared by the simulator tests: polling a project and hashing bodies.
#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "support/sim.hpp"
#include "util/hash.hpp"

namespace mh::test {

using util::sha256_hex;

// GETs the project until its status is terminal (or the timeout passes).
inline boost::json::object wait_for_project(const SimProcess& sim, const std::string& id,
                                            std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  boost::json::object last;
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = sim_call(sim, "GET", "/v1/image-projects/" + id);
    last = r.json().as_object();
    std::string status(last.at("status").as_string());
    if (status == "complete" || status == "error" || status == "canceled") return last;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return last;
}

inline std::int64_t sim_balance(const SimProcess& sim) {
  return sim_call(sim, "GET", "/v1/account").json().at("credits").as_int64();
}

}  // namespace mh::test
