#include "support/sim.hpp"

#include <doctest/doctest.h>
#include <signal.h>

#include <boost/json.hpp>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/temp_dir.hpp"

namespace mh::test {

std::string sim_binary() { return MAGICHOUR_SIM_BIN; }

SimProcess::SimProcess(std::vector<std::string> args) {
  std::vector<std::string> argv{sim_binary(), "--listen", "127.0.0.1:0"};
  argv.insert(argv.end(), args.begin(), args.end());
  child_ = std::make_unique<Child>(argv);
  base_url_ = wait_for_sim_url(*child_, std::chrono::seconds(10));
  if (!base_url_.empty()) {
    port_ = static_cast<std::uint16_t>(std::stoi(base_url_.substr(base_url_.rfind(':') + 1)));
    return;
  }
  FAIL("magichour-sim did not start: " << child_->err());
}

SimProcess::~SimProcess() {
  child_->signal(SIGTERM);
  child_->wait(std::chrono::seconds(5));
}

boost::json::value CurlResponse::json() const { return boost::json::parse(body); }

CurlResponse curl(const std::string& method, const std::string& url, const CurlOptions& o) {
  TempDir dir;
  std::string head_file = dir.path() + "/head";
  std::string body_file = dir.path() + "/body";
  // -X HEAD would wait for the body Content-Length announces; -I knows there is none.
  std::vector<std::string> argv{"/usr/bin/curl",
                                "-sS",
                                method == "HEAD" ? "-I" : "-X",
                                method == "HEAD" ? "-s" : method,
                                "-D",
                                head_file,
                                "-o",
                                body_file,
                                "--max-time",
                                std::to_string(o.max_time_s),
                                "-H",
                                "Expect:"};
  for (const auto& h : o.headers) argv.insert(argv.end(), {"-H", h});
  if (o.body) {
    std::string f = dir.write("request", *o.body);
    argv.insert(argv.end(), {"--data-binary", "@" + f});
  }
  if (o.body_file) argv.insert(argv.end(), {"--data-binary", "@" + *o.body_file});
  if (o.cacert) argv.insert(argv.end(), {"--cacert", *o.cacert});
  argv.push_back(url);
  ProcessResult r = run_process(argv);
  CurlResponse res;
  res.curl_exit = r.exit_code;
  res.error = r.err;
  auto slurp = [](const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  };
  res.body = slurp(body_file);
  std::istringstream head(slurp(head_file));
  std::string line;
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("HTTP/", 0) == 0) {
      res.headers.clear();
      auto sp = line.find(' ');
      res.status = std::stoi(line.substr(sp + 1, 3));
      continue;
    }
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    res.headers[name] = value;
  }
  return res;
}

CurlResponse sim_call(const SimProcess& sim, const std::string& method, const std::string& path,
                      const std::optional<std::string>& json_body, const std::string& key) {
  CurlOptions o;
  if (!key.empty()) o.headers.push_back("Authorization: Bearer " + key);
  if (json_body) {
    o.headers.push_back("Content-Type: application/json");
    o.body = *json_body;
  }
  return curl(method, sim.base_url() + path, o);
}

}  // namespace mh::test
