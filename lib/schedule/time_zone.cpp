#include "schedule/time_zone.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace mh::schedule {
namespace detail {

// One date form of a POSIX TZ rule: Jn (1-365, Feb 29 never counted), n (0-365, Feb 29
// counted) or Mm.w.d (weekday d of week w, 5 = last, of month m), plus the local time of
// day it happens at (may be negative or past 24h, RFC 8536 §3.3.1).
struct PosixDate {
  enum class Kind { julian1, julian0, month_week_day } kind = Kind::month_week_day;
  int day = 0;  // Jn / n
  int month = 0;
  int week = 0;
  int weekday = 0;
  int time = 7200;  // POSIX default 02:00:00
};

struct PosixRule {
  TimeZone::LocalType standard;
  std::optional<TimeZone::LocalType> dst;
  PosixDate start;  // DST begins, in standard local time
  PosixDate end;    // DST ends, in DST local time

  bool is_dst(std::int64_t utc) const;
  const TimeZone::LocalType& type_at(std::int64_t utc) const { return is_dst(utc) ? *dst : standard; }
  std::optional<Transition> next_transition(std::int64_t utc) const;
  std::int64_t start_utc(int year) const;
  std::int64_t end_utc(int year) const;
};

}  // namespace detail

namespace {

using detail::PosixDate;
using detail::PosixRule;
namespace chr = std::chrono;

constexpr std::int64_t kDay = 86400;

std::int64_t days_from_civil(int y, unsigned m, unsigned d) {
  return chr::sys_days{chr::year{y} / chr::month{m} / chr::day{d}}.time_since_epoch().count();
}

// The calendar year holding the local instant; clamped so absurd instants stay in
// std::chrono::year's range (the rule repeats every year anyway).
int year_of(std::int64_t local_seconds) {
  constexpr std::int64_t kLimit = 900'000'000'000;  // ~28,500 years either side of 1970
  local_seconds = std::clamp(local_seconds, -kLimit, kLimit);
  chr::year_month_day ymd{chr::sys_days{chr::days{floor_div(local_seconds, kDay)}}};
  return static_cast<int>(ymd.year());
}

// Local seconds at which the rule date happens in `year`.
std::int64_t local_time_of(const PosixDate& d, int year) {
  std::int64_t days = 0;
  switch (d.kind) {
    case PosixDate::Kind::julian1: {
      bool leap = chr::year{year}.is_leap();
      days = days_from_civil(year, 1, 1) + d.day - 1 + ((leap && d.day >= 60) ? 1 : 0);
      break;
    }
    case PosixDate::Kind::julian0: days = days_from_civil(year, 1, 1) + d.day; break;
    case PosixDate::Kind::month_week_day: {
      std::int64_t first = days_from_civil(year, static_cast<unsigned>(d.month), 1);
      auto month_len = static_cast<int>(static_cast<unsigned>(
          chr::year_month_day_last{chr::year{year} / chr::month{static_cast<unsigned>(d.month)} / chr::last}.day()));
      int first_wd = static_cast<int>(chr::weekday{chr::sys_days{chr::days{first}}}.c_encoding());
      int offset = (d.weekday - first_wd + 7) % 7 + (d.week - 1) * 7;
      while (offset >= month_len) offset -= 7;  // week 5 means the last one
      days = first + offset;
      break;
    }
  }
  return days * kDay + d.time;
}

}  // namespace

namespace detail {

std::int64_t PosixRule::start_utc(int year) const { return local_time_of(start, year) - standard.offset; }
std::int64_t PosixRule::end_utc(int year) const { return local_time_of(end, year) - dst->offset; }

bool PosixRule::is_dst(std::int64_t utc) const {
  if (!dst) return false;
  int year = year_of(utc + standard.offset);
  std::int64_t s = start_utc(year);
  std::int64_t e = end_utc(year);
  // Southern hemisphere (and Europe/Dublin's negative DST): DST spans the new year.
  return s < e ? (s <= utc && utc < e) : !(e <= utc && utc < s);
}

std::optional<Transition> PosixRule::next_transition(std::int64_t utc) const {
  if (!dst) return std::nullopt;
  int year = year_of(utc + standard.offset);
  // A vector, not a partly filled std::array: GCC 12 -O2 reports a false
  // -Warray-bounds for std::sort over a prefix of an array.
  std::vector<std::int64_t> candidates;
  candidates.reserve(8);
  for (int y = year - 1; y <= year + 2; ++y) {
    for (std::int64_t t : {start_utc(y), end_utc(y)}) {
      if (t > utc) candidates.push_back(t);
    }
  }
  std::sort(candidates.begin(), candidates.end());
  for (std::int64_t t : candidates) {
    int before = type_at(t - 1).offset;
    int after = type_at(t).offset;
    // Permanent DST ("EST5EDT4,0/0,J365/25") has rule dates that change nothing.
    if (before != after) return Transition{t, before, after};
  }
  return std::nullopt;
}

}  // namespace detail

