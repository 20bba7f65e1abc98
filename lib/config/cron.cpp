#include "config/cron.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <vector>

namespace mh::config {
namespace {

struct FieldSpec {
  const char* name;
  int min;
  int max;
  const std::array<const char*, 12>* names;  // names[i] stands for min + i
};

constexpr std::array<const char*, 12> kMonths{"jan", "feb", "mar", "apr", "may", "jun",
                                              "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<const char*, 12> kWeekdays{"sun", "mon",   "tue",   "wed",   "thu",   "fri",
                                                "sat", nullptr, nullptr, nullptr, nullptr, nullptr};

const FieldSpec kFields[5] = {
    {"minute", 0, 59, nullptr}, {"hour", 0, 23, nullptr},          {"day-of-month", 1, 31, nullptr},
    {"month", 1, 12, &kMonths}, {"day-of-week", 0, 7, &kWeekdays},  // 7 is Sunday too
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool parse_value(std::string_view text, const FieldSpec& f, int& out, std::string& error) {
  if (text.empty()) {
    error = std::string("empty value in ") + f.name + " field";
    return false;
  }
  if (f.names != nullptr && std::isalpha(static_cast<unsigned char>(text[0]))) {
    std::string l = lower(text);
    for (std::size_t i = 0; i < f.names->size(); ++i) {
      if ((*f.names)[i] != nullptr && l == (*f.names)[i]) {
        out = f.min + static_cast<int>(i);
        return true;
      }
    }
    error = "unknown " + std::string(f.name) + " name '" + std::string(text) + "'";
    return false;
  }
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || p != text.data() + text.size()) {
    error = "'" + std::string(text) + "' is not a number in " + f.name + " field";
    return false;
  }
  if (out < f.min || out > f.max) {
    error = std::string(f.name) + " value " + std::to_string(out) + " out of range " + std::to_string(f.min) + "-" +
            std::to_string(f.max);
    return false;
  }
  return true;
}

// Parses one field into a bit set over [min, max].
bool parse_field(std::string_view text, const FieldSpec& f, std::uint64_t& bits, bool& restricted, std::string& error) {
  bits = 0;
  // As in Vixie cron, a field starting with '*' (also "*/2") leaves the day unrestricted.
  restricted = text.empty() || text[0] != '*';
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    std::string_view item =
        text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    start = comma == std::string_view::npos ? text.size() + 1 : comma + 1;

    int step = 1;
    std::size_t slash = item.find('/');
    std::string_view range = item.substr(0, slash);
    if (slash != std::string_view::npos) {
      std::string_view step_text = item.substr(slash + 1);
      auto [p, ec] = std::from_chars(step_text.data(), step_text.data() + step_text.size(), step);
      if (ec != std::errc() || p != step_text.data() + step_text.size() || step <= 0) {
        error = "invalid step '" + std::string(step_text) + "' in " + f.name + " field";
        return false;
      }
    }
    int lo = 0;
    int hi = 0;
    if (range == "*") {
      lo = f.min;
      hi = f.max == 7 ? 6 : f.max;
    } else {
      std::size_t dash = range.find('-');
      if (!parse_value(range.substr(0, dash), f, lo, error)) return false;
      if (dash != std::string_view::npos) {
        if (!parse_value(range.substr(dash + 1), f, hi, error)) return false;
        if (hi < lo) {
          error = "range " + std::string(range) + " runs backwards in " + f.name + " field";
          return false;
        }
      } else {
        hi = slash == std::string_view::npos ? lo : (f.max == 7 ? 6 : f.max);  // "a/n" = from a to the end
      }
    }
    for (int v = lo; v <= hi; v += step) {
      int bit = (f.max == 7 && v == 7) ? 0 : v;  // weekday 7 = Sunday
      bits |= std::uint64_t{1} << bit;
    }
  }
  return true;
}

std::string_view expand_macro(std::string_view text) {
  if (text == "@yearly" || text == "@annually") return "0 0 1 1 *";
  if (text == "@monthly") return "0 0 1 * *";
  if (text == "@weekly") return "0 0 * * 0";
  if (text == "@daily" || text == "@midnight") return "0 0 * * *";
  if (text == "@hourly") return "0 * * * *";
  return {};
}

}  // namespace

bool CronExpr::matches_day(int dom, int month, int dow) const {
  if (!(months & (1u << month))) return false;
  bool dom_ok = days_of_month & (1u << dom);
  bool dow_ok = days_of_week & (1u << dow);
  if (dom_restricted && dow_restricted) return dom_ok || dow_ok;
  return dom_ok && dow_ok;
}

bool CronExpr::matches(int minute, int hour, int dom, int month, int dow) const {
  return (minutes & (std::uint64_t{1} << minute)) && (hours & (1u << hour)) && matches_day(dom, month, dow);
}

std::optional<CronExpr> parse_cron(std::string_view text, std::string& error) {
  if (!text.empty() && text[0] == '@') {
    std::string_view expanded = expand_macro(text);
    if (expanded.empty()) {
      error = "unknown cron macro '" + std::string(text) + "' (use @yearly, @monthly, @weekly, @daily or @hourly)";
      return std::nullopt;
    }
    text = expanded;
  }
  std::vector<std::string_view> parts;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    std::size_t j = i;
    while (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j]))) ++j;
    if (j > i) parts.push_back(text.substr(i, j - i));
    i = j;
  }
  if (parts.size() != 5) {
    error = "a cron expression has 5 fields (minute hour day-of-month month day-of-week), got " +
            std::to_string(parts.size());
    return std::nullopt;
  }
  CronExpr c;
  std::uint64_t bits[5];
  bool restricted[5];
  for (int k = 0; k < 5; ++k) {
    if (!parse_field(parts[k], kFields[k], bits[k], restricted[k], error)) return std::nullopt;
  }
  c.minutes = bits[0];
  c.hours = static_cast<std::uint32_t>(bits[1]);
  c.days_of_month = static_cast<std::uint32_t>(bits[2]);
  c.months = static_cast<std::uint16_t>(bits[3]);
  c.days_of_week = static_cast<std::uint8_t>(bits[4]);
  c.dom_restricted = restricted[2];
  c.dow_restricted = restricted[4];
  return c;
}

}  // namespace mh::config
