// config::render: the resolved configuration as YAML for `mhloader check-config`.
#include <yaml-cpp/yaml.h>

#include <boost/json.hpp>

#include "config/dsn.hpp"
#include "config/load.hpp"
#include "util/duration.hpp"

namespace mh::config {
namespace {

namespace json = boost::json;

void emit_json(YAML::Emitter& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: out << YAML::Null; break;
    case json::kind::bool_: out << v.get_bool(); break;
    case json::kind::int64: out << v.get_int64(); break;
    case json::kind::uint64: out << v.get_uint64(); break;
    case json::kind::double_: out << v.get_double(); break;
    case json::kind::string: out << YAML::DoubleQuoted << std::string(v.get_string()); break;
    case json::kind::array:
      out << YAML::Flow << YAML::BeginSeq;
      for (const auto& item : v.get_array()) emit_json(out, item);
      out << YAML::EndSeq;
      break;
    case json::kind::object:
      out << YAML::Flow << YAML::BeginMap;
      for (const auto& kv : v.get_object()) {
        out << YAML::Key << std::string(kv.key()) << YAML::Value;
        emit_json(out, kv.value());
      }
      out << YAML::EndMap;
      break;
  }
}

void emit_secret(YAML::Emitter& out, const char* key, const Secret& s) {
  out << YAML::Key << key << YAML::Value << (s.present() ? "***" : "");
  if (s.present()) out << YAML::Comment("from " + s.source);
}

std::string d(Duration v) { return util::format_duration(v); }

}  // namespace

