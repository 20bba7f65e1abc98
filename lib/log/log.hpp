// Structured logging: logfmt lines on stderr, with every registered secret redacted.
// Thread-safe; Boost-free so any module can include it cheaply.
#pragma once

#include <concepts>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mh::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };

std::optional<Level> parse_level(std::string_view name);
std::string_view level_name(Level level);

// One `key=value` pair of a log line. Values are rendered at the call site.
struct Field {
  std::string_view key;
  std::string value;

  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v ? v : "") {}
  Field(std::string_view k, bool v) : key(k), value(v ? "true" : "false") {}
  template <std::integral T>
  Field(std::string_view k, T v) : key(k), value(std::to_string(v)) {}
  Field(std::string_view k, double v);
};

using Fields = std::initializer_list<Field>;

void set_level(Level level);
Level level();
bool enabled(Level level);

// Syslog priority prefixes (`<6>`) for journald: on when JOURNAL_STREAM is set,
// which systemd does for a service's stderr.
void set_syslog_prefix(bool on);

// Every occurrence of a registered secret in a log line becomes `***`, whoever
// wrote the line. Registering the same value twice is harmless.
void register_secret(std::string_view secret);
std::string redact(std::string_view text);
// `text` with every occurrence of the given secrets (longest first; values shorter
// than 4 characters ignored) replaced by `***`: for secrets not registered (yet), e.g. those of a
// configuration being rejected.
std::string mask(std::string_view text, std::vector<std::string> secrets);

// Replaces the stderr sink (tests); an empty function restores stderr.
void set_sink(std::function<void(std::string_view line)> sink);

void write(Level level, std::string_view msg, Fields fields = {});
inline void debug(std::string_view msg, Fields f = {}) { write(Level::debug, msg, f); }
inline void info(std::string_view msg, Fields f = {}) { write(Level::info, msg, f); }
inline void warn(std::string_view msg, Fields f = {}) { write(Level::warn, msg, f); }
inline void error(std::string_view msg, Fields f = {}) { write(Level::error, msg, f); }

// The line `write` would emit, without the syslog prefix or trailing newline.
std::string format_line(Level level, std::string_view msg, Fields fields);

}  // namespace mh::log
