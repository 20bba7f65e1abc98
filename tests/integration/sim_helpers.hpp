// Shared by the simulator tests: polling a project and hashing bodies.
#pragma once

#include <openssl/evp.h>

#include <boost/json.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "support/sim.hpp"

namespace mh::test {

inline std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  std::string out;
  static const char* hex = "0123456789abcdef";
  for (unsigned i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

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
