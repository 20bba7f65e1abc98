#include "load/pg_copy.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "load/postgres_sql.hpp"

// tablewriter is deprecated in 6.4, but it is the only public way to send
// raw COPY data (stream_to's write_raw_line is private). Its write_raw_line
// hands one string to PQputCopyData with a newline appended, and COPY data
// may be split anywhere, so a chunk of many lines goes out in one call.
#include <pqxx/internal/ignore-deprecated-post.hxx>
#include <pqxx/internal/ignore-deprecated-pre.hxx>
#include <pqxx/tablewriter>

namespace mh::load {
namespace {

constexpr std::size_t kChunk = 1 << 20;

class File {
 public:
  explicit File(const std::string& path) : path_(path), fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (fd_ < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  }
  ~File() { ::close(fd_); }
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  // Appends up to `n` bytes; returns how many (0 at the end).
  std::size_t read_into(std::string& out, std::size_t n) {
    std::size_t old = out.size();
    out.resize(old + n);
    for (;;) {
      ssize_t got = ::read(fd_, out.data() + old, n);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) throw std::runtime_error("cannot read " + path_ + ": " + std::strerror(errno));
      out.resize(old + static_cast<std::size_t>(got));
      return static_cast<std::size_t>(got);
    }
  }

 private:
  std::string path_;
  int fd_;
};

}  // namespace

std::uint64_t copy_file(pqxx::transaction_base& tx, const std::string& qualified_table,
                        const std::vector<std::string>& columns, const std::string& path) {
  File file(path);
  std::vector<std::string> quoted;
  quoted.reserve(columns.size());
  for (const auto& c : columns) quoted.push_back(quote_ident(c));
#include <pqxx/internal/ignore-deprecated-pre.hxx>
  pqxx::tablewriter writer{tx, qualified_table, quoted.begin(), quoted.end()};
#include <pqxx/internal/ignore-deprecated-post.hxx>
  std::uint64_t sent = 0;
  std::string pending;
  std::string chunk;
  for (;;) {
    std::size_t got = file.read_into(pending, kChunk);
    std::size_t last = pending.rfind('\n');
    if (got == 0) {
      if (!pending.empty()) writer.write_raw_line(pending);  // a last line without newline
      sent += pending.size();
      break;
    }
    if (last == std::string::npos) continue;
    chunk.assign(pending, 0, last);
    writer.write_raw_line(chunk);
    sent += last + 1;
    pending.erase(0, last + 1);
  }
  writer.complete();
  return sent;
}

}  // namespace mh::load
