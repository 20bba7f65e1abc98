#include "normalize/timestamp.hpp"

#include <cmath>

namespace mh::normalize {
namespace {

constexpr std::int64_t kMicrosPerDay = 86'400'000'000LL;

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  auto yoe = static_cast<unsigned>(y - era * 400);
  unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  auto doe = static_cast<unsigned>(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

bool leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(std::int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : kDays[m - 1];
}

class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}
  bool done() const { return i_ >= s_.size(); }
  char peek() const { return done() ? '\0' : s_[i_]; }
  bool take(char c) {
    if (peek() != c) return false;
    ++i_;
    return true;
  }
  // Exactly `n` digits.
  bool digits(int n, unsigned& out) {
    unsigned v = 0;
    for (int k = 0; k < n; ++k) {
      char c = peek();
      if (c < '0' || c > '9') return false;
      v = v * 10 + static_cast<unsigned>(c - '0');
      ++i_;
    }
    out = v;
    return true;
  }
  bool digit_next() const { return peek() >= '0' && peek() <= '9'; }
  void advance() { ++i_; }

 private:
  std::string_view s_;
  std::size_t i_ = 0;
};

bool parse_time(Cursor& c, bool extended, std::int64_t& micros) {
  unsigned hh = 0, mm = 0, ss = 0;
  if (!c.digits(2, hh)) return false;
  bool has_minutes = extended ? c.take(':') : c.digit_next();
  if (has_minutes) {
    if (!c.digits(2, mm)) return false;
    bool has_seconds = extended ? c.take(':') : c.digit_next();
    if (has_seconds) {
      if (!c.digits(2, ss)) return false;
      if (c.take('.') || c.take(',')) {
        if (!c.digit_next()) return false;
        std::int64_t frac = 0;
        int n = 0;
        while (c.digit_next()) {
          if (n < 6) {
            frac = frac * 10 + (c.peek() - '0');
            ++n;
          }
          c.advance();
        }
        while (n < 6) {
          frac *= 10;
          ++n;
        }
        micros += frac;
      }
    }
  }
  if (hh > 23 || mm > 59 || ss > 59) return false;
  micros += ((static_cast<std::int64_t>(hh) * 60 + mm) * 60 + ss) * 1'000'000;
  return true;
}

bool parse_zone(Cursor& c, std::int64_t& offset_micros) {
  if (c.done()) return true;
  if (c.take('Z') || c.take('z')) return c.done();
  int sign = c.take('+') ? 1 : (c.take('-') ? -1 : 0);
  if (sign == 0) return false;
  unsigned oh = 0, om = 0;
  if (!c.digits(2, oh)) return false;
  if (c.take(':')) {
    if (!c.digits(2, om)) return false;
  } else if (c.digit_next()) {
    if (!c.digits(2, om)) return false;
  }
  if (oh > 23 || om > 59 || !c.done()) return false;
  offset_micros = sign * (static_cast<std::int64_t>(oh) * 60 + om) * 60 * 1'000'000;
  return true;
}

}  // namespace

std::optional<UnixMicros> parse_iso_timestamp(std::string_view text, bool allow_date) {
  Cursor c(text);
  unsigned year = 0, month = 0, day = 0;
  if (!c.digits(4, year)) return std::nullopt;
  bool extended = c.take('-');
  if (!c.digits(2, month)) return std::nullopt;
  if (extended && !c.take('-')) return std::nullopt;
  if (!c.digits(2, day)) return std::nullopt;
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) return std::nullopt;
  std::int64_t micros = days_from_civil(year, month, day) * kMicrosPerDay;
  if (c.done()) {
    if (!allow_date) return std::nullopt;
    return micros;
  }
  if (!(c.take('T') || c.take('t') || c.take(' '))) return std::nullopt;
  std::int64_t time_micros = 0;
  if (!parse_time(c, extended, time_micros)) return std::nullopt;
  std::int64_t offset = 0;
  if (!parse_zone(c, offset)) return std::nullopt;
  std::int64_t t = micros + time_micros - offset;
  // The zone may push a date at the edge of the calendar out of Python's range.
  if (t < days_from_civil(1, 1, 1) * kMicrosPerDay || t >= days_from_civil(10000, 1, 1) * kMicrosPerDay) {
    return std::nullopt;
  }
  return t;
}

void format_utc_timestamp(std::string& out, UnixMicros t) {
  std::int64_t days = t >= 0 ? t / kMicrosPerDay : -((-t + kMicrosPerDay - 1) / kMicrosPerDay);
  std::int64_t rest = t - days * kMicrosPerDay;
  std::int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(days, y, m, d);
  auto two = [&](std::int64_t v) {
    out += static_cast<char>('0' + v / 10);
    out += static_cast<char>('0' + v % 10);
  };
  std::int64_t secs = rest / 1'000'000;
  std::int64_t frac = rest % 1'000'000;
  if (y < 1000) out.append(y < 10 ? "000" : (y < 100 ? "00" : "0"));
  out += std::to_string(y);
  out += '-';
  two(m);
  out += '-';
  two(d);
  out += 'T';
  two(secs / 3600);
  out += ':';
  two(secs / 60 % 60);
  out += ':';
  two(secs % 60);
  if (frac != 0) {
    char buf[8];
    for (int k = 5; k >= 0; --k) {
      buf[k] = static_cast<char>('0' + frac % 10);
      frac /= 10;
    }
    out += '.';
    out.append(buf, 6);
  }
  out += "+00:00";
}

std::optional<UnixMicros> timestamp_from_unix_seconds(double seconds) {
  // Python datetimes span years 1..9999.
  constexpr double kMin = -62135596800.0;
  constexpr double kMax = 253402300799.0;
  if (!std::isfinite(seconds) || seconds < kMin || seconds > kMax) return std::nullopt;
  return static_cast<UnixMicros>(std::llround(seconds * 1e6));
}

}  // namespace mh::normalize
