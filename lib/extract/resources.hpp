// Resources → pages of JSON records: the built-in Magic Hour resources
// (credits, status, models, image_projects) and user REST resources in dlt's
// rest_api shape (paginators, data_selector, incremental). Pages go to a sink
// as they arrive, so nothing accumulates in memory.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "magichour/client.hpp"
#include "normalize/normalizer.hpp"

namespace mh::monitor {
class CreditMonitor;
class HealthMonitor;
}  // namespace mh::monitor

namespace mh::extract {

// Receives each page of a resource (the pipeline normalizes it off the I/O thread).
class PageSink {
 public:
  virtual ~PageSink() = default;
  virtual boost::asio::awaitable<void> page(const normalize::Resource& resource,
                                            std::vector<boost::json::value>& records) = 0;
};

struct ResourceOutcome {
  std::string name;
  std::string status = "succeeded";  // succeeded | failed | skipped | cancelled (running while in progress)
  std::int64_t pages = 0;
  std::int64_t records = 0;
  std::string error;                          // why it failed or was skipped
  std::optional<boost::json::object> cursor;  // new incremental state to store with the load
  boost::json::object to_json() const;
};
// [{name, status, pages, rows, error}], as runs records and the control plane show them.
boost::json::array to_json(const std::vector<ResourceOutcome>& outcomes);

struct Context {
  magichour::Client& client;
  monitor::CreditMonitor& credits;
  monitor::HealthMonitor& health;
  magichour::CallOptions call;                           // job (fairness) and resource
  const bool* cancelled = nullptr;                       // checked between pages
  std::vector<std::string> known_projects;               // for image_projects
  std::function<void(const ResourceOutcome&)> progress;  // after each page
  // image_projects: called with each refreshed project before its record is emitted
  // (the pipeline archives and settles one that turned final; it may add to `raw`).
  std::function<boost::asio::awaitable<void>(magichour::Project&)> on_project;
};

// Table hints of a built-in resource (write disposition, primary key).
normalize::Resource builtin_hints(const std::string& name);
normalize::Resource rest_hints(const config::ResourceConfig& resource);

// A built-in resource; failures end up in the outcome, never thrown.
boost::asio::awaitable<ResourceOutcome> extract_builtin(const std::string& name, Context& ctx, PageSink& sink);
// A user REST resource. `cursor_state` is what the last successful load stored for it.
boost::asio::awaitable<ResourceOutcome> extract_rest(const config::ResourceConfig& resource,
                                                     const boost::json::object& cursor_state, Context& ctx,
                                                     PageSink& sink);

}  // namespace mh::extract
