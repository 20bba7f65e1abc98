#include "control/router.hpp"

#include <algorithm>

namespace mh::control {

namespace {

// "/a/b" → {a, b}; "/" → {""}; "/a/" → {a, ""}: empty segments count, so trailing and
// doubled slashes do not match a template. Not starting with '/': no segments at all.
std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path.front() != '/') return out;
  std::size_t i = 1;
  for (;;) {
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) {
      out.push_back(path.substr(i));
      return out;
    }
    out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
}

bool match_path(std::string_view templ, std::string_view path, PathParams& params) {
  auto t = segments(templ), p = segments(path);
  if (t.empty() || t.size() != p.size()) return false;
  PathParams found;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i].size() > 2 && t[i].front() == '{' && t[i].back() == '}') {
      if (p[i].empty()) return false;
      found[std::string(t[i].substr(1, t[i].size() - 2))] = net::url_decode(p[i], false);
    } else if (t[i] != p[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

}  // namespace

void Router::add(Route route) { routes_.push_back(std::move(route)); }

Match Router::match(const std::string& method, const std::string& path) const {
  Match m;
  const std::string& wanted = method == "HEAD" ? std::string("GET") : method;
  for (const auto& r : routes_) {
    PathParams params;
    if (!match_path(r.path, path, params)) continue;
    if (r.method == wanted) {
      m.route = &r;
      m.params = std::move(params);
      m.allowed.clear();
      return m;
    }
    if (std::find(m.allowed.begin(), m.allowed.end(), r.method) == m.allowed.end()) m.allowed.push_back(r.method);
  }
  if (std::find(m.allowed.begin(), m.allowed.end(), "GET") != m.allowed.end()) m.allowed.push_back("HEAD");
  return m;
}

}  // namespace mh::control
