#include "normalize/normalizer.hpp"

#include <algorithm>
#include <array>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <charconv>
#include <deque>
#include <unordered_map>

#include "normalize/coerce.hpp"
#include "normalize/naming.hpp"
#include "normalize/row_id.hpp"

namespace mh::normalize {
namespace {

namespace json = boost::json;

using StringMap = std::unordered_map<std::string, std::string, StringHash, std::equal_to<>>;

constexpr std::size_t kNone = static_cast<std::size_t>(-1);

// Caches are dropped between records once this big, so hostile data with
// endless distinct keys cannot grow memory.
constexpr std::size_t kCacheLimit = 20000;

struct ResourceState {
  std::string name;
  std::string table;
  std::size_t table_index = kNone;  // hint, reset when the schema rolls back
  WriteDisposition disposition = WriteDisposition::append;
  std::vector<std::string> raw_primary_key;
  std::vector<std::string> primary_key;  // normalized
  std::optional<int> max_nesting;
  bool chain_has_root_key = false;
};

// What the n-th key visited while flattening a row of a table resolved to
// last time. Records of one resource nearly always repeat their layout, so
// a hit costs two short compares instead of normalizing, joining and
// looking names up again.
struct ShapeEntry {
  bool valid = false;
  std::string raw_key;
  std::string prefix;            // joined, unshortened path of the dicts above
  std::string path;              // prefix + "__" + normalized key
  std::string name;              // path shortened: the column name
  std::size_t column = kNone;    // the column `name`, if it exists
  std::size_t columns_seen = 0;  // table width when `column` was looked up
  std::string child_path;        // a list's nested table: row path + "__" + path
  std::size_t child_table = kNone;
};

// The key/value pairs of one row: an object, or a single synthetic pair
// (dlt wraps a scalar record as {"value": v} and a list in a list as {"list": v}).
struct Source {
  const json::object* object = nullptr;
  std::string_view single_key;
  const json::value* single_value = nullptr;

  template <class F>
  void each(F&& f) const {
    if (object != nullptr) {
      for (const auto& kv : *object) f(std::string_view(kv.key()), kv.value());
    } else {
      f(single_key, *single_value);
    }
  }
};

struct Frame {
  Source source;
  std::string_view prefix;  // points into a ShapeEntry, stable while the row is flattened
  int level;
};

struct Field {
  ShapeEntry* entry;
  const json::value* value;
};

struct ListRef {
  ShapeEntry* entry;
  const json::array* items;
};

// Per nesting depth, reused across rows so a row costs no allocations once warm.
struct Scratch {
  std::vector<Frame> stack;
  std::vector<Field> fields;
  std::vector<ListRef> lists;
  std::string child_path;
};

// The parent of a nested row.
struct Link {
  std::string_view parent_id;
  std::size_t parent_table;
  std::uint64_t index;
};

struct StagedCell {
  std::size_t column;
  std::size_t offset;
  std::size_t size;
};

struct StagedRow {
  std::size_t table;
  std::size_t first;
  std::size_t count;
};

Column system_column(std::string_view name) {
  Column c{.name = std::string(name), .type = DataType::text, .nullable = false};
  if (name == kDltId) {
    c.unique = true;
    c.row_key = true;
  } else if (name == kDltParentId) {
    c.parent_key = true;
  } else if (name == kDltRootId) {
    c.root_key = true;
  } else if (name == kDltListIdx) {
    c.type = DataType::bigint;
  }
  return c;
}

}  // namespace

class Normalizer::Impl {
 public:
  Impl(Schema& schema, std::string load_id, RowSink& sink)
      : schema_(schema), load_id_(std::move(load_id)), sink_(sink) {}

