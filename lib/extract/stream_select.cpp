#include "extract/stream_select.hpp"

#include <algorithm>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value_stack.hpp>
#include <charconv>
#include <stdexcept>
#include <string>
#include <unordered_set>

#include "extract/select.hpp"

namespace mh::extract {
namespace json = boost::json;
using Step = config::JsonPath::Step;

namespace {

// The page's syntax is Boost.JSON's default (json::parse, the client's stream_parser): the
// survey, the stream and the DOM fallback all accept exactly the same documents.
const json::parse_options kOptions{};
constexpr std::size_t kChunk = 16 * 1024;  // text per write_some: at most ~8 K records

// Handler boilerplate: what neither pass needs.
struct HandlerBase {
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();
  bool on_document_begin(json::error_code&) { return true; }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }
};

[[noreturn]] void invalid(std::size_t at, std::size_t size, const json::error_code& ec) {
  throw std::runtime_error("invalid JSON (at byte " + std::to_string(std::min(at, size)) + " of " +
                           std::to_string(size) + ": " + ec.message() + ")");
}

// Does selector step `step` lead from a container (object or not) to its child `key`/`index`?
bool step_matches(const Step& step, bool object, std::string_view key, std::size_t index) {
  switch (step.kind) {
    case Step::Kind::key: return object && key == step.key;
    case Step::Kind::index: return !object && index == step.index;
    case Step::Kind::wildcard: return true;
  }
  return false;
}

// ----- the survey: where the records are ----------------------------------------------------

// What the survey decides: the stream takes the selector's values, or (no selector) the
// array with this ordinal (arrays counted in document order); or the page needs the DOM.
struct Plan {
  bool dom = false;
  std::optional<std::size_t> list;  // no selector: the records list's ordinal, if any
};

// A complete parse that builds nothing but, with no selector and an object body, the
// body's shallow skeleton — its members and its member objects' members, each list as
// [ordinal], anything else null — on which detect_list decides as on the page itself
// (duplicate keys resolve as in the tree: the last value, at the first one's place).
// With a selector it checks that no object on the selector's way has a duplicate key:
// the stream cannot know which one the tree keeps before it has passed both.
class Survey : public HandlerBase {
 public:
  explicit Survey(const std::optional<config::JsonPath>& selector) : selector_(selector) {}

  bool on_document_begin(json::error_code&) {
    stack_.reset();
    return true;
  }
  bool on_document_end(json::error_code&) {
    if (!selector_ && skeleton_.is_object()) {
      json::array* best = detect_list(skeleton_.as_object());
      if (best == nullptr) {
        plan_.dom = true;  // the body itself is the record
      } else {
        plan_.list = static_cast<std::size_t>(best->at(0).as_int64());
      }
    }
    if (duplicate_) plan_.dom = true;
    return true;
  }
  bool on_object_begin(json::error_code&) { return open(true); }
  bool on_array_begin(json::error_code&) { return open(false); }
  bool on_object_end(std::size_t, json::error_code&) { return close(); }
  bool on_array_end(std::size_t, json::error_code&) { return close(); }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    key_.append(s.data(), s.size());
    Frame& f = frames_.back();
    if (f.track && !f.keys.insert(key_).second) duplicate_ = true;
    if (f.skel == Skel::body || f.skel == Skel::member) {
      stack_.push_key(key_);
      ++f.pushed;
    }
    last_key_.swap(key_);
    key_.clear();
    return true;
  }
  bool on_string_part(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_string(json::string_view, std::size_t, json::error_code&) { return scalar(); }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t, json::string_view, json::error_code&) { return scalar(); }
  bool on_uint64(std::uint64_t, json::string_view, json::error_code&) { return scalar(); }
  bool on_double(double, json::string_view, json::error_code&) { return scalar(); }
  bool on_bool(bool, json::error_code&) { return scalar(); }
  bool on_null(json::error_code&) { return scalar(); }

  const Plan& plan() const { return plan_; }

 private:
  // The skeleton's part a value plays: the body object, one of its member objects, a list
  // there (kept as [ordinal]), anything else there (null), or no part.
  enum class Skel { none, body, member, list, other };
  struct Frame {
    bool object = false;
    int sel = -1;  // selector steps that lead here; -1: off the selector's way
    Skel skel = Skel::none;
    bool track = false;  // check the keys for duplicates
    std::size_t index = 0;
    std::size_t pushed = 0;
    std::size_t ordinal = 0;
    std::unordered_set<std::string> keys;
  };

