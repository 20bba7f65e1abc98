#include "normalize/reconcile.hpp"

#include <stdexcept>

#include "normalize/coerce.hpp"
#include "normalize/naming.hpp"

namespace mh::normalize {
namespace {

// Copies the package's table hints; says whether one changed.
bool take_table_hints(Table& into, const Table& from) {
  bool changed = false;
  if (from.is_root() && from.write_disposition && into.write_disposition != from.write_disposition) {
    into.write_disposition = from.write_disposition;
    changed = true;
  }
  if (!from.resource.empty() && into.resource != from.resource) {
    into.resource = from.resource;
    changed = true;
  }
  if (from.max_nesting && into.max_nesting != from.max_nesting) {
    into.max_nesting = from.max_nesting;
    changed = true;
  }
  return changed;
}

}  // namespace

const std::string& Reconciled::target(const std::string& table, const std::string& column) const {
  auto t = variants.find(table);
  if (t == variants.end()) return column;
  auto c = t->second.find(column);
  return c == t->second.end() ? column : c->second;
}

std::vector<std::string> Reconciled::target_columns(const std::string& table,
                                                    const std::vector<std::string>& columns) const {
  std::vector<std::string> out;
  out.reserve(columns.size());
  for (const auto& c : columns) out.push_back(target(table, c));
  return out;
}

Reconciled reconcile(const std::optional<Schema>& stored, const Schema& package) {
  Reconciled out{stored ? *stored : Schema(package.name()), !stored, {}};
  Schema& u = out.schema;
  const std::string before = u.content_hash();
  for (const Table& pt : package.tables()) {
    std::optional<std::size_t> ti = u.table_index(pt.name);
    if (!ti) ti = u.add_table(pt.name, pt.parent);
    take_table_hints(u.table(*ti), pt);
    for (const Column& pc : pt.columns()) {
      const Column* sc = u.table(*ti).find(pc.name);
      if (sc == nullptr) {
        u.add_column(*ti, pc);
        continue;
      }
      // The stored column takes the package's text as is (what a sequential run does too).
      if (canonical_text_fits(sc->type, pc.type)) continue;
      if (sc->primary_key || !sc->nullable || pc.primary_key || !pc.nullable) {
        // A variant would leave the key or NOT NULL column empty: COPY or the merge would fail later.
        throw std::runtime_error("table " + pt.name + ": column " + pc.name + " is stored as " +
                                 std::string(type_name(sc->type)) + " (primary key or NOT NULL) and this package's " +
                                 std::string(type_name(pc.type)) +
                                 " values cannot load into it; another writer inferred another type");
      }
      std::string vname = shorten_fragments({pc.name, std::string("v_").append(type_name(pc.type))});
      const Column* vc = u.table(*ti).find(vname);
      if (vc == nullptr) {
        u.add_column(*ti, Column{.name = vname, .type = pc.type, .variant = true});
      } else if (vc->type != pc.type) {
        throw std::runtime_error("table " + pt.name + ": variant column " + vname + " of column " + pc.name +
                                 " exists with type " + std::string(type_name(vc->type)) + ", not " +
                                 std::string(type_name(pc.type)));
      }
      out.variants[pt.name][pc.name] = std::move(vname);
    }
  }
  u.forget_journal();
  if (u.content_hash() != before) {
    out.changed = true;
    u.bump_version();
  }
  return out;
}

}  // namespace mh::normalize