  ResourceState& begin_resource(const Resource& r) {
    if (last_ != nullptr && last_->name == r.name && same_hints(*last_, r)) return *last_;
    auto it = resources_.find(r.name);
    if (it != resources_.end() && same_hints(it->second, r)) return *(last_ = &it->second);
    ResourceState rs;
    rs.name = r.name;
    rs.table = Normalizer::table_name(r.name);
    rs.disposition = r.write_disposition;
    rs.raw_primary_key = r.primary_key;
    for (const auto& k : r.primary_key) rs.primary_key.push_back(normalize_path(k));
    rs.max_nesting = r.max_table_nesting;
    if (auto t = schema_.table_index(rs.table)) {
      apply_hints(rs, *t);
      for (std::size_t c : schema_.chain(*t))
        rs.chain_has_root_key |= schema_.table(c).index_of(kDltRootId).has_value();
    }
    return *(last_ = &resources_.insert_or_assign(r.name, std::move(rs)).first->second);
  }

  void add(const Resource& r, const json::value& record) {
    ResourceState& rs = begin_resource(r);
    if (names_.size() > kCacheLimit) names_.clear();
    if (shortened_.size() > kCacheLimit) shortened_.clear();
    rows_.clear();
    cells_.clear();
    arena_.clear();
    std::size_t mark = schema_.mark();
    try {
      Source source =
          record.is_object() ? Source{&record.get_object(), {}, nullptr} : Source{nullptr, kValueColumn, &record};
      int level = kDefaultMaxNesting;
      if (rs.table_index == kNone || rs.table_index >= schema_.tables().size()) {
        rs.table_index = schema_.table_index(rs.table).value_or(kNone);
      }
      if (rs.max_nesting) {
        level = *rs.max_nesting;
      } else if (rs.table_index != kNone && schema_.table(rs.table_index).max_nesting) {
        level = *schema_.table(rs.table_index).max_nesting;
      }
      normalize_row(source, rs.table, rs.table_index, std::min(level, kNestingCap), nullptr, {}, &rs, 0);
    } catch (...) {
      if (schema_.mark() != mark) {
        schema_.rollback(mark);
        forget_hints();
      }
      throw;
    }
    schema_.forget_journal();
    emit();
    ++records_;
  }

  std::uint64_t records() const { return records_; }

 private:
  static bool same_hints(const ResourceState& rs, const Resource& r) {
    return rs.disposition == r.write_disposition && rs.raw_primary_key == r.primary_key &&
           rs.max_nesting == r.max_table_nesting;
  }

  // Indices cached from the schema may point at what a rollback removed.
  void forget_hints() {
    shapes_.clear();
    system_columns_.clear();
    for (auto& [name, rs] : resources_) rs.table_index = kNone;
  }

  void apply_hints(const ResourceState& rs, std::size_t t) {
    Table& table = schema_.table(t);
    table.resource = rs.name;
    table.write_disposition = rs.disposition;
    if (rs.max_nesting) table.max_nesting = rs.max_nesting;
    for (std::size_t c = 0; c < table.columns().size(); ++c) {
      Column& col = table.column(c);
      if (is_system_column(col.name)) continue;
      bool pk = std::find(rs.primary_key.begin(), rs.primary_key.end(), col.name) != rs.primary_key.end();
      if (pk)
        col.nullable = false;
      else if (col.primary_key)
        col.nullable = true;
      col.primary_key = pk;
    }
  }

  const std::string& key_name(std::string_view raw) {
    auto it = names_.find(raw);
    if (it == names_.end()) it = names_.emplace(std::string(raw), normalize_path(raw)).first;
    return it->second;
  }

  // shorten_fragments of an already joined path; most paths fit and pass through.
  std::string_view shortened(std::string_view joined) {
    if (joined.size() <= kMaxIdentifierLength) return joined;
    auto it = shortened_.find(joined);
    if (it == shortened_.end()) {
      it = shortened_.emplace(std::string(joined), shorten_identifier(std::string(joined), joined)).first;
    }
    return it->second;
  }

  std::size_t ensure_table(std::string_view path, std::size_t hint, std::size_t parent, const ResourceState* rs) {
    if (hint != kNone && hint < schema_.tables().size()) return hint;
    std::string_view name = shortened(path);
    if (auto t = schema_.table_index(name)) return *t;
    std::string parent_name = parent == kNone ? std::string() : schema_.table(parent).name;
    std::size_t t = schema_.add_table(std::string(name), std::move(parent_name));
    if (rs != nullptr) apply_hints(*rs, t);
    return t;
  }