  bool on_way(int sel) const { return sel >= 0 && static_cast<std::size_t>(sel) < selector_->steps.size(); }

  bool open(bool object) {
    Frame f;
    f.object = object;
    if (frames_.empty()) {
      f.sel = selector_ ? 0 : -1;
      f.skel = !selector_ && object ? Skel::body : Skel::none;
      if (!selector_ && !object) plan_.list = arrays_;  // a list body: its items are the records
    } else {
      const Frame& p = frames_.back();
      if (selector_ && on_way(p.sel) && step_matches(selector_->steps[p.sel], p.object, last_key_, p.index)) {
        f.sel = p.sel + 1;
      }
      if (p.skel == Skel::body || p.skel == Skel::member) {
        f.skel = !object ? Skel::list : p.skel == Skel::body ? Skel::member : Skel::other;
      }
    }
    f.track = object && selector_ && on_way(f.sel);
    if (!object) f.ordinal = arrays_++;
    frames_.push_back(std::move(f));
    return true;
  }

  bool close() {
    Frame f = std::move(frames_.back());
    frames_.pop_back();
    switch (f.skel) {
      case Skel::body:
      case Skel::member: stack_.push_object(f.pushed); break;
      case Skel::list:
        stack_.push_int64(static_cast<std::int64_t>(f.ordinal));
        stack_.push_array(1);
        break;
      case Skel::other: stack_.push_null(); break;
      case Skel::none: break;
    }
    if (f.skel == Skel::body) skeleton_ = stack_.release();
    ended();
    return true;
  }

  bool scalar() {
    if (!frames_.empty()) {
      const Frame& p = frames_.back();
      if (p.skel == Skel::body || p.skel == Skel::member) stack_.push_null();
    }
    ended();
    return true;
  }

  void ended() {
    if (!frames_.empty() && !frames_.back().object) ++frames_.back().index;
  }

  const std::optional<config::JsonPath>& selector_;
  std::vector<Frame> frames_;
  std::string key_;
  std::string last_key_;  // the key of the member whose value comes next
  std::size_t arrays_ = 0;
  json::value_stack stack_;
  json::value skeleton_;
  bool duplicate_ = false;
  Plan plan_;
};

// ----- the stream ---------------------------------------------------------------------------

// The paths the paginators read (take_records' `keep`), as a tree of steps.
struct KeepNode {
  bool end = false;  // a path ends here: the value is read whole
  std::vector<std::pair<std::string, std::unique_ptr<KeepNode>>> keys;
  std::vector<std::pair<std::size_t, std::unique_ptr<KeepNode>>> indices;
  std::optional<std::size_t> max_index;

  const KeepNode* child(bool object, std::string_view key, std::size_t index) const {
    if (object) {
      for (const auto& [k, n] : keys)
        if (k == key) return n.get();
    } else {
      for (const auto& [i, n] : indices)
        if (i == index) return n.get();
    }
    return nullptr;
  }
  // An array child the paths skip but that keeps a later one at its index (as null).
  bool holds_place(std::size_t index) const { return max_index && index <= *max_index; }

  void add(const config::JsonPath& path) {
    KeepNode* n = this;
    for (const auto& step : path.steps) {
      if (step.kind == Step::Kind::wildcard) return;  // find_value reads nothing there
      if (step.kind == Step::Kind::key) {
        auto it = std::find_if(n->keys.begin(), n->keys.end(), [&](const auto& kv) { return kv.first == step.key; });
        if (it == n->keys.end()) it = n->keys.insert(n->keys.end(), {step.key, std::make_unique<KeepNode>()});
        n = it->second.get();
      } else {
        auto it =
            std::find_if(n->indices.begin(), n->indices.end(), [&](const auto& kv) { return kv.first == step.index; });
        if (it == n->indices.end()) {
          it = n->indices.insert(n->indices.end(), {step.index, std::make_unique<KeepNode>()});
          n->max_index = std::max(n->max_index.value_or(0), step.index);
        }
        n = it->second.get();
      }
    }
    n->end = true;
  }
};

