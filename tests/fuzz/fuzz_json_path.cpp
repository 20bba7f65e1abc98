// Fuzz target: the JSONPath subset (config::parse_json_path) and its evaluation
// (extract::find_value, take_records) on a JSON document; and, differentially, the
// streaming selector (extract::PageStream) against take_records on the same text.
#include <algorithm>
#include <boost/json/parse.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "config/json_path.hpp"
#include "extract/select.hpp"
#include "extract/stream_select.hpp"

namespace {

// Equal, but for doubles: the stream reads them correctly rounded, Boost.JSON 1.81 within an
// ulp or two (and -0e992 as NaN).
bool same(const boost::json::value& a, const boost::json::value& b) {
  if (a.is_double() && b.is_double()) {
    const double x = a.get_double(), y = b.get_double();
    return x == y || std::isnan(x) || std::isnan(y) ||
           std::fabs(x - y) <= 4 * std::numeric_limits<double>::epsilon() * std::max(std::fabs(x), std::fabs(y));
  }
  if (a.kind() != b.kind()) return false;
  if (a.is_array()) {
    const auto &p = a.get_array(), &q = b.get_array();
    if (p.size() != q.size()) return false;
    for (std::size_t i = 0; i < p.size(); ++i)
      if (!same(p[i], q[i])) return false;
    return true;
  }
  if (a.is_object()) {
    const auto &p = a.get_object(), &q = b.get_object();
    if (p.size() != q.size()) return false;
    auto j = q.begin();
    for (auto i = p.begin(); i != p.end(); ++i, ++j)
      if (i->key() != j->key() || !same(i->value(), j->value())) return false;
    return true;
  }
  return a == b;
}

// The stream must select what the tree selects, in order, and leave the same value on the
// kept path for the paginator. Batches of 3 records exercise the batch boundaries.
void same_as_tree(std::string_view text, const boost::json::value& doc,
                  const std::optional<mh::config::JsonPath>& selector, const mh::config::JsonPath* keep) {
  std::vector<const mh::config::JsonPath*> keeps;
  if (keep != nullptr) keeps.push_back(keep);
  boost::json::value tree = doc;
  const auto expected = mh::extract::take_records(tree, selector, keeps);
  mh::extract::PageStream page(text, selector, keeps);
  std::vector<boost::json::value> batch;
  std::size_t i = 0;
  while (page.next(batch, 3)) {
    if (batch.size() > 3 + 3) __builtin_trap();  // a batch ends within one chunk past its bound
    for (const auto& r : batch) {
      if (i >= expected.size() || !same(r, expected[i])) __builtin_trap();
      ++i;
    }
  }
  if (i != expected.size()) __builtin_trap();
  if (keep != nullptr) {
    const boost::json::value* want = mh::extract::find_value(tree, *keep);
    const boost::json::value* have = mh::extract::find_value(page.rest(), *keep);
    if ((want == nullptr) != (have == nullptr) || (want != nullptr && !same(*want, *have))) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  // First line: the path; the rest: the document it selects from.
  auto nl = input.find('\n');
  std::string_view text = input.substr(0, nl);
  std::string error;
  auto path = mh::config::parse_json_path(text, error);
  if (!path && error.empty()) __builtin_trap();
  if (nl == std::string_view::npos) return 0;
  boost::system::error_code ec;
  auto doc = boost::json::parse(input.substr(nl + 1), ec);
  if (ec) return 0;
  const std::string_view page = input.substr(nl + 1);
  same_as_tree(page, doc, std::nullopt, path ? &*path : nullptr);
  if (path) {
    same_as_tree(page, doc, path, &*path);
    same_as_tree(page, doc, path, nullptr);
  }
  if (path) (void)mh::extract::find_value(doc, *path);
  (void)mh::extract::find_value(doc, text);
  // take_records moves records out of the document: run it last, once keeping the path
  // (as a paginator's next link would be kept) and once on a fresh copy without.
  boost::json::value copy = doc;
  std::vector<const mh::config::JsonPath*> keep;
  if (path) keep.push_back(&*path);
  (void)mh::extract::take_records(doc, path, keep);
  (void)mh::extract::take_records(copy, path);
  return 0;
}