  Scratch& scratch(std::size_t depth) {
    while (scratch_.size() <= depth) scratch_.push_back(std::make_unique<Scratch>());
    return *scratch_[depth];
  }

  ShapeEntry& shape_entry(std::size_t t, std::size_t ordinal) {
    while (shapes_.size() <= t) shapes_.push_back(std::make_unique<std::deque<ShapeEntry>>());
    auto& shape = *shapes_[t];
    while (shape.size() <= ordinal) shape.emplace_back();
    return shape[ordinal];
  }

  // The column an entry names, looked up again only when the table grew.
  std::size_t entry_column(std::size_t t, ShapeEntry& e) {
    const Table& table = schema_.table(t);
    if (e.column == kNone && e.columns_seen != table.columns().size()) {
      e.column = table.index_of(e.name).value_or(kNone);
      e.columns_seen = table.columns().size();
    }
    return e.column;
  }

  bool nested_type(std::size_t t, ShapeEntry& e, int level) {
    if (level <= 0) return true;
    std::size_t c = entry_column(t, e);
    return c != kNone && schema_.table(t).column(c).type == DataType::json;
  }

  void flatten(const Source& source, std::size_t t, int level, Scratch& sc) {
    sc.fields.clear();
    sc.lists.clear();
    sc.stack.clear();
    sc.stack.push_back(Frame{source, {}, level});
    std::size_t ordinal = 0;
    // LIFO, as dlt 1.26 does: a level's scalars first, then its dicts, last one first.
    while (!sc.stack.empty()) {
      Frame frame = sc.stack.back();
      sc.stack.pop_back();
      frame.source.each([&](std::string_view key, const json::value& v) {
        ShapeEntry& e = shape_entry(t, ordinal++);
        if (!e.valid || e.raw_key != key || e.prefix != frame.prefix) {
          const std::string& nk = key_name(key);
          e.valid = true;
          e.raw_key.assign(key);
          e.prefix.assign(frame.prefix);
          if (frame.prefix.empty()) {
            e.path = nk;
          } else {
            e.path.assign(frame.prefix).append(kPathSeparator).append(nk);
          }
          e.name.assign(shortened(e.path));
          e.column = kNone;
          e.columns_seen = 0;
          e.child_path.clear();
          e.child_table = kNone;
        }
        if ((v.is_object() || v.is_array()) && !nested_type(t, e, frame.level)) {
          if (v.is_object()) {
            sc.stack.push_back(Frame{Source{&v.get_object(), {}, nullptr}, e.path, frame.level - 1});
          } else {
            sc.lists.push_back(ListRef{&e, &v.get_array()});
          }
          return;
        }
        if (v.is_null()) return;  // no column until a value arrives
        sc.fields.push_back(Field{&e, &v});
      });
    }
  }

  void begin_row(std::size_t t) {
    ++row_stamp_;
    if (stamps_.size() < schema_.tables().size()) stamps_.resize(schema_.tables().size());
    rows_.push_back(StagedRow{t, cells_.size(), 0});
  }

  void stage_cell(std::size_t t, std::size_t column, std::size_t offset) {
    auto& st = stamps_[t];
    if (st.size() <= column) st.resize(column + 1, 0);
    StagedCell cell{column, offset, arena_.size() - offset};
    if (st[column] == row_stamp_) {
      // Two keys normalized to one column: the later value wins, as in dlt's row dict.
      StagedRow& row = rows_.back();
      for (std::size_t i = row.first; i < cells_.size(); ++i) {
        if (cells_[i].column == column) cells_[i] = cell;
      }
      return;
    }
    st[column] = row_stamp_;
    cells_.push_back(cell);
    ++rows_.back().count;
  }

  bool has_cell(std::size_t t, std::size_t column) const {
    return column < stamps_[t].size() && stamps_[t][column] == row_stamp_;
  }

  std::size_t new_column(std::size_t t, Column c) {
    if (schema_.table(t).columns().size() >= kMaxColumnsPerTable) {
      throw Error("table " + schema_.table(t).name + " would get more than " + std::to_string(kMaxColumnsPerTable) +
                  " columns (new column " + c.name + ")");
    }
    return schema_.add_column(t, std::move(c));
  }