// How a value goes to the page's rest: not at all, as the way to a kept path (only the
// members on a path, array items up to the last kept index), whole, or as a null that
// holds an array place.
enum class Rest : std::uint8_t { none, path, whole, null };

// Builds each record with its own value_stack and the rest of the page with another; the
// records list itself is never built. A record on a kept path is built into both (the
// tree copies it and leaves it in place); any other selected value is left out of the rest
// (the tree moves it out, leaving null or an emptied list).
class Streamer : public HandlerBase {
 public:
  Streamer(const std::optional<config::JsonPath>& selector, const Plan& plan, const KeepNode& keep)
      : selector_(selector), plan_(plan), keep_(keep) {}

  bool on_document_begin(json::error_code&) {
    rest_stack_.reset();
    return true;
  }
  bool on_document_end(json::error_code&) {
    rest_ = rest_stack_.release();
    return true;
  }
  bool on_object_begin(json::error_code&) { return open(true); }
  bool on_array_begin(json::error_code&) { return open(false); }
  bool on_object_end(std::size_t n, json::error_code&) { return close(n); }
  bool on_array_end(std::size_t n, json::error_code&) { return close(n); }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    key_.append(s.data(), s.size());
    Frame& p = frames_.back();
    p.child = role_of(p, key_, 0);
    if (p.dest.record) record_stack_.push_key(key_);
    if (p.child.rest != Rest::none) rest_stack_.push_key(key_);
    key_.clear();
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    if (!in_string_) {
      string_ = start(false, false);
      in_string_ = true;
    }
    if (string_.record) record_stack_.push_chars(s);
    if (string_.to_rest) rest_stack_.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, json::error_code&) {
    if (!in_string_) string_ = start(false, false);
    in_string_ = false;
    if (string_.record) record_stack_.push_string(s);
    if (string_.to_rest) rest_stack_.push_string(s);
    return finish(string_);
  }
  bool on_int64(std::int64_t i, json::string_view, json::error_code&) {
    number_.clear();
    return scalar(false, [i](json::value_stack& s) { s.push_int64(i); });
  }
  bool on_uint64(std::uint64_t u, json::string_view, json::error_code&) {
    number_.clear();
    return scalar(false, [u](json::value_stack& s) { s.push_uint64(u); });
  }
  bool on_number_part(json::string_view s, json::error_code&) {
    number_.append(s.data(), s.size());
    return true;
  }
  bool on_double(double d, json::string_view s, json::error_code&) {
    const double v = read_double(d, s);
    return scalar(false, [v](json::value_stack& st) { st.push_double(v); });
  }
  bool on_bool(bool b, json::error_code&) {
    return scalar(false, [b](json::value_stack& s) { s.push_bool(b); });
  }
  bool on_null(json::error_code&) {
    return scalar(true, [](json::value_stack& s) { s.push_null(); });
  }

  std::vector<json::value>& batch() { return batch_; }
  json::value& rest() { return rest_; }

 private:
  // The part a value plays, from its place.
  struct Role {
    Rest rest = Rest::none;
    const KeepNode* keep = nullptr;  // the kept paths from here on
    int sel = -1;                    // selector steps that lead here; -1: off the selector's way
    bool record = false;             // part of a record
    bool record_root = false;        // a record itself
    bool pinned = false;             // a kept path runs through it (the tree copies it)
  };
  // Where a value's events go, once its kind is known.
  struct Dest {
    bool record = false;       // to the record being built
    bool record_root = false;  // it is that record: done, it joins the batch
    bool to_rest = false;      // to the rest
    bool list = false;         // a records list: its items are the records
    Rest children = Rest::none;
    const KeepNode* keep = nullptr;
    int sel = -1;
    bool counted = false;  // takes a place in its parent in the rest
  };
  struct Frame {
    bool object = false;
    Dest dest;
    std::size_t index = 0;   // arrays: the next item's index
    std::size_t pushed = 0;  // children that went to the rest
    Role child;              // objects: the role of the member whose key came last
  };

  bool on_way(int sel) const { return sel >= 0 && static_cast<std::size_t>(sel) < selector_->steps.size(); }

  // A double from its text, correctly rounded: Boost.JSON 1.81 reads one by either of two
  // algorithms, depending on how much of the buffer is left, so a page fed in chunks could
  // read a number of 17+ digits an ulp off from one parsed whole (or -0e992 as NaN).
  double read_double(double parsed, json::string_view last) {
    const char* first = last.data();
    const char* end = last.data() + last.size();
    if (!number_.empty()) {
      number_.append(last.data(), last.size());
      first = number_.data();
      end = number_.data() + number_.size();
    }
    double v = parsed;
    auto [ptr, ec] = std::from_chars(first, end, v);
    number_.clear();
    return ec == std::errc() && ptr == end ? v : parsed;  // out of range: Boost's ±inf or 0
  }

  Role role_of(const Frame& p, std::string_view key, std::size_t index) const {
    Role r;
    const Dest& d = p.dest;
    if (d.record) {  // inside a record: all of it goes to the record, and to the rest if copied
      r.record = true;
      r.rest = d.children == Rest::whole ? Rest::whole : Rest::none;
      return r;
    }
    const KeepNode* node = d.keep ? d.keep->child(p.object, key, index) : nullptr;
    r.keep = node;
    r.pinned = node != nullptr;
    if (d.list) {
      r.record = r.record_root = true;
      r.rest = node                                                               ? Rest::whole
               : d.children != Rest::none && d.keep && d.keep->holds_place(index) ? Rest::null
                                                                                  : Rest::none;
      return r;
    }
    if (d.children == Rest::whole) {
      r.rest = Rest::whole;
    } else if (d.children == Rest::path) {
      r.rest = node                                        ? (node->end ? Rest::whole : Rest::path)
               : (!p.object && d.keep->holds_place(index)) ? Rest::null
                                                           : Rest::none;
    }
    if (selector_ && on_way(d.sel) && step_matches(selector_->steps[d.sel], p.object, key, index)) r.sel = d.sel + 1;
    return r;
  }

  Role role_here() const {
    if (frames_.empty()) {
      Role r;
      r.keep = &keep_;
      r.rest = keep_.end ? Rest::whole : Rest::path;
      r.sel = selector_ ? 0 : -1;
      return r;  // the root is never pinned: take_records never copies the body for a path
    }
    const Frame& p = frames_.back();
    return p.object ? p.child : role_of(p, {}, p.index);
  }

  // The value starting here: an array, a null, or anything else.
  Dest start(bool array, bool null) {
    const Role r = role_here();
    Dest d;
    d.counted = r.rest != Rest::none;
    d.keep = r.keep;
    d.sel = r.sel;
    if (r.record) {
      d.record = true;
      d.record_root = r.record_root;
      d.to_rest = r.rest == Rest::whole;
      d.children = d.to_rest ? Rest::whole : Rest::none;
    } else {
      const bool target = selector_ ? r.sel >= 0 && static_cast<std::size_t>(r.sel) == selector_->steps.size()
                                    : array && plan_.list && *plan_.list == arrays_;
      d.to_rest = r.rest == Rest::path || r.rest == Rest::whole;
      d.children = d.to_rest ? r.rest : Rest::none;
      if (target && array) {
        d.list = true;
      } else if (target && !null) {  // a selected non-list: one record
        d.record = d.record_root = true;
        d.to_rest = r.pinned;
        d.children = r.pinned ? Rest::whole : Rest::none;
      }
    }
    if (r.rest != Rest::none && !d.to_rest) rest_stack_.push_null();  // a place held, or a moved record
    if (d.record_root) record_stack_.reset();
    return d;
  }

  bool open(bool object) {
    Frame f;
    f.object = object;
    f.dest = start(!object, false);
    if (!object) ++arrays_;
    frames_.push_back(std::move(f));
    return true;
  }

  bool close(std::size_t n) {
    Frame f = std::move(frames_.back());
    frames_.pop_back();
    if (f.dest.record) {
      if (f.object) {
        record_stack_.push_object(n);
      } else {
        record_stack_.push_array(n);
      }
    }
    if (f.dest.to_rest) {
      if (f.object) {
        rest_stack_.push_object(f.pushed);
      } else {
        rest_stack_.push_array(f.pushed);
      }
    }
    return finish(f.dest);
  }

  template <class Push>
  bool scalar(bool null, Push push) {
    const Dest d = start(false, null);
    if (d.record) push(record_stack_);
    if (d.to_rest) push(rest_stack_);
    return finish(d);
  }

  bool finish(const Dest& d) {
    if (d.record_root) batch_.push_back(record_stack_.release());
    if (!frames_.empty()) {
      Frame& p = frames_.back();
      if (d.counted) ++p.pushed;
      if (!p.object) ++p.index;
    }
    return true;
  }

  const std::optional<config::JsonPath>& selector_;
  const Plan& plan_;
  const KeepNode& keep_;
  std::vector<Frame> frames_;
  std::string key_;
  std::string number_;  // the parts of a number split between two chunks
  bool in_string_ = false;
  Dest string_;
  std::size_t arrays_ = 0;  // arrays begun so far: the ordinal of the next one
  json::value_stack record_stack_;
  json::value_stack rest_stack_;
  std::vector<json::value> batch_;
  json::value rest_;
};

}  // namespace

