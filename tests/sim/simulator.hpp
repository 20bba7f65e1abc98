// magichour-sim's state machine: the Magic Hour API as docs/magic-hour-api.md
// describes it (auth, creates with validation and billing, project lifecycle,
// uploads, downloads, account, saved items, the dlt page's legacy endpoints),
// plus fault injection and a ledger. Synchronous; the server calls handle().
#pragma once

#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "faults.hpp"
#include "magichour/catalog.hpp"
#include "net/http_message.hpp"

namespace mh::sim {

struct SimOptions {
  std::set<std::string> api_keys{"sim-dev-key"};
  std::uint64_t seed = 1;
  std::int64_t saved_items = 250;
  std::chrono::milliseconds render_time{2000};                       // default per create endpoint
  std::map<std::string, std::chrono::milliseconds> render_time_for;  // "ai-image-upscaler" -> 5s
  double error_rate = 0.0;
  std::int64_t credits = 10000;
  magichour::Tier tier = magichour::Tier::pro;
  bool legacy_endpoints = true;
  std::string public_url;  // e.g. http://127.0.0.1:8687 — where downloads and uploads point
  // Hostile upstream, for tests:
  std::optional<std::string> project_id;      // every create answers this id (e.g. "../../x")
  std::optional<std::size_t> output_bytes;    // every output file has this many bytes
  std::chrono::milliseconds output_stall{0};  // outputs are answered only after this long
  std::size_t big_page_bytes = 0;             // GET /v1/_test/big-page: a list [0,0,…] of exactly this size
};

class Simulator {
 public:
  explicit Simulator(SimOptions options);

  net::HttpResponse handle(const net::HttpRequest& request);
  FaultTable& faults() { return faults_; }
  void set_public_url(std::string url) { options_.public_url = std::move(url); }
  const SimOptions& options() const { return options_; }

  // The route template of a request ("GET /v1/image-projects/{id}"), or "" if unknown.
  static std::string route_of(const std::string& method, const std::string& path);

 private:
  using Clock = std::chrono::steady_clock;

  struct Project {
    std::string id;
    std::string endpoint;  // "ai-image-generator" | "ai-image-upscaler"
    std::string type;      // AI_IMAGE | IMAGE_UPSCALER
    std::string name;
    int image_count = 1;
    std::string created_at;  // ISO 8601
    Clock::time_point created;
    Clock::time_point queued_until;
    Clock::time_point done_at;
    bool will_fail = false;
    bool refunded = false;
    bool enabled = true;
    std::int64_t credits = 0;  // debited at create
    std::string token;         // download URL token
  };

  struct LedgerEntry {
    std::string project_id;
    std::string endpoint;
    std::string body_sha256;
    std::int64_t debited = 0;
    std::int64_t refunded = 0;
    std::string created_at;
    bool dropped = false;  // processed, then the connection was cut (accept-then-drop)
  };

  struct Upload {
    std::string token;
    std::string type;
    std::optional<std::string> bytes;  // set once PUT
  };

  struct RouteStats {
    std::int64_t requests = 0;
    std::map<int, std::int64_t> by_status;  // 0: no response (reset or dropped)
  };

  net::HttpResponse dispatch(const net::HttpRequest& req, const std::string& route);
  net::HttpResponse create_image(const net::HttpRequest& req);
  net::HttpResponse create_upscale(const net::HttpRequest& req);
  net::HttpResponse finish_create(const net::HttpRequest& req, const std::string& endpoint, std::int64_t cost,
                                  int image_count, std::string name);
  net::HttpResponse get_project(const std::string& id);
  net::HttpResponse delete_project(const std::string& id);
  net::HttpResponse upload_urls(const net::HttpRequest& req);
  net::HttpResponse put_upload(const net::HttpRequest& req);
  net::HttpResponse get_output(const net::HttpRequest& req);
  net::HttpResponse big_page() const;
  net::HttpResponse account();
  net::HttpResponse saved_items(const net::HttpRequest& req);
  net::HttpResponse models();
  net::HttpResponse test_listing(const net::HttpRequest& req);
  net::HttpResponse test_search(const net::HttpRequest& req);
  void append_saved_item(std::string& body, std::int64_t index) const;
  net::HttpResponse admin(const net::HttpRequest& req);

  std::string status_of(const Project& p, Clock::time_point now) const;
  void settle(Clock::time_point now);  // refunds projects that reached `error`
  std::string new_id();
  std::string new_token();
  std::string now_iso(std::chrono::milliseconds offset = std::chrono::milliseconds(0)) const;
  std::chrono::milliseconds render_time_for(const std::string& endpoint) const;
  void count(const std::string& route, int status);
  boost::json::object state_json() const;

  SimOptions options_;
  FaultTable faults_;
  std::mt19937_64 rng_;
  std::int64_t balance_;
  std::map<std::string, Project> projects_;
  std::vector<std::string> pending_errors_;
  std::vector<LedgerEntry> ledger_;
  std::map<std::string, Upload> uploads_;  // by file_path
  std::map<std::string, RouteStats> stats_;
  std::map<std::string, std::int64_t> keys_seen_;  // Bearer key -> requests (which key a client uses)
  std::int64_t id_counter_ = 0;
};

// Deterministic bytes of download `index` of a project (what GET /outputs/... serves).
std::string output_bytes(const std::string& project_id, int index);

}  // namespace mh::sim
