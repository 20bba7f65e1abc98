// Fuzz target: the relational normalizer (records → rows, evolving the schema),
// the stored-schema round trip (to_json/from_json) and reconcile() against it.
// Input: one flag byte (write disposition, primary key, nesting), then a JSON
// document; an array is a page of records, anything else one record.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>

#include "normalize/normalizer.hpp"
#include "normalize/reconcile.hpp"
#include "normalize/schema.hpp"

namespace {

namespace nz = mh::normalize;

// Checks every row against the schema it was written under.
class CheckingSink : public nz::RowSink {
 public:
  void write_row(const nz::Schema& schema, std::size_t table, std::span<const nz::Cell> cells) override {
    if (table >= schema.tables().size()) __builtin_trap();
    const auto& t = schema.table(table);
    for (const auto& c : cells) {
      if (c.column >= t.columns().size()) __builtin_trap();
    }
  }
};

nz::Resource resource_for(std::uint8_t flags) {
  nz::Resource r;
  r.name = (flags & 1) ? "items" : "Saved Items";
  r.write_disposition = (flags & 2) ? nz::WriteDisposition::merge : nz::WriteDisposition::append;
  if (flags & 4) r.primary_key = {"id"};
  if (flags & 8) r.max_table_nesting = (flags >> 4) & 3;
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t flags = data[0];
  boost::system::error_code ec;
  auto doc = boost::json::parse(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1), ec);
  if (ec) return 0;

  nz::Schema schema;
  CheckingSink sink;
  nz::Resource resource = resource_for(flags);
  std::optional<nz::Schema> first;  // the schema after the first record: "stored"
  {
    nz::Normalizer normalizer(schema, "1700000000.123456", sink);
    normalizer.begin_resource(resource);
    auto add = [&](const boost::json::value& record) {
      try {
        normalizer.add(resource, record);
      } catch (const nz::Error&) {
        // rejected records leave nothing behind; the next one goes on
      }
      if (!first) first = schema;
    };
    if (doc.is_array()) {
      for (const auto& record : doc.as_array()) add(record);
    } else {
      add(doc);
    }
  }
  schema.bump_version();

  // The stored document reads back to the same content.
  boost::json::value stored = schema.to_json();
  nz::Schema again = nz::Schema::from_json(stored);
  if (again.content_hash() != schema.content_hash()) __builtin_trap();

  // Evolution: the first record's schema as stored, the whole page's as the package's.
  try {
    auto r = nz::reconcile(first, schema);
    for (const auto& t : schema.tables()) {
      std::vector<std::string> cols;
      for (const auto& c : t.columns()) cols.push_back(c.name);
      (void)r.target_columns(t.name, cols);
    }
  } catch (const std::runtime_error&) {
    // a variant name taken by a column of another type: refused, as documented
  }
  return 0;
}