namespace {

// Parser for POSIX TZ strings as TZif footers carry them (RFC 8536 §3.3).
class PosixParser {
 public:
  explicit PosixParser(std::string_view text) : s_(text) {}

  std::optional<PosixRule> parse() {
    PosixRule r;
    if (!name(r.standard.abbreviation) || !offset(r.standard.offset)) return std::nullopt;
    if (done()) return r;
    TimeZone::LocalType dst;
    if (!name(dst.abbreviation)) return std::nullopt;
    dst.is_dst = true;
    dst.offset = r.standard.offset + 3600;  // POSIX: one hour ahead of standard time by default
    if (!done() && s_[i_] != ',' && !offset(dst.offset)) return std::nullopt;
    r.dst = dst;
    if (done()) {
      // No rule: the US rules, as glibc assumes (TZif footers always carry one).
      r.start = PosixDate{PosixDate::Kind::month_week_day, 0, 3, 2, 0, 7200};
      r.end = PosixDate{PosixDate::Kind::month_week_day, 0, 11, 1, 0, 7200};
      return r;
    }
    if (!eat(',') || !date(r.start) || !eat(',') || !date(r.end) || !done()) return std::nullopt;
    return r;
  }

 private:
  bool done() const { return i_ >= s_.size(); }
  bool eat(char c) {
    if (done() || s_[i_] != c) return false;
    ++i_;
    return true;
  }
  static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
  static bool is_digit(char c) { return c >= '0' && c <= '9'; }

  // "CET" or the quoted form "<+0545>" (letters, digits, '+', '-'); at least 3 characters.
  bool name(std::string& out) {
    std::size_t start = i_;
    if (eat('<')) {
      while (!done() && (is_alpha(s_[i_]) || is_digit(s_[i_]) || s_[i_] == '+' || s_[i_] == '-')) ++i_;
      out = std::string(s_.substr(start + 1, i_ - start - 1));
      return eat('>') && out.size() >= 3;
    }
    while (!done() && is_alpha(s_[i_])) ++i_;
    out = std::string(s_.substr(start, i_ - start));
    return out.size() >= 3;
  }

  bool number(int& out, int max) {
    if (done() || !is_digit(s_[i_])) return false;
    out = 0;
    while (!done() && is_digit(s_[i_])) {
      out = out * 10 + (s_[i_++] - '0');
      if (out > max) return false;
    }
    return true;
  }

  // [+-]h[h][:mm[:ss]] in seconds.
  bool hms(int& out, int max_hours) {
    int sign = 1;
    if (eat('-')) {
      sign = -1;
    } else {
      eat('+');
    }
    int h = 0;
    int m = 0;
    int sec = 0;
    if (!number(h, max_hours)) return false;
    if (eat(':')) {
      if (!number(m, 59)) return false;
      if (eat(':') && !number(sec, 59)) return false;
    }
    out = sign * (h * 3600 + m * 60 + sec);
    return true;
  }

  // POSIX offsets count west of Greenwich; ours count east.
  bool offset(int& out) {
    int west = 0;
    if (!hms(west, 24)) return false;
    out = -west;
    return true;
  }

