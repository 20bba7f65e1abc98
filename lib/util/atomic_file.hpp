// Crash-safe file writes: a reader sees the old file or the complete new one,
// never a torn one, and a completed write survives a power cut.
#pragma once

#include <string>
#include <string_view>

namespace mh::util {

// Writes `content` to a temp file of its own beside `path` (`path.tmp.<pid>.<n>`), fsyncs it
// and renames it over `path`; concurrent writers of one path never clash.
// Throws std::runtime_error naming the path and the OS error.
void write_file_atomic(const std::string& path, std::string_view content);

// fsync of `path` (a file or a directory, e.g. after a rename into it).
void fsync_path(const std::string& path);

// Reads a whole file; throws std::runtime_error when it cannot.
std::string read_file(const std::string& path);

}  // namespace mh::util
