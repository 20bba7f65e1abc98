// Streams a COPY text file into a table with COPY FROM STDIN, in large raw
// chunks: the rows are already escaped, so nothing is parsed or re-escaped.
#pragma once

#include <cstdint>
#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace mh::load {

// `qualified_table` is pasted verbatim (quote it); `columns` are quoted here.
// Returns the bytes sent. Throws std::runtime_error when the file cannot be
// read; pqxx errors as they come.
std::uint64_t copy_file(pqxx::transaction_base& tx, const std::string& qualified_table,
                        const std::vector<std::string>& columns, const std::string& path);

}  // namespace mh::load
