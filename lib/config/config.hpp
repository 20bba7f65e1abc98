// The validated, typed daemon configuration (docs/design.md §Configuration, docs/configuration.md), as produced by
// config::load. Every value here has been checked; defaults are filled in.
#pragma once

#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/cron.hpp"
#include "config/json_path.hpp"
#include "normalize/write_disposition.hpp"

namespace mh::config {

using Duration = std::chrono::milliseconds;

// A secret and where it came from. The value never leaves through printing;
// `source` names the file or variable so errors can point at it.
struct Secret {
  std::string value;
  std::string source;  // e.g. "file /run/credentials/mhloader.service/magic_hour_api_key"
  bool present() const { return !value.empty(); }
};

// magic_hour.retry: the HTTP client's retry policy (net::RetryPolicy, same fields and
// defaults; app/runtime.cpp converts it), kept here so config does not depend on net.
struct RetryConfig {
  int max_attempts = 5;  // in total, the first try included
  Duration initial_delay{500};
  Duration max_delay{30'000};
};

struct PollConfig {
  Duration interval{3'000};
  Duration timeout{600'000};
};

struct MagicHourConfig {
  std::string base_url = "https://api.magichour.ai/v1";
  Secret api_key;
  Duration timeout{60'000};
  Duration connect_timeout{10'000};
  int max_concurrency = 8;
  RetryConfig retry;
  PollConfig poll;
  std::optional<std::string> ca_file;                   // absolute path, checked readable
  std::uint64_t max_response_bytes = 16 * 1024 * 1024;  // an API answer's body (not a download)
};

enum class DestinationType { postgres, filesystem };

struct FilesystemDestinationConfig {
  std::string path;
  std::string format = "jsonl";
};

struct DestinationConfig {
  DestinationType type = DestinationType::postgres;
  Secret dsn;  // the whole DSN; its password is registered for redaction
  std::string dataset = "magic_hour_data";
  FilesystemDestinationConfig filesystem;
};

struct TlsConfig {
  std::string cert_file;
  std::string key_file;
};

struct ControlConfig {
  std::string listen = "127.0.0.1:8686";
  std::string host = "127.0.0.1";
  std::uint16_t port = 8686;
  Secret token;  // empty: /api/v1/* refuses every request
  std::optional<TlsConfig> tls;
  int max_connections = 1024;     // beyond: the oldest idle connection is closed, else 503
  Duration read_timeout{10'000};  // one request, once its first byte arrived (slow clients are cut off)
  Duration idle_timeout{60'000};  // a keep-alive connection waiting for its next request
  // Host header names (no port) the control plane answers; empty: the loopback
  // names when the listener is on loopback, else any (DNS rebinding guard).
  std::vector<std::string> allowed_hosts;
};

struct CreditsMonitorConfig {
  Duration interval{300'000};
  std::int64_t low_balance = 500;
  std::int64_t reserve = 100;
};

struct HealthMonitorConfig {
  Duration interval{30'000};
};

struct MonitorConfig {
  CreditsMonitorConfig credits;
  HealthMonitorConfig health;
};

struct ArchiveConfig {
  std::optional<std::string> dir;
  std::uint64_t max_bytes = 256ull * 1024 * 1024;  // a file; a larger download fails
  Duration download_timeout{10 * 60'000};          // a file, the whole transfer
};

using WriteDisposition = normalize::WriteDisposition;
enum class OnNotFound { skip, fail };

enum class PaginatorType { none, single_page, json_link, header_link, offset, page_number, cursor };

// dlt rest_api paginator settings; only the fields of `type` are meaningful.
struct PaginatorConfig {
  PaginatorType type = PaginatorType::none;  // none: not configured
  std::string next_url_path = "next";        // json_link
  std::string links_next_key = "next";       // header_link
  std::int64_t limit = 0;                    // offset
  std::int64_t offset = 0;                   // offset
  std::string offset_param = "offset";       // offset
  std::string limit_param = "limit";         // offset
  std::int64_t base_page = 0;                // page_number
  std::optional<std::int64_t> page;          // page_number: first page; default base_page
  std::string page_param = "page";           // page_number
  std::optional<std::string> total_path;     // offset: items; page_number: pages
  std::optional<std::int64_t> maximum;       // maximum_offset / maximum_page
  std::string cursor_path = "cursors.next";  // cursor
  std::string cursor_param = "cursor";       // cursor
  std::optional<std::string> has_more_path;  // offset, page_number, cursor
  bool stop_after_empty_page = true;
};

struct IncrementalConfig {
  std::string cursor_path;
  boost::json::value initial_value;  // null when not set
  std::string param;
};

struct EndpointConfig {
  std::string path;
  std::string method = "GET";
  boost::json::object params;  // scalars only
  std::optional<boost::json::value> json;
  std::optional<JsonPath> data_selector;
  PaginatorConfig paginator;
};

// A user-configured REST resource in dlt's rest_api shape.
struct ResourceConfig {
  std::string name;
  EndpointConfig endpoint;
  std::vector<std::string> primary_key;
  WriteDisposition write_disposition = WriteDisposition::append;
  std::optional<IncrementalConfig> incremental;
  OnNotFound on_not_found = OnNotFound::skip;
  std::optional<int> max_table_nesting;
  std::optional<std::int64_t> max_pages;  // past it the resource fails (unset: no bound)
};

// What a generate entry creates (its `resource:`); pipeline/validate_config.hpp maps it to
// the Magic Hour create endpoint, so config needs no magichour header.
enum class GenerateKind { image_generator, image_upscaler };

struct GenerateConfig {
  GenerateKind kind = GenerateKind::image_generator;
  std::string resource;                        // ai_image_generator | ai_image_upscaler
  std::vector<boost::json::object> requests;   // explicit request bodies
  std::optional<boost::json::object> request;  // template applied to each from_dir file
  std::optional<std::string> from_dir;
  Duration settle{5'000};  // from_dir: a file's mtime this old (or a rename in) before it is taken
};

struct JobSchedule {
  enum class Kind { manual, cron, every } kind = Kind::manual;
  std::string expression;  // the cron text as written
  CronExpr cron;
  Duration every{0};
};

struct JobConfig {
  std::string name;
  JobSchedule schedule;
  std::string timezone = "UTC";
  bool catch_up = true;
  Duration jitter{0};
  std::optional<std::int64_t> credit_budget;
  std::vector<std::string> resources;
  std::vector<GenerateConfig> generate;
};

struct LogConfig {
  std::string level = "info";
};

struct Config {
  std::string file;  // absolute path of the file it was loaded from
  std::string pipeline_name = "magic_hour_pipeline";
  std::string state_dir = "/var/lib/mhloader";
  Duration shutdown_timeout{30'000};
  LogConfig log;
  MagicHourConfig magic_hour;
  DestinationConfig destination;
  ControlConfig control;
  MonitorConfig monitor;
  ArchiveConfig archive;
  std::vector<ResourceConfig> resources;
  std::vector<JobConfig> jobs;

  const JobConfig* find_job(std::string_view name) const;
  const ResourceConfig* find_resource(std::string_view name) const;
};

// Names of the resources mhloader provides itself (docs/design.md §Resources).
bool is_builtin_resource(std::string_view name);
bool is_generation_resource(std::string_view name);
const std::vector<std::string>& builtin_resource_names();

std::string_view to_string(PaginatorType t);

}  // namespace mh::config
