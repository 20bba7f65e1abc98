#include "log/log.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <vector>

#include "util/time.hpp"

namespace mh::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::info)};
std::atomic<bool> g_syslog{false};

struct State {
  std::mutex mu;
  std::vector<std::string> secrets;  // longest first, so a secret containing another is masked whole
  std::function<void(std::string_view)> sink;
};

State& state() {
  static State s;
  return s;
}

bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  return std::any_of(v.begin(), v.end(), [](char c) {
    return c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20;
  });
}

void append_value(std::string& out, std::string_view v) {
  if (!needs_quotes(v)) {
    out += v;
    return;
  }
  out += '"';
  for (char c : v) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

// `secrets` sorted longest first, none empty.
std::string replace_all(std::string_view text, const std::vector<std::string>& secrets) {
  std::string out(text);
  for (const auto& secret : secrets) {
    for (std::size_t pos = out.find(secret); pos != std::string::npos; pos = out.find(secret, pos + 3)) {
      out.replace(pos, secret.size(), "***");
    }
  }
  return out;
}

std::string redact_locked(State& s, std::string_view text) { return replace_all(text, s.secrets); }

int syslog_priority(Level l) {
  switch (l) {
    case Level::debug: return 7;
    case Level::info: return 6;
    case Level::warn: return 4;
    case Level::error: return 3;
  }
  return 6;
}

}  // namespace

Field::Field(std::string_view k, double v) : key(k) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  value = buf;
}

std::optional<Level> parse_level(std::string_view name) {
  if (name == "debug") return Level::debug;
  if (name == "info") return Level::info;
  if (name == "warn" || name == "warning") return Level::warn;
  if (name == "error") return Level::error;
  return std::nullopt;
}

std::string_view level_name(Level level) {
  switch (level) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
  }
  return "info";
}

void set_level(Level l) { g_level.store(static_cast<int>(l)); }
Level level() { return static_cast<Level>(g_level.load()); }
bool enabled(Level l) { return static_cast<int>(l) >= g_level.load(); }
void set_syslog_prefix(bool on) { g_syslog.store(on); }

void register_secret(std::string_view secret) {
  if (secret.empty()) return;
  auto& s = state();
  std::lock_guard lock(s.mu);
  if (std::find(s.secrets.begin(), s.secrets.end(), secret) != s.secrets.end()) return;
  s.secrets.emplace_back(secret);
  std::stable_sort(s.secrets.begin(), s.secrets.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

std::string mask(std::string_view text, std::vector<std::string> secrets) {
  // A value of a character or three (placeholders like "k" in tests) would mangle every
  // message and protects nothing: such values are left alone.
  std::erase_if(secrets, [](const std::string& s) { return s.size() < 4; });
  std::stable_sort(secrets.begin(), secrets.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return replace_all(text, secrets);
}

std::string redact(std::string_view text) {
  auto& s = state();
  std::lock_guard lock(s.mu);
  return redact_locked(s, text);
}

void set_sink(std::function<void(std::string_view)> sink) {
  auto& s = state();
  std::lock_guard lock(s.mu);
  s.sink = std::move(sink);
}

namespace {

// Redaction runs on the raw message and values, before logfmt escaping, so a
// secret containing quotes or backslashes is still found.
template <class Filter>
std::string build_line(Level level, std::string_view msg, Fields fields, Filter&& filter) {
  std::string line;
  line.reserve(64 + msg.size());
  line += "ts=";
  line += util::now_iso8601();
  line += " level=";
  line += level_name(level);
  line += " msg=";
  append_value(line, filter(msg));
  for (const auto& f : fields) {
    line += ' ';
    line += f.key;
    line += '=';
    append_value(line, filter(f.value));
  }
  return line;
}

}  // namespace

std::string format_line(Level level, std::string_view msg, Fields fields) {
  return build_line(level, msg, fields, [](std::string_view v) { return std::string(v); });
}

void write(Level level, std::string_view msg, Fields fields) {
  if (!enabled(level)) return;
  auto& s = state();
  std::lock_guard lock(s.mu);
  std::string line = build_line(level, msg, fields, [&s](std::string_view v) { return redact_locked(s, v); });
  if (s.sink) {
    s.sink(line);
    return;
  }
  if (g_syslog.load()) line.insert(0, "<" + std::to_string(syslog_priority(level)) + ">");
  line += '\n';
  // One write(2) per line keeps lines whole when several threads log at once.
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) break;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace mh::log
