// Archiving a complete project's files under archive.dir/<project id>/ before their
// signed URLs expire: the id must be a valid project id, every file is created
// relative to the project directory's fd, and its extension comes from an allow-list.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <string>
#include <string_view>

#include "magichour/client.hpp"
#include "pipeline/run.hpp"

namespace mh::pipeline {

// The extension of a download URL's last path segment (lower case) when it is on the
// allow-list of image, video and audio types, else "bin".
std::string archive_extension(std::string_view url);

// With archive.dir, a complete project's downloads are saved as DIR/<id>/<n>.<ext>
// (at most archive.max_bytes each, within archive.download_timeout) and `raw.downloads`
// lists them with local_path, bytes and sha256. A failed download is logged and left out.
boost::asio::awaitable<void> archive_downloads(Services& sv, const magichour::CallOptions& call,
                                               const magichour::Project& project, boost::json::object& raw);

}  // namespace mh::pipeline