  // `column` is the column named `name` or kNone when there is none yet.
  std::size_t add_value_cell(std::size_t t, std::string_view name, std::size_t column, const json::value& v,
                             const ResourceState* rs) {
    // System columns are ours alone: data cannot forge ids or links.
    if (is_system_column(name)) return column;
    std::size_t offset = arena_.size();
    std::size_t target = column;
    if (column == kNone) {
      Column c{.name = std::string(name), .type = natural_type(v, true)};
      if (rs != nullptr && std::find(rs->primary_key.begin(), rs->primary_key.end(), name) != rs->primary_key.end()) {
        c.primary_key = true;
        c.nullable = false;
      }
      DataType type = c.type;
      column = target = new_column(t, std::move(c));
      encode_value(type, v, arena_);
    } else if (!encode_value(schema_.table(t).column(column).type, v, arena_)) {
      DataType vt = natural_type(v, false);
      std::string vname = shorten_fragments({name, std::string("v_").append(type_name(vt))});
      auto vcol = schema_.table(t).index_of(vname);
      if (!vcol) vcol = new_column(t, Column{.name = vname, .type = vt, .variant = true});
      const Column& vc = schema_.table(t).column(*vcol);
      if (!encode_value(vc.type, v, arena_)) {
        throw Error("table " + schema_.table(t).name + ": a " + std::string(type_name(vt)) +
                    " value fits neither column " + std::string(name) + " nor " + vc.name + " (" +
                    std::string(type_name(vc.type)) + ")");
      }
      target = *vcol;
    }
    stage_cell(t, target, offset);
    return column;
  }

  enum SystemColumn { kId, kLoadId, kParentId, kListIdx, kRootId, kSystemColumns };

  void add_system_cell(std::size_t t, SystemColumn which, std::string_view text) {
    static constexpr std::string_view kNames[] = {kDltId, kDltLoadId, kDltParentId, kDltListIdx, kDltRootId};
    if (system_columns_.size() <= t) system_columns_.resize(t + 1, {kNone, kNone, kNone, kNone, kNone});
    std::size_t& col = system_columns_[t][which];
    if (col == kNone) {
      col = schema_.table(t).index_of(kNames[which]).value_or(kNone);
      if (col == kNone) col = new_column(t, system_column(kNames[which]));
    }
    std::size_t offset = arena_.size();
    arena_.append(text);
    stage_cell(t, col, offset);
  }

  void check_primary_key(std::size_t t, const ResourceState& rs) {
    for (const auto& pk : rs.primary_key) {
      auto col = schema_.table(t).index_of(pk);
      if (!col || !has_cell(t, *col)) {
        throw Error("table " + schema_.table(t).name + ": a record has no value for primary key column " + pk);
      }
    }
  }

  // Adds the link and id cells of the current row and returns its id.
  std::string finish_row(std::size_t t, const Link* link, std::string_view root_id) {
    std::string id;
    if (link != nullptr) {
      if (!root_id.empty()) add_system_cell(t, kRootId, root_id);
      add_system_cell(t, kParentId, link->parent_id);
      char idx[24];
      auto end = std::to_chars(idx, idx + sizeof idx, link->index).ptr;
      add_system_cell(t, kListIdx, std::string_view(idx, static_cast<std::size_t>(end - idx)));
      append_nested_row_id(id, link->parent_id, schema_.table(t).name, link->index);
    } else {
      add_system_cell(t, kLoadId, load_id_);
      ids_.append_next(id);
    }
    add_system_cell(t, kId, id);
    return id;
  }