  bool date(PosixDate& d) {
    if (eat('J')) {
      d.kind = PosixDate::Kind::julian1;
      if (!number(d.day, 365) || d.day < 1) return false;
    } else if (eat('M')) {
      d.kind = PosixDate::Kind::month_week_day;
      if (!number(d.month, 12) || d.month < 1 || !eat('.') || !number(d.week, 5) || d.week < 1 || !eat('.') ||
          !number(d.weekday, 6)) {
        return false;
      }
    } else {
      d.kind = PosixDate::Kind::julian0;
      if (!number(d.day, 365)) return false;
    }
    if (eat('/')) return hms(d.time, 167);  // RFC 8536 extension: -167..167 hours
    return true;
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

std::shared_ptr<const PosixRule> parse_posix(std::string_view text) {
  auto rule = PosixParser(text).parse();
  if (!rule) return nullptr;
  return std::make_shared<const PosixRule>(std::move(*rule));
}

// Big-endian reader over the TZif bytes; every read is bounds-checked by the caller's need().
class Reader {
 public:
  explicit Reader(std::string_view data) : d_(data) {}
  bool need(std::uint64_t n) const { return n <= d_.size() - pos_; }
  std::size_t pos() const { return pos_; }
  void skip(std::size_t n) { pos_ += n; }
  std::string_view bytes(std::size_t n) {
    std::string_view v = d_.substr(pos_, n);
    pos_ += n;
    return v;
  }
  std::uint8_t u8() { return static_cast<std::uint8_t>(d_[pos_++]); }
  std::uint32_t u32() {
    std::uint32_t v = 0;
    for (int k = 0; k < 4; ++k) v = (v << 8) | u8();
    return v;
  }
  std::int64_t i64() {
    std::uint64_t v = 0;
    for (int k = 0; k < 8; ++k) v = (v << 8) | u8();
    return static_cast<std::int64_t>(v);
  }
  std::int64_t i32() { return static_cast<std::int32_t>(u32()); }

 private:
  std::string_view d_;
  std::size_t pos_ = 0;
};

struct Header {
  char version = 0;
  std::uint32_t isutcnt = 0, isstdcnt = 0, leapcnt = 0, timecnt = 0, typecnt = 0, charcnt = 0;

  std::uint64_t data_size(int time_size) const {
    return std::uint64_t{timecnt} * static_cast<std::uint64_t>(time_size + 1) + std::uint64_t{typecnt} * 6 + charcnt +
           std::uint64_t{leapcnt} * static_cast<std::uint64_t>(time_size + 4) + isstdcnt + isutcnt;
  }
};

bool read_header(Reader& r, Header& h) {
  if (!r.need(44)) return false;
  if (r.bytes(4) != "TZif") return false;
  h.version = static_cast<char>(r.u8());
  r.skip(15);
  h.isutcnt = r.u32();
  h.isstdcnt = r.u32();
  h.leapcnt = r.u32();
  h.timecnt = r.u32();
  h.typecnt = r.u32();
  h.charcnt = r.u32();
  return true;
}

[[noreturn]] void fail(const std::string& name, const std::string& source, const std::string& why) {
  throw std::runtime_error("time zone '" + name + "': " + source + ": " + why);
}

std::string read_file(const std::string& name, const std::string& path) {
  constexpr off_t kMaxSize = 1 << 20;  // real TZif files are a few KiB
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw std::runtime_error("unknown time zone '" + name + "': cannot read " + path + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > kMaxSize) {
    ::close(fd);
    throw std::runtime_error("unknown time zone '" + name + "': " + path + " is not a time zone file");
  }
  std::string data(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < data.size()) {
    ssize_t n = ::read(fd, data.data() + got, data.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      ::close(fd);
      throw std::runtime_error("time zone '" + name + "': cannot read " + path + ": " +
                               (n < 0 ? std::strerror(err) : "file shrank while reading"));
    }
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return data;
}

}  // namespace

std::shared_ptr<const TimeZone> TimeZone::utc() {
  static const std::shared_ptr<const TimeZone> zone = [] {
    std::shared_ptr<TimeZone> z(new TimeZone());
    z->name_ = "UTC";
    z->types_.push_back(LocalType{0, false, "UTC"});
    z->compute_offset_bounds();
    return z;
  }();
  return zone;
}

std::shared_ptr<const TimeZone> TimeZone::load(const std::string& name) {
  const char* dir = std::getenv("TZDIR");
  return load(name, dir != nullptr && *dir != '\0' ? dir : "/usr/share/zoneinfo");
}

std::shared_ptr<const TimeZone> TimeZone::load(const std::string& name, const std::string& tzdir) {
  // Built in so the default zone works on hosts without tzdata (minimal containers).
  if (name == "UTC" || name == "Etc/UTC") {
    std::shared_ptr<TimeZone> z(new TimeZone(*utc()));
    z->name_ = name;
    return z;
  }
  // The same rule as the config loader: a zone name never leaves the zoneinfo folder.
  if (name.empty() || name.front() == '/' || name.find("..") != std::string::npos) {
    throw std::runtime_error("invalid time zone name '" + name + "' (an IANA name such as Europe/Berlin, or UTC)");
  }
  std::string path = tzdir + "/" + name;
  return from_tzif(name, read_file(name, path), path);
}

std::shared_ptr<const TimeZone> TimeZone::from_tzif(const std::string& name, std::string_view data,
                                                    const std::string& source) {
  Reader r(data);
  Header h;
  if (!read_header(r, h)) fail(name, source, "not a TZif file");
  int time_size = 4;
  if (h.version >= '2') {
    // Version 2+ repeats everything with 64-bit times; the v1 block is for old readers.
    if (!r.need(h.data_size(4))) fail(name, source, "truncated TZif data");
    r.skip(static_cast<std::size_t>(h.data_size(4)));
    if (!read_header(r, h)) fail(name, source, "truncated TZif data (no 64-bit header)");
    time_size = 8;
  }
  if (!r.need(h.data_size(time_size))) fail(name, source, "truncated TZif data");
  if (h.typecnt == 0 || h.typecnt > 256 || h.charcnt == 0) fail(name, source, "invalid TZif counts");
  if ((h.isstdcnt != 0 && h.isstdcnt != h.typecnt) || (h.isutcnt != 0 && h.isutcnt != h.typecnt)) {
    fail(name, source, "invalid TZif counts");
  }

  std::shared_ptr<TimeZone> z(new TimeZone());
  z->name_ = name;
  z->transition_times_.reserve(h.timecnt);
  for (std::uint32_t k = 0; k < h.timecnt; ++k) {
    std::int64_t t = time_size == 8 ? r.i64() : r.i32();
    if (!z->transition_times_.empty() && t <= z->transition_times_.back()) {
      fail(name, source, "transition times are not ascending");
    }
    z->transition_times_.push_back(t);
  }
  z->transition_types_.reserve(h.timecnt);
  for (std::uint32_t k = 0; k < h.timecnt; ++k) {
    std::uint8_t type = r.u8();
    if (type >= h.typecnt) fail(name, source, "transition refers to a missing local time type");
    z->transition_types_.push_back(type);
  }
  struct RawType {
    std::int64_t utoff;
    bool isdst;
    std::uint8_t desigidx;
  };
  std::vector<RawType> raw;
  for (std::uint32_t k = 0; k < h.typecnt; ++k) {
    std::int64_t utoff = r.i32();
    std::uint8_t isdst = r.u8();
    std::uint8_t desigidx = r.u8();
    // RFC 8536 §3.2: offsets stay within (-25h, +26h); isdst is 0 or 1.
    if (utoff < -89999 || utoff > 93599 || isdst > 1 || desigidx >= h.charcnt) {
      fail(name, source, "invalid local time type");
    }
    raw.push_back(RawType{utoff, isdst == 1, desigidx});
  }
  std::string_view chars = r.bytes(h.charcnt);
  for (const RawType& t : raw) {
    std::string_view abbr = chars.substr(t.desigidx);
    abbr = abbr.substr(0, abbr.find('\0'));
    z->types_.push_back(LocalType{static_cast<int>(t.utoff), t.isdst, std::string(abbr)});
  }
  // Leap-second records and the standard/UT indicators (only for POSIX-TZ-less
  // rule files) do not affect civil time on a POSIX clock.
  r.skip(static_cast<std::size_t>(std::uint64_t{h.leapcnt} * static_cast<std::uint64_t>(time_size + 4) + h.isstdcnt +
                                  h.isutcnt));

  if (time_size == 8) {
    // Footer: "\n<POSIX TZ string>\n"; empty when the last transition is final.
    std::string_view rest = data.substr(r.pos());
    if (rest.empty() || rest.front() != '\n') fail(name, source, "missing TZif footer");
    std::size_t end = rest.find('\n', 1);
    if (end == std::string_view::npos) fail(name, source, "unterminated TZif footer");
    std::string_view tz = rest.substr(1, end - 1);
    if (!tz.empty()) {
      z->footer_ = parse_posix(tz);
      if (!z->footer_) fail(name, source, "invalid POSIX TZ footer '" + std::string(tz) + "'");
    }
  }
  z->compute_offset_bounds();
  return z;
}

std::shared_ptr<const TimeZone> TimeZone::from_posix(const std::string& name, std::string_view tz) {
  std::shared_ptr<TimeZone> z(new TimeZone());
  z->name_ = name;
  z->footer_ = parse_posix(tz);
  if (!z->footer_)
    throw std::runtime_error("time zone '" + name + "': invalid POSIX TZ string '" + std::string(tz) + "'");
  z->types_.push_back(z->footer_->standard);
  z->compute_offset_bounds();
  return z;
}

void TimeZone::compute_offset_bounds() {
  std::vector<int> offsets;
  for (const LocalType& t : types_) offsets.push_back(t.offset);
  if (footer_) {
    offsets.push_back(footer_->standard.offset);
    if (footer_->dst) offsets.push_back(footer_->dst->offset);
  }
  min_offset_ = *std::min_element(offsets.begin(), offsets.end());
  max_offset_ = *std::max_element(offsets.begin(), offsets.end());
}

const TimeZone::LocalType& TimeZone::type_ref(std::int64_t utc_seconds) const {
  // RFC 8536 §3.2: the footer governs instants from the last transition on (all of them
  // when there are none); type 0 governs those before the first transition.
  if (footer_ && (transition_times_.empty() || utc_seconds >= transition_times_.back())) {
    return footer_->type_at(utc_seconds);
  }
  auto it = std::upper_bound(transition_times_.begin(), transition_times_.end(), utc_seconds);
  if (it == transition_times_.begin()) return types_.front();
  return types_[transition_types_[static_cast<std::size_t>(it - transition_times_.begin() - 1)]];
}

int TimeZone::offset_at(std::int64_t utc_seconds) const { return type_ref(utc_seconds).offset; }

TimeZone::LocalType TimeZone::type_at(std::int64_t utc_seconds) const { return type_ref(utc_seconds); }

std::optional<Transition> TimeZone::next_transition(std::int64_t utc_seconds) const {
  auto it = std::upper_bound(transition_times_.begin(), transition_times_.end(), utc_seconds);
  for (auto k = static_cast<std::size_t>(it - transition_times_.begin()); k < transition_times_.size(); ++k) {
    int before = k == 0 ? types_.front().offset : types_[transition_types_[k - 1]].offset;
    int after = types_[transition_types_[k]].offset;
    if (before != after) return Transition{transition_times_[k], before, after};
  }
  if (!footer_) return std::nullopt;
  std::int64_t from = transition_times_.empty() ? utc_seconds : std::max(utc_seconds, transition_times_.back());
  return footer_->next_transition(from);
}

std::int64_t TimeZone::to_utc(std::int64_t local_seconds) const {
  return LocalTimeMapper(*this, local_seconds, local_seconds).to_utc(local_seconds);
}

LocalTimeMapper::LocalTimeMapper(const TimeZone& tz, std::int64_t local_first, std::int64_t local_last) {
  // Every reading of a local time L lies in [L - max_offset, L - min_offset]: collect the
  // offset segments over that window for the whole stretch.
  std::int64_t from = local_first - tz.max_offset();
  std::int64_t to = local_last - tz.min_offset();
  offsets_.push_back(tz.offset_at(from));
  std::int64_t cursor = from;
  while (auto t = tz.next_transition(cursor)) {
    if (t->at > to) break;
    changes_.push_back(t->at);
    offsets_.push_back(t->offset_after);
    cursor = t->at;
  }
  auto [lo, hi] = std::minmax_element(offsets_.begin(), offsets_.end());
  min_offset_ = *lo;
  max_offset_ = *hi;
}

std::int64_t LocalTimeMapper::to_utc(std::int64_t local_seconds) const {
  // Segment i has offsets_[i] and spans [changes_[i-1], changes_[i]); the first and last
  // are open-ended (readings never leave the window). The first segment that contains
  // its reading of the local time is the first occurrence.
  const std::size_t n = offsets_.size();
  for (std::size_t i = 0; i < n; ++i) {
    std::int64_t utc = local_seconds - offsets_[i];
    bool after_start = i == 0 || utc >= changes_[i - 1];
    bool before_end = i + 1 == n || utc < changes_[i];
    if (after_start && before_end) return utc;
    // Past this segment's local end but before the next one's local start: a gap, read
    // with the offset from before it.
    if (i + 1 < n && !before_end && local_seconds - offsets_[i + 1] < changes_[i]) return utc;
  }
  return local_seconds - offsets_.back();  // unreachable for consistent data
}

}  // namespace mh::schedule