struct PageStream::Impl {
  std::string_view text;
  const std::optional<config::JsonPath>& selector;
  Plan plan;
  KeepNode keep;
  // The stream…
  std::unique_ptr<json::basic_parser<Streamer>> parser;
  std::size_t offset = 0;
  bool done = false;
  // …or the tree.
  json::value body;
  std::vector<json::value> records;
  std::size_t taken = 0;

  Impl(std::string_view t, const std::optional<config::JsonPath>& s) : text(t), selector(s) {}
};

PageStream::PageStream(std::string_view text, const std::optional<config::JsonPath>& selector,
                       const std::vector<const config::JsonPath*>& keep)
    : impl_(std::make_unique<Impl>(text, selector)) {
  {
    json::basic_parser<Survey> survey(kOptions, selector);
    json::error_code ec;
    std::size_t n = survey.write_some(false, text.data(), text.size(), ec);
    if (!ec && n < text.size()) ec = json::error::extra_data;  // write_some stops after the document
    if (ec) invalid(n, text.size(), ec);
    impl_->plan = survey.handler().plan();
  }
  if (impl_->plan.dom) {
    json::error_code ec;
    impl_->body = json::parse(text, ec, {}, kOptions);
    if (ec) invalid(0, text.size(), ec);  // the survey accepted it: cannot happen
    impl_->records = take_records(impl_->body, selector, keep);
    return;
  }
  for (const config::JsonPath* path : keep) impl_->keep.add(*path);
  impl_->parser = std::make_unique<json::basic_parser<Streamer>>(kOptions, selector, impl_->plan, impl_->keep);
}