std::string render(const Config& c) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "pipeline_name" << YAML::Value << c.pipeline_name;
  out << YAML::Key << "state_dir" << YAML::Value << c.state_dir;
  out << YAML::Key << "shutdown_timeout" << YAML::Value << d(c.shutdown_timeout);
  out << YAML::Key << "log" << YAML::Value << YAML::BeginMap << YAML::Key << "level" << YAML::Value << c.log.level
      << YAML::EndMap;

  const auto& m = c.magic_hour;
  out << YAML::Key << "magic_hour" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "base_url" << YAML::Value << m.base_url;
  emit_secret(out, "api_key", m.api_key);
  out << YAML::Key << "timeout" << YAML::Value << d(m.timeout);
  out << YAML::Key << "connect_timeout" << YAML::Value << d(m.connect_timeout);
  out << YAML::Key << "max_concurrency" << YAML::Value << m.max_concurrency;
  out << YAML::Key << "retry" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "max_attempts"
      << YAML::Value << m.retry.max_attempts << YAML::Key << "initial_delay" << YAML::Value << d(m.retry.initial_delay)
      << YAML::Key << "max_delay" << YAML::Value << d(m.retry.max_delay) << YAML::EndMap;
  out << YAML::Key << "poll" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "interval" << YAML::Value
      << d(m.poll.interval) << YAML::Key << "timeout" << YAML::Value << d(m.poll.timeout) << YAML::EndMap;
  if (m.ca_file) out << YAML::Key << "ca_file" << YAML::Value << *m.ca_file;
  out << YAML::Key << "max_response_bytes" << YAML::Value << m.max_response_bytes;
  out << YAML::EndMap;

  const auto& dst = c.destination;
  out << YAML::Key << "destination" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "type" << YAML::Value << (dst.type == DestinationType::postgres ? "postgres" : "filesystem");
  out << YAML::Key << "dsn" << YAML::Value << mask_dsn(dst.dsn.value) << YAML::Comment("from " + dst.dsn.source);
  out << YAML::Key << "dataset" << YAML::Value << dst.dataset;
  if (dst.type == DestinationType::filesystem) {
    out << YAML::Key << "filesystem" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "path"
        << YAML::Value << dst.filesystem.path << YAML::Key << "format" << YAML::Value << dst.filesystem.format
        << YAML::EndMap;
  }
  out << YAML::EndMap;

  const auto& ctl = c.control;
  out << YAML::Key << "control" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "listen" << YAML::Value << ctl.listen;
  emit_secret(out, "token", ctl.token);
  out << YAML::Key << "max_connections" << YAML::Value << ctl.max_connections;
  if (!ctl.allowed_hosts.empty()) {
    out << YAML::Key << "allowed_hosts" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const auto& h : ctl.allowed_hosts) out << h;
    out << YAML::EndSeq;
  }
  if (ctl.tls) {
    out << YAML::Key << "tls" << YAML::Value << YAML::BeginMap << YAML::Key << "cert_file" << YAML::Value
        << ctl.tls->cert_file << YAML::Key << "key_file" << YAML::Value << ctl.tls->key_file << YAML::EndMap;
  }
  out << YAML::EndMap;

  out << YAML::Key << "monitor" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "credits" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "interval" << YAML::Value
      << d(c.monitor.credits.interval) << YAML::Key << "low_balance" << YAML::Value << c.monitor.credits.low_balance
      << YAML::Key << "reserve" << YAML::Value << c.monitor.credits.reserve << YAML::EndMap;
  out << YAML::Key << "health" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "interval" << YAML::Value
      << d(c.monitor.health.interval) << YAML::EndMap;
  out << YAML::EndMap;

  out << YAML::Key << "archive" << YAML::Value << YAML::BeginMap;
  if (c.archive.dir) out << YAML::Key << "dir" << YAML::Value << *c.archive.dir;
  out << YAML::Key << "max_bytes" << YAML::Value << c.archive.max_bytes << YAML::Key << "download_timeout"
      << YAML::Value << d(c.archive.download_timeout) << YAML::EndMap;

  out << YAML::Key << "resources" << YAML::Value << YAML::BeginSeq;
  for (const auto& r : c.resources) {
    out << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << r.name;
    out << YAML::Key << "endpoint" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "path" << YAML::Value << r.endpoint.path;
    out << YAML::Key << "method" << YAML::Value << r.endpoint.method;
    if (!r.endpoint.params.empty()) {
      out << YAML::Key << "params" << YAML::Value;
      emit_json(out, r.endpoint.params);
    }
    if (r.endpoint.json) {
      out << YAML::Key << "json" << YAML::Value;
      emit_json(out, *r.endpoint.json);
    }
    if (r.endpoint.data_selector) out << YAML::Key << "data_selector" << YAML::Value << r.endpoint.data_selector->text;
    out << YAML::Key << "paginator" << YAML::Value << std::string(to_string(r.endpoint.paginator.type));
    out << YAML::EndMap;
    if (!r.primary_key.empty()) {
      out << YAML::Key << "primary_key" << YAML::Value << YAML::Flow << r.primary_key;
    }
    out << YAML::Key << "write_disposition" << YAML::Value << std::string(normalize::to_string(r.write_disposition));
    out << YAML::Key << "on_not_found" << YAML::Value << (r.on_not_found == OnNotFound::skip ? "skip" : "fail");
    if (r.max_pages) out << YAML::Key << "max_pages" << YAML::Value << *r.max_pages;
    if (r.incremental) {
      out << YAML::Key << "incremental" << YAML::Value << YAML::BeginMap << YAML::Key << "cursor_path" << YAML::Value
          << r.incremental->cursor_path << YAML::Key << "param" << YAML::Value << r.incremental->param << YAML::Key
          << "initial_value" << YAML::Value;
      emit_json(out, r.incremental->initial_value);
      out << YAML::EndMap;
    }
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;

  out << YAML::Key << "jobs" << YAML::Value << YAML::BeginSeq;
  for (const auto& j : c.jobs) {
    out << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << j.name;
    switch (j.schedule.kind) {
      case JobSchedule::Kind::cron: out << YAML::Key << "schedule" << YAML::Value << j.schedule.expression; break;
      case JobSchedule::Kind::every: out << YAML::Key << "every" << YAML::Value << d(j.schedule.every); break;
      case JobSchedule::Kind::manual:
        out << YAML::Key << "schedule" << YAML::Value << YAML::Null << YAML::Comment("runs only when triggered");
        break;
    }
    out << YAML::Key << "timezone" << YAML::Value << j.timezone;
    out << YAML::Key << "catch_up" << YAML::Value << j.catch_up;
    if (j.jitter.count() > 0) out << YAML::Key << "jitter" << YAML::Value << d(j.jitter);
    if (j.credit_budget) out << YAML::Key << "credit_budget" << YAML::Value << *j.credit_budget;
    if (!j.resources.empty()) out << YAML::Key << "resources" << YAML::Value << YAML::Flow << j.resources;
    if (!j.generate.empty()) {
      out << YAML::Key << "generate" << YAML::Value << YAML::BeginSeq;
      for (const auto& g : j.generate) {
        out << YAML::BeginMap << YAML::Key << "resource" << YAML::Value << g.resource;
        if (g.from_dir) {
          out << YAML::Key << "from_dir" << YAML::Value << *g.from_dir;
          out << YAML::Key << "settle" << YAML::Value << d(g.settle);
        }
        if (g.request) {
          out << YAML::Key << "request" << YAML::Value;
          emit_json(out, *g.request);
        }
        if (!g.requests.empty()) {
          out << YAML::Key << "requests" << YAML::Value << YAML::BeginSeq;
          for (const auto& r : g.requests) emit_json(out, r);
          out << YAML::EndSeq;
        }
        out << YAML::EndMap;
      }
      out << YAML::EndSeq;
    }
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace mh::config
