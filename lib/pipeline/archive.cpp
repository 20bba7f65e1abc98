#include "pipeline/archive.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "async/blocking.hpp"
#include "async/cancel.hpp"
#include "log/log.hpp"

namespace mh::pipeline {
namespace asio = boost::asio;
namespace json = boost::json;

std::string archive_extension(std::string_view url) {
  static constexpr std::array<std::string_view, 16> kAllowed{"png",  "jpg", "jpeg", "webp", "gif", "avif",
                                                             "heic", "tif", "tiff", "bmp",  "mp4", "webm",
                                                             "mov",  "mp3", "wav",  "m4a"};
  std::string_view path = url.substr(0, url.find_first_of("?#"));
  path = path.substr(path.find_last_of('/') == std::string_view::npos ? 0 : path.find_last_of('/') + 1);
  auto dot = path.find_last_of('.');
  if (dot == std::string_view::npos) return "bin";
  std::string ext(path.substr(dot + 1));
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return std::find(kAllowed.begin(), kAllowed.end(), ext) != kAllowed.end() ? ext : "bin";
}

namespace {

// The project's directory, opened once: archive.dir itself (created if missing) is trusted
// configuration; the project's directory under it is made with mkdirat and opened with
// O_NOFOLLOW, so a symlink planted in its place is refused.
struct ProjectDir {
  int fd = -1;
  ~ProjectDir() {
    if (fd >= 0) ::close(fd);
  }
  void open(const std::string& root_path, const std::string& id) {
    std::filesystem::create_directories(root_path);
    int root = ::open(root_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root < 0) throw std::runtime_error("cannot open archive.dir " + root_path + ": " + std::strerror(errno));
    const bool made = ::mkdirat(root, id.c_str(), 0750) == 0;
    if (made || errno == EEXIST) fd = ::openat(root, id.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    const std::string why = std::strerror(errno);
    if (fd >= 0 && made) ::fsync(root);  // the new directory survives a crash
    ::close(root);
    if (fd < 0) throw std::runtime_error("cannot open the archive directory of project " + id + ": " + why);
  }
};

}  // namespace

asio::awaitable<void> archive_downloads(Services& sv, const magichour::CallOptions& call,
                                        const magichour::Project& project, json::object& raw) {
  const auto& cfg = *sv.config;
  if (project.status != "complete" || !cfg.archive.dir || project.downloads.empty()) co_return;
  if (!magichour::valid_project_id(project.id)) {  // never a path: the client checks too, this is the last line
    log::warn("not archiving a project whose id is not a valid project id",
              {{"project", json::serialize(json::string(project.id.substr(0, 200)))}});
    co_return;
  }
  const std::string root = *cfg.archive.dir;
  auto dir = std::make_shared<ProjectDir>();
  std::optional<std::string> open_error;
  auto open_dir = [&] {
    try {
      dir->open(root, project.id);
    } catch (const std::exception& e) {
      open_error = e.what();
    }
  };
  co_await async::run_blocking(sv.blocking, open_dir);
  if (open_error) {
    log::warn("archiving a project's files failed", {{"project", project.id}, {"error", *open_error}});
    co_return;
  }
  log::info("archiving a project's files", {{"project", project.id}, {"files", project.downloads.size()}});
  json::array downloads;
  for (std::size_t i = 0; i < project.downloads.size(); ++i) {
    const auto& d = project.downloads[i];
    json::object entry{{"url", d.url}, {"expires_at", d.expires_at}};
    if (call.cancellation != nullptr && call.cancellation->requested()) {  // a cancelled run fetches no more
      downloads.push_back(std::move(entry));
      continue;
    }
    magichour::DownloadTarget target{dir->fd, std::to_string(i) + "." + archive_extension(d.url), cfg.archive.max_bytes,
                                     cfg.archive.download_timeout};
    try {
      auto file = co_await sv.client.download(d.url, target, call);
      entry["local_path"] = root + "/" + project.id + "/" + target.name;
      entry["bytes"] = static_cast<std::int64_t>(file.bytes);  // a bigint column, as after a trip through jsonb
      entry["sha256"] = file.sha256;
    } catch (const magichour::ApiError& e) {
      if (call.cancellation != nullptr && call.cancellation->requested()) {
        log::info("a download was stopped: the run is cancelled", {{"project", project.id}});
      } else {
        log::warn("archiving a download failed", {{"project", project.id}, {"error", e.what()}});
      }
    }
    downloads.push_back(std::move(entry));
  }
  auto close_dir = [&] { dir.reset(); };
  co_await async::run_blocking(sv.blocking, close_dir);
  raw["downloads"] = std::move(downloads);
}

}  // namespace mh::pipeline
