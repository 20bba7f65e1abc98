// JSON records → rows of a root table and its nested tables, as dlt's
// relational normalizer makes them (docs/dlt-layout.md §Nesting, §Types), evolving the
// schema as it goes. Rows go to a RowSink, so nothing accumulates here.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "normalize/schema.hpp"

namespace mh::normalize {

// dlt's default nesting limit (in effect unlimited)…
inline constexpr int kDefaultMaxNesting = 1000;
// …and ours: deeper data becomes json, which bounds our recursion.
inline constexpr int kNestingCap = 128;

// A resource as the normalizer needs it: its name names the root table.
struct Resource {
  std::string name;
  WriteDisposition write_disposition = WriteDisposition::append;
  std::vector<std::string> primary_key;  // field names as they appear in the data
  std::optional<int> max_table_nesting;
};

// One value of a row: a column of the table and the value's canonical text
// (see encode_value).
struct Cell {
  std::size_t column;
  std::string_view text;
};

class RowSink {
 public:
  virtual ~RowSink() = default;
  // A row of schema.table(table). Each column appears at most once, in any
  // order; columns without a cell are NULL. The views live until return.
  virtual void write_row(const Schema& schema, std::size_t table, std::span<const Cell> cells) = 0;
};

// A record that cannot be normalized (a missing primary key, a value that
// fits neither its column nor a variant, too many columns). The record left
// no rows and no schema change behind.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Not thread-safe: one normalizer per load package, used by one thread.
class Normalizer {
 public:
  Normalizer(Schema& schema, std::string load_id, RowSink& sink);
  ~Normalizer();
  Normalizer(const Normalizer&) = delete;
  Normalizer& operator=(const Normalizer&) = delete;

  // Applies the resource's hints (write disposition, primary key, nesting) to
  // its root table. add() does it too; call it for a resource that may yield
  // no records, so its hints still count.
  void begin_resource(const Resource& resource);

  // Normalizes one record (a non-object is wrapped as {"value": record}) and
  // writes its rows to the sink. Throws Error for a record it rejects.
  void add(const Resource& resource, const boost::json::value& record);

  std::uint64_t records() const;

  // The root table name of a resource: its name through normalize_path.
  static std::string table_name(std::string_view resource_name);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mh::normalize
