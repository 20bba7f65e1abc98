// Fuzz target: the JSONPath subset (config::parse_json_path) and its evaluation
// (extract::find_value, take_records) on a JSON document.
#include <boost/json/parse.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/json_path.hpp"
#include "extract/select.hpp"

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
