// Spills normalized rows into a load package's per-table COPY text files in
// bounded chunks, so memory stays flat however large the run, and seals the
// package (files, schema.json, manifest.json, each written atomically).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "load/package.hpp"
#include "normalize/normalizer.hpp"

namespace mh::load {

class PackageWriter : public normalize::RowSink {
 public:
  // `dir` must exist. A table's buffer is written out at `flush_bytes`, and
  // all buffers once together they hold 8 × `flush_bytes`.
  explicit PackageWriter(std::string dir, std::size_t flush_bytes = 1 << 20);
  ~PackageWriter() override;
  PackageWriter(const PackageWriter&) = delete;
  PackageWriter& operator=(const PackageWriter&) = delete;

  void write_row(const normalize::Schema& schema, std::size_t table, std::span<const normalize::Cell> cells) override;

  // Writes the remaining rows, fsyncs and renames every file into place, then
  // schema.json and, last, manifest.json (which fills in `manifest.tables`).
  void finish(const normalize::Schema& schema, Manifest& manifest);

  std::uint64_t rows() const { return rows_; }

 private:
  struct TableFile;
  TableFile& table_file(const normalize::Schema& schema, std::size_t table);
  void rotate(TableFile& tf, const normalize::Table& table);
  void flush(TableFile& tf);
  void seal(TableFile& tf);

  std::string dir_;
  std::size_t flush_bytes_;
  std::vector<std::unique_ptr<TableFile>> tables_;  // by schema table index
  std::vector<std::ptrdiff_t> slots_;
  std::size_t buffered_ = 0;
  std::uint64_t rows_ = 0;
};

}  // namespace mh::load