PageStream::~PageStream() = default;

bool PageStream::next(std::vector<json::value>& batch, std::size_t max) {
  batch.clear();
  Impl& s = *impl_;
  if (!s.parser) {
    if (s.taken >= s.records.size()) {
      s.records.clear();  // the moved-from records
      s.records.shrink_to_fit();
      return false;
    }
    const std::size_t n = std::min(max, s.records.size() - s.taken);
    auto from = s.records.begin() + static_cast<std::ptrdiff_t>(s.taken);
    batch.assign(std::make_move_iterator(from), std::make_move_iterator(from + static_cast<std::ptrdiff_t>(n)));
    s.taken += n;
    return true;
  }
  auto& out = s.parser->handler().batch();
  while (!s.done && out.size() < max) {
    // Text of at most `max` bytes holds at most `max` records: a batch ends near `max`.
    std::size_t n = std::min({kChunk, std::max<std::size_t>(max, 1), s.text.size() - s.offset});
    const bool more = s.offset + n < s.text.size();
    json::error_code ec;
    std::size_t used = s.parser->write_some(more, s.text.data() + s.offset, n, ec);
    if (!ec && used < n) ec = json::error::extra_data;
    if (ec) invalid(s.offset + used, s.text.size(), ec);  // the survey accepted it: cannot happen
    s.offset += n;
    s.done = !more;
  }
  batch.swap(out);
  return !batch.empty();
}

const json::value& PageStream::rest() const { return impl_->parser ? impl_->parser->handler().rest() : impl_->body; }

bool PageStream::streamed() const { return impl_->parser != nullptr; }

}  // namespace mh::extract
