#include "load/package_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "load/copy_text.hpp"
#include "util/atomic_file.hpp"

namespace mh::load {
namespace {

[[noreturn]] void fail(const std::string& what, const std::string& path) {
  throw std::runtime_error(what + " " + path + ": " + std::strerror(errno));
}

void append_to_file(const std::string& path, const std::string& data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) fail("cannot open", path);
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int saved = errno;
      ::close(fd);
      errno = saved;
      fail("cannot write", path);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) fail("cannot close", path);
}

}  // namespace

struct PackageWriter::TableFile {
  std::string name;
  std::string parent;
  std::size_t next_file = 0;
  bool open = false;
  PackageFile current;
  std::string buffer;
  std::uint64_t rows = 0;
  std::vector<PackageFile> sealed;
};

PackageWriter::PackageWriter(std::string dir, std::size_t flush_bytes)
    : dir_(std::move(dir)), flush_bytes_(flush_bytes) {}

PackageWriter::~PackageWriter() = default;

PackageWriter::TableFile& PackageWriter::table_file(const normalize::Schema& schema, std::size_t table) {
  if (tables_.size() <= table) tables_.resize(table + 1);
  auto& tf = tables_[table];
  if (!tf) {
    tf = std::make_unique<TableFile>();
    tf->name = schema.table(table).name;
    tf->parent = schema.table(table).parent;
  }
  return *tf;
}

void PackageWriter::flush(TableFile& tf) {
  if (tf.buffer.empty()) return;
  append_to_file(dir_ + "/" + tf.current.name + ".tmp", tf.buffer);
  buffered_ -= tf.buffer.size();
  tf.buffer.clear();
  // Keep a reasonable buffer, but not the peak of a burst.
  if (tf.buffer.capacity() > 2 * flush_bytes_) tf.buffer.shrink_to_fit();
}

void PackageWriter::seal(TableFile& tf) {
  if (!tf.open) return;
  flush(tf);
  std::string final_path = dir_ + "/" + tf.current.name;
  std::string tmp = final_path + ".tmp";
  util::fsync_path(tmp);
  if (std::rename(tmp.c_str(), final_path.c_str()) != 0) fail("cannot rename to", final_path);
  tf.sealed.push_back(std::move(tf.current));
  tf.current = PackageFile{};
  tf.open = false;
}

// A file holds rows of one column list; a table that gained columns goes on
// in a new file, so every COPY names exactly the columns its rows have.
void PackageWriter::rotate(TableFile& tf, const normalize::Table& table) {
  seal(tf);
  tf.current.name = tf.name + "." + std::to_string(tf.next_file++) + ".copy";
  tf.current.columns.clear();
  for (const auto& c : table.columns()) tf.current.columns.push_back(c.name);
  tf.current.rows = 0;
  tf.open = true;
}

void PackageWriter::write_row(const normalize::Schema& schema, std::size_t table,
                              std::span<const normalize::Cell> cells) {
  TableFile& tf = table_file(schema, table);
  const normalize::Table& t = schema.table(table);
  if (!tf.open || tf.current.columns.size() != t.columns().size()) rotate(tf, t);
  std::size_t ncols = tf.current.columns.size();
  slots_.assign(ncols, -1);
  for (std::size_t i = 0; i < cells.size(); ++i) slots_[cells[i].column] = static_cast<std::ptrdiff_t>(i);
  std::size_t before = tf.buffer.size();
  for (std::size_t c = 0; c < ncols; ++c) {
    if (c != 0) tf.buffer += '\t';
    if (slots_[c] < 0) {
      tf.buffer += kCopyNull;
    } else {
      append_copy_field(tf.buffer, cells[static_cast<std::size_t>(slots_[c])].text);
    }
  }
  tf.buffer += '\n';
  buffered_ += tf.buffer.size() - before;
  ++tf.current.rows;
  ++tf.rows;
  ++rows_;
  if (tf.buffer.size() >= flush_bytes_) flush(tf);
  if (buffered_ >= 8 * flush_bytes_) {
    for (auto& other : tables_) {
      if (other) flush(*other);
    }
  }
}

void PackageWriter::finish(const normalize::Schema& schema, Manifest& manifest) {
  manifest.tables.clear();
  for (auto& tf : tables_) {
    if (!tf) continue;
    seal(*tf);
    manifest.tables.push_back(PackageTable{tf->name, tf->parent, tf->rows, tf->sealed});
  }
  util::write_file_atomic(dir_ + "/" + kSchemaFile, boost::json::serialize(schema.to_json()));
  util::write_file_atomic(dir_ + "/" + kManifestFile, boost::json::serialize(manifest.to_json()));
  util::fsync_path(dir_);
}

}  // namespace mh::load
