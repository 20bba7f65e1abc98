// A temporary directory removed at scope exit, with helpers to write files.
#pragma once

#include <string>

namespace mh::test {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // Writes `content` to path()/name (creating folders) and returns the full path.
  std::string write(const std::string& name, const std::string& content, unsigned mode = 0644) const;

 private:
  std::string path_;
};

}  // namespace mh::test