  // Returns the table the row went to.
  std::size_t normalize_row(const Source& source, std::string_view path, std::size_t hint, int level, const Link* link,
                            std::string_view root_id, ResourceState* rs, std::size_t depth) {
    std::size_t t = ensure_table(path, hint, link != nullptr ? link->parent_table : kNone, rs);
    if (rs != nullptr) rs->table_index = t;
    Scratch& sc = scratch(depth);
    flatten(source, t, level, sc);
    begin_row(t);
    for (const Field& f : sc.fields) {
      f.entry->column = add_value_cell(t, f.entry->name, entry_column(t, *f.entry), *f.value, rs);
    }
    if (rs != nullptr) check_primary_key(t, *rs);
    std::string id = finish_row(t, link, root_id);
    std::string_view child_root_id = root_id;
    if (rs != nullptr && (rs->disposition == WriteDisposition::merge || rs->chain_has_root_key)) {
      child_root_id = id;
      rs->chain_has_root_key = true;
    }
    for (const ListRef& list : sc.lists) {
      ShapeEntry& e = *list.entry;
      if (e.child_path.empty()) e.child_path.assign(path).append(kPathSeparator).append(e.path);
      // Copied: deeper rows may reuse this table's shape entries.
      std::string& child_path = sc.child_path;
      child_path.assign(e.child_path);
      for (std::size_t i = 0; i < list.items->size(); ++i) {
        const json::value& item = (*list.items)[i];
        Link child{id, t, i};
        std::size_t child_hint = e.child_table;
        if (item.is_object()) {
          child_hint = normalize_row(Source{&item.get_object(), {}, nullptr}, child_path, child_hint, level - 1, &child,
                                     child_root_id, nullptr, depth + 1);
        } else if (item.is_array()) {
          child_hint = normalize_row(Source{nullptr, "list", &item}, child_path, child_hint, level - 2, &child,
                                     child_root_id, nullptr, depth + 1);
        } else {
          child_hint = scalar_row(child_path, child_hint, item, child, child_root_id);
        }
        // The entry may have been reset by a nested row of the same table; only a live one keeps the hint.
        if (e.child_path == child_path) e.child_table = child_hint;
      }
    }
    return t;
  }

  std::size_t scalar_row(std::string_view path, std::size_t hint, const json::value& v, const Link& link,
                         std::string_view root_id) {
    std::size_t t = ensure_table(path, hint, link.parent_table, nullptr);
    begin_row(t);
    if (!v.is_null()) {
      add_value_cell(t, kValueColumn, schema_.table(t).index_of(kValueColumn).value_or(kNone), v, nullptr);
    }
    finish_row(t, &link, root_id);
    return t;
  }

  void emit() {
    for (const StagedRow& row : rows_) {
      out_.clear();
      for (std::size_t i = row.first; i < row.first + row.count; ++i) {
        const StagedCell& c = cells_[i];
        out_.push_back(Cell{c.column, std::string_view(arena_).substr(c.offset, c.size)});
      }
      sink_.write_row(schema_, row.table, out_);
    }
  }

  Schema& schema_;
  std::string load_id_;
  RowSink& sink_;
  std::unordered_map<std::string, ResourceState, StringHash, std::equal_to<>> resources_;
  ResourceState* last_ = nullptr;
  StringMap names_;
  StringMap shortened_;
  // By table. Rows hold pointers to entries while nested rows add tables and
  // entries, so neither level may move them: owned deques.
  std::vector<std::unique_ptr<std::deque<ShapeEntry>>> shapes_;
  std::vector<std::array<std::size_t, kSystemColumns>> system_columns_;  // by table
  RootIdSource ids_;
  std::vector<std::unique_ptr<Scratch>> scratch_;
  std::string arena_;
  std::vector<StagedCell> cells_;
  std::vector<StagedRow> rows_;
  std::vector<Cell> out_;
  std::vector<std::vector<std::uint64_t>> stamps_;
  std::uint64_t row_stamp_ = 0;
  std::uint64_t records_ = 0;
};

Normalizer::Normalizer(Schema& schema, std::string load_id, RowSink& sink)
    : impl_(std::make_unique<Impl>(schema, std::move(load_id), sink)) {}
Normalizer::~Normalizer() = default;

void Normalizer::begin_resource(const Resource& resource) { impl_->begin_resource(resource); }
void Normalizer::add(const Resource& resource, const json::value& record) { impl_->add(resource, record); }
std::uint64_t Normalizer::records() const { return impl_->records(); }

std::string Normalizer::table_name(std::string_view resource_name) { return normalize_path(resource_name); }

}  // namespace mh::normalize
