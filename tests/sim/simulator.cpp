#include "simulator.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <charconv>
#include <cstdio>

#include "util/hash.hpp"
#include "util/time.hpp"

namespace mh::sim {
namespace json = boost::json;
using net::HttpRequest;
using net::HttpResponse;

namespace {

constexpr std::string_view kToolNames[] = {"ai-anime-generator",
                                           "ai-art-generator",
                                           "ai-background-generator",
                                           "ai-character-generator",
                                           "ai-face-generator",
                                           "ai-fashion-generator",
                                           "ai-icon-generator",
                                           "ai-illustration-generator",
                                           "ai-interior-design-generator",
                                           "ai-landscape-generator",
                                           "ai-logo-generator",
                                           "ai-manga-generator",
                                           "ai-outfit-generator",
                                           "ai-pattern-generator",
                                           "ai-photo-generator",
                                           "ai-sketch-generator",
                                           "ai-tattoo-generator",
                                           "album-cover-generator",
                                           "animated-characters-generator",
                                           "architecture-generator",
                                           "book-cover-generator",
                                           "comic-book-generator",
                                           "dark-fantasy-ai",
                                           "disney-ai-generator",
                                           "dnd-ai-art-generator",
                                           "emoji-generator",
                                           "fantasy-map-generator",
                                           "graffiti-generator",
                                           "movie-poster-generator",
                                           "optical-illusion-generator",
                                           "pokemon-generator",
                                           "south-park-character-generator",
                                           "superhero-generator",
                                           "thumbnail-maker",
                                           "general"};

constexpr std::string_view kSavedItemTypes[] = {"character", "reference", "voice", "moodboard", "brand_kit"};

// Upload extensions by asset type (docs/magic-hour-api.md §Uploads).
const std::map<std::string, std::vector<std::string>>& upload_extensions() {
  static const std::map<std::string, std::vector<std::string>> m{
      {"video", {"mp4", "m4v", "mov", "webm"}},
      {"audio", {"mp3", "wav", "aac", "flac", "webm", "weba", "m4a", "opus", "ogg", "oga", "aiff", "amr"}},
      {"image", {"png", "jpg", "jpeg", "jfif", "heic", "heif", "webp", "avif", "jp2", "tiff", "tif", "bmp"}},
  };
  return m;
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

template <class Range>
std::string join_views(const Range& r) {
  std::string out;
  for (const auto& s : r) out += (out.empty() ? "" : ", ") + std::string(s);
  return out;
}

HttpResponse message(int status, const std::string& text) {
  json::object o;
  o["message"] = text;
  return HttpResponse::json(status, json::serialize(o));
}

HttpResponse invalid(const std::string& text) { return message(400, "Invalid request: " + text); }

HttpResponse ok_json(const json::value& v) { return HttpResponse::json(200, json::serialize(v)); }

std::uint64_t splitmix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

// The request body as a JSON object, or the 400 the API gives.
std::optional<HttpResponse> parse_body(const HttpRequest& req, json::object& out) {
  if (req.body.empty()) return message(400, "Missing request body");
  boost::system::error_code ec;
  json::value v = json::parse(req.body, ec);
  if (ec) return message(400, "Invalid JSON in request body");
  if (!v.is_object()) return message(400, "Request body must be a JSON object");
  out = std::move(v.get_object());
  return std::nullopt;
}

const json::value* field(const json::object& o, std::string_view key) { return o.if_contains(key); }

// The optional `name` of a create; `name` keeps its default when absent.
std::optional<HttpResponse> read_name(const json::object& body, std::string& name) {
  const auto* n = field(body, "name");
  if (n == nullptr || n->is_null()) return std::nullopt;
  if (!n->is_string()) return invalid("name must be a string");
  name = std::string(n->get_string());
  return std::nullopt;
}

bool is_integer(const json::value& v) {
  if (v.is_int64() || v.is_uint64()) return true;
  return v.is_double() && v.get_double() == static_cast<double>(static_cast<std::int64_t>(v.get_double()));
}
std::int64_t as_integer(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) return static_cast<std::int64_t>(v.get_uint64());
  return static_cast<std::int64_t>(v.get_double());
}

// Optional string field in an enum; returns an error response if present and invalid.
template <class Range>
std::optional<HttpResponse> check_enum(const json::object& o, std::string_view key, const std::string& path,
                                       const Range& allowed, std::optional<std::string>& out) {
  const json::value* v = field(o, key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_string()) return invalid(path + " must be a string");
  std::string s(v->get_string());
  for (const auto& a : allowed) {
    if (s == a) {
      out = s;
      return std::nullopt;
    }
  }
  return invalid(path + " must be one of " + join_views(allowed));
}

std::string tier_upgrade_hint(magichour::Tier min) {
  std::string n(magichour::tier_name(min));
  n[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(n[0])));
  return "Upgrade to " + n + " or above.";
}

}  // namespace

std::string output_bytes(const std::string& project_id, int index) {
  // A PNG signature and a deterministic body: stable SHA-256 per (project, index).
  std::string out = "\x89PNG\r\n\x1a\n";
  std::uint64_t state = fnv1a(project_id) ^ static_cast<std::uint64_t>(index + 1);
  std::size_t size = 2048 + static_cast<std::size_t>(splitmix(state) % 4096);
  out.reserve(size);
  while (out.size() < size) {
    state = splitmix(state);
    for (int b = 0; b < 8 && out.size() < size; ++b) out += static_cast<char>((state >> (b * 8)) & 0xff);
  }
  return out;
}

Simulator::Simulator(SimOptions options)
    : options_(std::move(options)), faults_(options_.seed ^ 0xFA17), rng_(options_.seed), balance_(options_.credits) {}

std::string Simulator::route_of(const std::string& method, const std::string& path) {
  auto starts = [&](std::string_view p) { return path.size() > p.size() && path.compare(0, p.size(), p) == 0; };
  if (method == "POST" && path == "/v1/ai-image-generator") return "POST /v1/ai-image-generator";
  if (method == "POST" && path == "/v1/ai-image-upscaler") return "POST /v1/ai-image-upscaler";
  if ((method == "GET" || method == "DELETE") && starts("/v1/image-projects/") &&
      path.find('/', 19) == std::string::npos) {
    return method + " /v1/image-projects/{id}";
  }
  if (method == "POST" && path == "/v1/files/upload-urls") return "POST /v1/files/upload-urls";
  if (method == "PUT" && starts("/uploads/")) return "PUT /uploads/{path}";
  if (method == "GET" && starts("/outputs/")) return "GET /outputs/{id}/{file}";
  if (method == "POST" && path == "/v1/_test/saved-items/search") return "POST /v1/_test/saved-items/search";
  if (method == "GET" && starts("/v1/_test/saved-items/")) return "GET /v1/_test/saved-items/{kind}";
  if (method == "GET" && path == "/v1/_test/big-page") return "GET /v1/_test/big-page";
  if (method == "GET") {
    for (const char* p : {"/v1/account", "/v1/saved-items", "/v1/credits", "/v1/models", "/v1/status"}) {
      if (path == p) return "GET " + std::string(p);
    }
  }
  return "";
}

std::string Simulator::now_iso(std::chrono::milliseconds offset) const {
  return util::format_iso8601_ms(util::now_epoch_ms() + offset.count());
}

std::string Simulator::new_id() {
  static const char* alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string id = "c";
  std::uint64_t a = rng_() ^ static_cast<std::uint64_t>(++id_counter_);
  std::uint64_t b = rng_();
  for (int i = 0; i < 24; ++i) {
    std::uint64_t& src = i < 12 ? a : b;
    id += alphabet[src % 36];
    src /= 36;
  }
  return id;
}

std::string Simulator::new_token() {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(rng_()),
                static_cast<unsigned long long>(rng_()));
  return buf;
}

std::chrono::milliseconds Simulator::render_time_for(const std::string& endpoint) const {
  auto it = options_.render_time_for.find(endpoint);
  return it == options_.render_time_for.end() ? options_.render_time : it->second;
}

void Simulator::count(const std::string& route, int status) {
  auto& s = stats_[route.empty() ? "unknown" : route];
  ++s.requests;
  ++s.by_status[status];
}

std::string Simulator::status_of(const Project& p, Clock::time_point now) const {
  if (now < p.queued_until) return "queued";
  if (now < p.done_at) return "rendering";
  return p.will_fail ? "error" : "complete";
}

void Simulator::settle(Clock::time_point now) {
  // Credits come back the moment a project turns `error` (docs/magic-hour-api.md §Credits).
  std::erase_if(pending_errors_, [&](const std::string& id) {
    auto& p = projects_.at(id);
    if (now < p.done_at) return false;
    p.refunded = true;
    balance_ += p.credits;
    for (auto& e : ledger_) {
      if (e.project_id == id) e.refunded = p.credits;
    }
    return true;
  });
}

HttpResponse Simulator::handle(const HttpRequest& req) {
  settle(Clock::now());
  if (req.path.rfind("/_sim/", 0) == 0) return admin(req);

  std::string route = route_of(req.method, req.path);
  // Rules name a method and a path template: "GET" + "/v1/image-projects/{id}".
  FaultDecision fault = faults_.decide(req.method, route.empty() ? req.path : route.substr(route.find(' ') + 1));
  HttpResponse res;
  if (fault.rule && fault.rule->kind == FaultKind::status) {
    res = message(fault.rule->status, std::string(net::reason_phrase(fault.rule->status)));
    if (fault.rule->retry_after) res.set_header("Retry-After", *fault.rule->retry_after);
  } else if (fault.rule && fault.rule->kind == FaultKind::reset) {
    res.action = net::ResponseAction::reset;
  } else {
    std::size_t ledger_before = ledger_.size();
    res = dispatch(req, route);
    if (fault.rule && fault.rule->kind == FaultKind::drop_after) {
      res.action = net::ResponseAction::reset;
      for (std::size_t i = ledger_before; i < ledger_.size(); ++i) ledger_[i].dropped = true;
    } else if (fault.rule && fault.rule->kind == FaultKind::truncate) {
      res.action = net::ResponseAction::truncate;
      res.truncate_at = res.body.size() / 2;
    } else if (fault.rule && fault.rule->kind == FaultKind::bad_json) {
      // Half the real body, then gateway junk: well-formed HTTP, invalid JSON.
      res.body = res.body.substr(0, res.body.size() / 2) + "<html>upstream error</html>";
    }
  }
  res.delay += fault.latency;
  count(route, res.action == net::ResponseAction::reset ? 0 : res.status);
  return res;
}

HttpResponse Simulator::dispatch(const HttpRequest& req, const std::string& route) {
  if (route.empty()) return message(404, "Not Found");
  // Signed URLs: no Authorization header, the token in the query string.
  if (route == "PUT /uploads/{path}") return put_upload(req);
  if (route == "GET /outputs/{id}/{file}") return get_output(req);

  auto auth = req.header("Authorization");
  bool authorized = false;
  if (auth && auth->size() > 7 && net::iequals(auth->substr(0, 7), "Bearer ")) {
    std::string key = auth->substr(7);
    while (!key.empty() && key.front() == ' ') key.erase(0, 1);
    authorized = options_.api_keys.count(key) > 0;
    ++keys_seen_[key];
  }
  if (!authorized) return message(401, "Unauthorized");

  if (route == "POST /v1/ai-image-generator") return create_image(req);
  if (route == "POST /v1/ai-image-upscaler") return create_upscale(req);
  if (route == "GET /v1/image-projects/{id}") return get_project(req.path.substr(19));
  if (route == "DELETE /v1/image-projects/{id}") return delete_project(req.path.substr(19));
  if (route == "POST /v1/files/upload-urls") return upload_urls(req);
  if (route == "GET /v1/account") return account();
  if (route == "GET /v1/saved-items") return saved_items(req);
  if (route == "GET /v1/_test/saved-items/{kind}") return test_listing(req);
  if (route == "GET /v1/_test/big-page" && options_.big_page_bytes > 0) return big_page();
  if (route == "POST /v1/_test/saved-items/search") return test_search(req);
  if (!options_.legacy_endpoints) return message(404, "Not Found");  // like the real API
  if (route == "GET /v1/credits") {
    json::object o;
    o["credits"] = balance_;
    o["tier"] = std::string(magichour::tier_name(options_.tier));
    return ok_json(o);
  }
  if (route == "GET /v1/models") return models();
  if (route == "GET /v1/status") {
    json::object o;
    o["status"] = "operational";
    o["time"] = now_iso();
    o["version"] = "magichour-sim";
    return ok_json(o);
  }
  return message(404, "Not Found");
}

HttpResponse Simulator::create_image(const HttpRequest& req) {
  json::object body;
  if (auto err = parse_body(req, body)) return *err;
  std::string name = "Ai Image - " + now_iso();
  if (auto err = read_name(body, name)) return *err;
  const json::value* count_v = field(body, "image_count");
  if (count_v == nullptr || count_v->is_null()) return invalid("image_count is required");
  if (!is_integer(*count_v) || as_integer(*count_v) < 1 || as_integer(*count_v) > 16) {
    return invalid("image_count must be an integer between 1 and 16");
  }
  int image_count = static_cast<int>(as_integer(*count_v));

  std::vector<std::string_view> model_names;
  for (const auto& m : magichour::image_models()) model_names.push_back(m.id);
  model_names.push_back("seedream");
  std::optional<std::string> model, aspect, resolution, orientation;
  if (auto e = check_enum(body, "model", "model", model_names, model)) return *e;
  if (auto e = check_enum(body, "aspect_ratio", "aspect_ratio", magichour::kAspectRatios, aspect)) return *e;
  if (auto e = check_enum(body, "resolution", "resolution", magichour::kResolutions, resolution)) return *e;
  static const std::string_view kOrientations[] = {"landscape", "portrait", "square"};
  if (auto e = check_enum(body, "orientation", "orientation", kOrientations, orientation)) return *e;

  const json::value* style_v = field(body, "style");
  if (style_v == nullptr || style_v->is_null()) return invalid("style is required");
  if (!style_v->is_object()) return invalid("style must be an object");
  const auto& style = style_v->get_object();
  const json::value* prompt = field(style, "prompt");
  if (prompt == nullptr || prompt->is_null()) return invalid("style.prompt is required");
  if (!prompt->is_string() || prompt->get_string().empty()) return invalid("style.prompt must be a non-empty string");
  std::optional<std::string> tool, quality;
  if (auto e = check_enum(style, "tool", "style.tool", kToolNames, tool)) return *e;
  static const std::string_view kQuality[] = {"standard", "pro"};
  if (auto e = check_enum(style, "quality_mode", "style.quality_mode", kQuality, quality)) return *e;

  // Deprecated quality_mode picks a model only when none is given.
  if (!model && quality) model = *quality == "pro" ? "seedream-v4" : "z-image-turbo";
  const magichour::ImageModel* m = magichour::find_image_model(model.value_or("default"));
  if (options_.tier < m->min_tier) {
    return message(
        403, "Your plan does not include the model '" + std::string(m->id) + "'. " + tier_upgrade_hint(m->min_tier));
  }
  std::string res = resolution.value_or("auto");
  if (res != "auto") {
    if (std::find(m->resolutions.begin(), m->resolutions.end(), res) == m->resolutions.end()) {
      return message(422, "Unable to create image: resolution '" + res + "' is not available for model '" +
                              std::string(m->id) + "' (available: " + join_views(m->resolutions) + ")");
    }
    if (options_.tier == magichour::Tier::free && (res == "2k" || res == "4k")) {
      return message(403, "Your plan does not include resolution '" + res + "'. Upgrade to Creator or above.");
    }
  }
  if (std::find(m->image_counts.begin(), m->image_counts.end(), image_count) == m->image_counts.end()) {
    std::vector<std::string> counts;
    for (int c : m->image_counts) counts.push_back(std::to_string(c));
    return message(
        422, "Unable to create image: model '" + std::string(m->id) + "' supports image_count " + join(counts, ", "));
  }
  // Billed at the resolution it renders: `auto` is the plan's (docs/magic-hour-api.md §Image generator).
  std::string_view billed = res == "auto" ? magichour::auto_resolution(*m, options_.tier) : std::string_view(res);
  return finish_create(req, "ai-image-generator", magichour::image_credits(*m, billed, image_count), image_count, name);
}

HttpResponse Simulator::create_upscale(const HttpRequest& req) {
  json::object body;
  if (auto err = parse_body(req, body)) return *err;
  std::string name = "Image Upscaler - " + now_iso();
  if (auto err = read_name(body, name)) return *err;
  const json::value* scale = field(body, "scale_factor");
  if (scale == nullptr || scale->is_null()) return invalid("scale_factor is required");
  if (!scale->is_number()) return invalid("scale_factor must be a number");
  double factor = scale->to_number<double>();
  if (factor != 2.0 && factor != 4.0) return invalid("scale_factor must be either 2 or 4");

  std::optional<std::string> mode, enhancement;
  if (const auto* style_v = field(body, "style"); style_v && !style_v->is_null()) {
    if (!style_v->is_object()) return invalid("style must be an object");
    const auto& style = style_v->get_object();
    if (auto e = check_enum(style, "mode", "style.mode", magichour::kUpscaleModes, mode)) return *e;
    static const std::string_view kEnhancements[] = {"Resemblance", "Balanced", "Creative"};
    if (auto e = check_enum(style, "enhancement", "style.enhancement", kEnhancements, enhancement)) return *e;
    if (const auto* p = field(style, "prompt"); p && !p->is_null() && !p->is_string()) {
      return invalid("style.prompt must be a string");
    }
  }
  const json::value* assets_v = field(body, "assets");
  if (assets_v == nullptr || assets_v->is_null()) return invalid("assets is required");
  if (!assets_v->is_object()) return invalid("assets must be an object");
  const json::value* path_v = field(assets_v->get_object(), "image_file_path");
  if (path_v == nullptr || path_v->is_null()) return invalid("assets.image_file_path is required");
  if (!path_v->is_string() || path_v->get_string().empty()) {
    return invalid("assets.image_file_path must be a non-empty string");
  }
  std::string path(path_v->get_string());
  if (path.rfind("api-assets/", 0) == 0) {
    auto it = uploads_.find(path);
    if (it == uploads_.end() || !it->second.bytes) {
      return message(422, "Unable to create image: the file '" + path + "' has not been uploaded");
    }
  } else if (path.rfind("http://", 0) == 0 || path.rfind("https://", 0) == 0) {
    std::string file = path.substr(0, path.find('?'));
    std::string ext = file.substr(file.find_last_of('.') + 1);
    const auto& images = upload_extensions().at("image");
    if (file.find_last_of('.') == std::string::npos || std::find(images.begin(), images.end(), ext) == images.end()) {
      return message(422, "Unable to create image: the image URL must end with an image file extension");
    }
  } else {
    return message(422, "Unable to create image: assets.image_file_path must be a URL or an api-assets/ file path");
  }
  int f = static_cast<int>(factor);
  if (f == 4 && options_.tier == magichour::Tier::free) {
    return message(403, "4x upscale is only available on Creator, Pro, or Business tier.");
  }
  std::string_view resolved =
      magichour::resolve_upscale_mode(mode ? std::optional<std::string_view>(*mode) : std::nullopt,
                                      enhancement ? std::optional<std::string_view>(*enhancement) : std::nullopt);
  std::int64_t cost = magichour::upscale_credits(resolved, f).value_or(0);
  return finish_create(req, "ai-image-upscaler", cost, 1, name);
}

HttpResponse Simulator::finish_create(const HttpRequest& req, const std::string& endpoint, std::int64_t cost,
                                      int image_count, std::string name) {
  if (balance_ < cost) return message(402, "Payment required");
  balance_ -= cost;
  auto now = Clock::now();
  auto render = render_time_for(endpoint);
  Project p;
  p.id = options_.project_id.value_or(new_id());
  p.endpoint = endpoint;
  p.type = endpoint == "ai-image-generator" ? "AI_IMAGE" : "IMAGE_UPSCALER";
  p.name = std::move(name);
  p.image_count = image_count;
  p.created_at = now_iso();
  p.created = now;
  p.queued_until = now + std::min<std::chrono::milliseconds>(render / 5, std::chrono::milliseconds(1000));
  p.done_at = now + render;
  p.will_fail = std::uniform_real_distribution<double>(0.0, 1.0)(rng_) < options_.error_rate;
  p.credits = cost;
  p.token = new_token();
  if (p.will_fail) pending_errors_.push_back(p.id);
  ledger_.push_back({p.id, endpoint, util::sha256_hex(req.body), cost, 0, p.created_at, false});
  json::object o;
  o["id"] = p.id;
  o["credits_charged"] = cost;
  o["frame_cost"] = cost;  // deprecated, still required by the official SDKs
  projects_.emplace(p.id, std::move(p));
  return ok_json(o);
}

HttpResponse Simulator::get_project(const std::string& id) {
  auto it = projects_.find(id);
  if (it == projects_.end()) return message(404, "Not Found");
  const Project& p = it->second;
  std::string status = status_of(p, Clock::now());
  json::object o;
  o["id"] = p.id;
  o["name"] = p.name;
  o["status"] = status;
  o["image_count"] = p.image_count;
  o["type"] = p.type;
  o["created_at"] = p.created_at;
  o["enabled"] = p.enabled;
  std::int64_t charged = p.refunded ? 0 : p.credits;  // "updated to include the refund"
  o["credits_charged"] = charged;
  o["total_frame_cost"] = charged;  // deprecated, still required by the official SDKs
  json::array downloads;
  if (status == "complete" && p.enabled) {
    std::string expires = now_iso(std::chrono::hours(24));  // fresh URLs on every GET
    for (int i = 0; i < p.image_count; ++i) {
      json::object d;
      d["url"] = options_.public_url + "/outputs/" + p.id + "/" + std::to_string(i) + ".png?auth-token=" + p.token;
      d["expires_at"] = expires;
      downloads.push_back(std::move(d));
    }
  }
  o["downloads"] = std::move(downloads);
  if (status == "error") {
    json::object e;
    e["message"] = "An error occurred while generating the image. Credits have been refunded.";
    e["code"] = "unknown_error";
    o["error"] = std::move(e);
  } else {
    o["error"] = nullptr;
  }
  return ok_json(o);
}

HttpResponse Simulator::delete_project(const std::string& id) {
  auto it = projects_.find(id);
  if (it == projects_.end() || !it->second.enabled) return message(404, "Not Found");
  it->second.enabled = false;
  return HttpResponse::empty(204);
}

HttpResponse Simulator::upload_urls(const HttpRequest& req) {
  json::object body;
  if (auto err = parse_body(req, body)) return *err;
  const json::value* items_v = field(body, "items");
  if (items_v == nullptr || items_v->is_null()) return invalid("items is required");
  if (!items_v->is_array() || items_v->get_array().empty()) return invalid("items must be a non-empty array");
  json::array out;
  std::string dir = "api-assets/" + new_id();
  std::size_t n = 0;
  std::vector<std::pair<std::string, Upload>> created;
  for (const auto& item : items_v->get_array()) {
    std::string path = "items[" + std::to_string(n) + "]";
    if (!item.is_object()) return invalid(path + " must be an object");
    const auto& o = item.get_object();
    const json::value* type = field(o, "type");
    const json::value* ext = field(o, "extension");
    if (type == nullptr || !type->is_string()) return invalid(path + ".type is required");
    if (ext == nullptr || !ext->is_string()) return invalid(path + ".extension is required");
    std::string t(type->get_string());
    std::string e(ext->get_string());
    auto allowed = upload_extensions().find(t);
    if (allowed == upload_extensions().end()) return invalid(path + ".type must be one of video, audio, image");
    if (std::find(allowed->second.begin(), allowed->second.end(), e) == allowed->second.end()) {
      return message(422, "'" + e + "' is an invalid " + t + " extension. Possible extensions are '" +
                              join(allowed->second, ", ") + "'");
    }
    std::string file_path = dir + "/" + std::to_string(n) + "." + e;
    Upload u{new_token(), t, std::nullopt};
    json::object r;
    r["upload_url"] = options_.public_url + "/uploads/" + file_path + "?auth-value=" + u.token;
    r["expires_at"] = now_iso(std::chrono::hours(1));
    r["file_path"] = file_path;
    out.push_back(std::move(r));
    created.emplace_back(file_path, std::move(u));
    ++n;
  }
  for (auto& [path, u] : created) uploads_.emplace(path, std::move(u));
  json::object res;
  res["items"] = std::move(out);
  return ok_json(res);
}

HttpResponse Simulator::put_upload(const HttpRequest& req) {
  std::string file_path = net::url_decode(req.path.substr(9), false);
  auto it = uploads_.find(file_path);
  if (it == uploads_.end()) return message(404, "Not Found");
  if (req.query_param("auth-value") != it->second.token) return message(403, "Forbidden");
  it->second.bytes = req.body;
  return HttpResponse::empty(200);
}

HttpResponse Simulator::get_output(const HttpRequest& req) {
  // /outputs/<id>/<n>.png
  std::string rest = req.path.substr(9);
  std::size_t slash = rest.find('/');
  if (slash == std::string::npos) return message(404, "Not Found");
  std::string id = rest.substr(0, slash);
  std::string file = rest.substr(slash + 1);
  auto it = projects_.find(id);
  if (it == projects_.end() || !it->second.enabled || status_of(it->second, Clock::now()) != "complete") {
    return message(404, "Not Found");
  }
  if (req.query_param("auth-token") != it->second.token) return message(403, "Forbidden");
  int index = -1;
  auto [p, ec] = std::from_chars(file.data(), file.data() + file.size(), index);
  if (ec != std::errc() || std::string_view(p) != ".png" || index < 0 || index >= it->second.image_count) {
    return message(404, "Not Found");
  }
  std::string bytes = output_bytes(id, index);
  if (options_.output_bytes) bytes.resize(*options_.output_bytes, 'x');
  auto res = HttpResponse::text(200, std::move(bytes), "image/png");
  res.delay = options_.output_stall;
  return res;
}

HttpResponse Simulator::big_page() const {
  // "[0,0,…,0]", padded with spaces to exactly big_page_bytes: the most values per byte.
  const std::size_t n = std::max<std::size_t>(options_.big_page_bytes, 3);
  std::string body;
  body.reserve(n);
  body += "[0";
  while (body.size() + 3 <= n) body += ",0";
  body.append(n - 1 - body.size(), ' ');
  body += ']';
  return HttpResponse::json(200, std::move(body));
}

HttpResponse Simulator::account() {
  json::object o;
  o["credits"] = balance_;
  o["email"] = "sim@example.com";
  o["id"] = "sim-account";
  if (options_.tier == magichour::Tier::free) {
    o["subscription"] = nullptr;
  } else {
    static const std::map<magichour::Tier, std::pair<const char*, std::int64_t>> plans{
        {magichour::Tier::creator, {"Creator", 1500}},
        {magichour::Tier::pro, {"Pro", 4900}},
        {magichour::Tier::business, {"Business", 24900}}};
    const auto& [plan, cents] = plans.at(options_.tier);
    json::object s;
    s["billing_interval"] = "month";
    s["cancel_at_period_end"] = false;
    s["current_period_end"] = now_iso(std::chrono::hours(24 * 30));
    s["discount"] = nullptr;
    s["name"] = plan;
    json::object price;
    price["amount"] = cents;
    price["currency"] = "usd";
    s["price"] = std::move(price);
    s["status"] = "active";
    o["subscription"] = std::move(s);
  }
  o["tier"] = std::string(magichour::tier_name(options_.tier));
  return ok_json(o);
}

HttpResponse Simulator::saved_items(const HttpRequest& req) {
  std::int64_t limit = 20;
  if (auto l = req.query_param("limit")) {
    auto [p, ec] = std::from_chars(l->data(), l->data() + l->size(), limit);
    if (ec != std::errc() || p != l->data() + l->size() || limit < 1 || limit > 100) {
      return invalid("limit must be an integer between 1 and 100");
    }
  }
  // Items of one type are every 5th item, so a filter is arithmetic, not a scan.
  std::int64_t type_index = -1;
  if (auto t = req.query_param("type")) {
    for (std::size_t i = 0; i < std::size(kSavedItemTypes); ++i) {
      if (*t == kSavedItemTypes[i]) type_index = static_cast<std::int64_t>(i);
    }
    if (type_index < 0) return invalid("type must be one of character, reference, voice, moodboard, brand_kit");
  }
  const std::int64_t n = options_.saved_items;
  const std::int64_t total = type_index < 0 ? n : (n > type_index ? (n - type_index + 4) / 5 : 0);
  const std::uint64_t mask = splitmix(options_.seed) & 0xffffffffull;
  std::int64_t offset = 0;
  if (auto c = req.query_param("cursor"); c && !c->empty()) {
    std::uint64_t v = 0;
    bool ok = c->rfind("cur_", 0) == 0;
    if (ok) {
      auto [p, ec] = std::from_chars(c->data() + 4, c->data() + c->size(), v, 16);
      ok = ec == std::errc() && p == c->data() + c->size();
    }
    offset = static_cast<std::int64_t>(v ^ mask);
    if (!ok || offset <= 0 || offset >= total) return message(400, "Invalid cursor");
  }
  std::string body = "{\"items\":[";
  std::int64_t end = std::min(total, offset + limit);
  for (std::int64_t k = offset; k < end; ++k) {
    // Newest first: position k is the (total-1-k)-th item of the (filtered) sequence.
    std::int64_t seq = total - 1 - k;
    std::int64_t i = type_index < 0 ? seq : type_index + 5 * seq;
    if (k != offset) body += ',';
    append_saved_item(body, i);
  }
  body += "],\"next_cursor\":";
  if (end < total) {
    char cur[32];
    std::snprintf(cur, sizeof cur, "\"cur_%llx\"",
                  static_cast<unsigned long long>(static_cast<std::uint64_t>(end) ^ mask));
    body += cur;
  } else {
    body += "null";
  }
  body += "}";
  return HttpResponse::json(200, std::move(body));
}

void Simulator::append_saved_item(std::string& body, std::int64_t i) const {
  char buf[1024];
  std::uint64_t h = splitmix(options_.seed * 1000003ull + static_cast<std::uint64_t>(i));
  const std::int64_t created_ms = 1767225600000LL + i * 37'000;  // 2026-01-01T00:00:00Z + 37 s per item
  std::string created = util::format_iso8601_ms(created_ms);
  std::string updated = util::format_iso8601_ms(created_ms + static_cast<std::int64_t>(h % 10) * 60'000);
  const char* type = kSavedItemTypes[i % 5].data();
  int len = std::snprintf(
      buf, sizeof buf,
      "%s{\"id\":\"si_%08llx%06lld\",\"type\":\"%s\",\"name\":\"Saved %s %lld\",\"description\":\"Simulated "
      "saved item number %lld\",\"created_at\":\"%s\",\"updated_at\":\"%s\",\"favorite\":%s,\"usage_count\":%llu,"
      "\"score\":%.3f,\"asset\":{\"file_path\":\"api-assets/saved/si_%06lld.png\",\"width\":%llu,\"height\":%llu,"
      "\"mime_type\":\"image/png\"},\"tags\":[\"tag-%llu\",\"tag-%llu\"],\"owner_id\":\"sim-account\"}",
      "", static_cast<unsigned long long>(h & 0xffffffffull), static_cast<long long>(i), type, type,
      static_cast<long long>(i), static_cast<long long>(i), created.c_str(), updated.c_str(),
      (h >> 33) & 1 ? "true" : "false", static_cast<unsigned long long>((h >> 8) % 500),
      static_cast<double>((h >> 16) % 1000) / 1000.0, static_cast<long long>(i),
      static_cast<unsigned long long>(512 + ((h >> 24) % 4) * 256),
      static_cast<unsigned long long>(512 + ((h >> 28) % 4) * 256), static_cast<unsigned long long>((h >> 40) % 16),
      static_cast<unsigned long long>(16 + (h >> 44) % 16));
  body.append(buf, static_cast<std::size_t>(std::min<int>(len, static_cast<int>(sizeof buf) - 1)));
}

// Test-only listings over the same saved items, one per dlt paginator the real
// API does not use (it pages by cursor only). Oldest first; not part of the real API.
HttpResponse Simulator::test_listing(const HttpRequest& req) {
  const std::string kind = req.path.substr(std::string("/v1/_test/saved-items/").size());
  const std::int64_t n = options_.saved_items;
  auto param = [&](const char* name, std::int64_t fallback) {
    auto v = req.query_param(name);
    std::int64_t x = fallback;
    if (v) std::from_chars(v->data(), v->data() + v->size(), x);
    return x;
  };
  auto items = [&](std::int64_t from, std::int64_t to) {
    std::string out = "[";
    for (std::int64_t i = from; i < std::min(to, n); ++i) {
      if (i != from) out += ',';
      append_saved_item(out, i);
    }
    return out + "]";
  };
  if (kind == "offset") {  // offset paginator: {"items", "total"}
    std::int64_t offset = param("offset", 0), limit = param("limit", 10);
    return HttpResponse::json(200,
                              "{\"items\":" + items(offset, offset + limit) + ",\"total\":" + std::to_string(n) + "}");
  }
  if (kind == "pages") {  // page_number paginator, 1-based: {"data", "total_pages"}
    std::int64_t page = param("page", 1), per = param("per_page", 10);
    std::int64_t pages = (n + per - 1) / per;
    return HttpResponse::json(
        200, "{\"data\":" + items((page - 1) * per, page * per) + ",\"total_pages\":" + std::to_string(pages) + "}");
  }
  if (kind == "links" || kind == "header-links") {  // json_link / header_link: 10 per page
    std::int64_t after = param("after", 0);
    std::string next = after + 10 < n ? "/v1/_test/saved-items/" + kind + "?after=" + std::to_string(after + 10) : "";
    if (kind == "links") {
      return HttpResponse::json(200, "{\"results\":" + items(after, after + 10) + ",\"next\":" +
                                         (next.empty() ? std::string("null") : "\"" + next + "\"") + "}");
    }
    auto res = HttpResponse::json(200, items(after, after + 10));
    if (!next.empty()) res.set_header("Link", "<" + options_.public_url + next + ">; rel=\"next\"");
    return res;
  }
  // Hostile paginators. `cursor-loop`, `links-loop` and `header-links-loop` serve pages at
  // 0, 10, 20 and then point back to 10 (an earlier page, not the last one); `endless` hands
  // out a fresh cursor forever, one item a page.
  if (kind == "cursor-loop" || kind == "links-loop" || kind == "header-links-loop") {
    const bool cursor = kind == "cursor-loop";
    std::int64_t at = param(cursor ? "cursor" : "after", 0);
    const std::string to = std::to_string(at >= 20 ? 10 : at + 10);
    const std::string next = "/v1/_test/saved-items/" + kind + "?after=" + to;
    if (cursor) return HttpResponse::json(200, "{\"items\":" + items(at, at + 10) + ",\"next_cursor\":\"" + to + "\"}");
    if (kind == "links-loop") {
      return HttpResponse::json(200, "{\"results\":" + items(at, at + 10) + ",\"next\":\"" + next + "\"}");
    }
    auto res = HttpResponse::json(200, items(at, at + 10));
    res.set_header("Link", "<" + options_.public_url + next + ">; rel=\"next\"");
    return res;
  }
  if (kind == "endless") {
    std::int64_t at = param("cursor", 0);
    return HttpResponse::json(
        200, "{\"items\":" + items(at % n, at % n + 1) + ",\"next_cursor\":\"" + std::to_string(at + 1) + "\"}");
  }
  if (kind == "typed-int" || kind == "typed-text") {  // one field, `size`, as an integer or as text
    const bool text = kind == "typed-text";
    std::string out = "{\"items\":[";
    for (std::int64_t i = 0; i < 5; ++i) {
      if (i != 0) out += ',';
      std::string size = text ? "\"size-" + std::to_string(i) + "\"" : std::to_string(i);
      out += "{\"id\":\"" + kind + "-" + std::to_string(i) + "\",\"size\":" + size + "}";
    }
    return HttpResponse::json(200, out + "]}");
  }
  if (kind == "since") {  // incremental: items created at or after `since`, oldest first
    auto since = req.query_param("since").value_or("");
    std::string out = "{\"items\":[";
    bool first = true;
    for (std::int64_t i = 0; i < n; ++i) {
      std::string created = util::format_iso8601_ms(1767225600000LL + i * 37'000);
      if (created < since) continue;
      if (!first) out += ',';
      first = false;
      append_saved_item(out, i);
    }
    return HttpResponse::json(200, out + "]}");
  }
  return message(404, "Not Found");
}

// A test-only listing by POST (dlt resources with `method: POST` and `json:`): the JSON
// body filters, the query string pages. Not part of the real API.
HttpResponse Simulator::test_search(const HttpRequest& req) {
  std::optional<std::string> type;
  if (!req.body.empty()) {
    json::object body;
    if (auto err = parse_body(req, body)) return *err;
    if (const json::value* f = field(body, "filter"); f && !f->is_null()) {
      if (!f->is_object()) return invalid("filter must be an object");
      if (const json::value* t = field(f->get_object(), "type"); t && !t->is_null()) {
        if (!t->is_string()) return invalid("filter.type must be a string");
        type = std::string(t->get_string());
      }
    }
  }
  std::vector<std::int64_t> matching;
  for (std::int64_t i = 0; i < options_.saved_items; ++i) {
    if (!type || kSavedItemTypes[i % 5] == *type) matching.push_back(i);
  }
  const auto total = static_cast<std::int64_t>(matching.size());
  // One listing for three paginators: `offset`, `cursor` (the next page's offset, as
  // text) or 1-based `page`, each with `limit`.
  std::int64_t offset = 0, limit = 10, page = 0;
  for (const char* name : {"offset", "cursor", "page", "limit"}) {
    auto v = req.query_param(name);
    if (!v) continue;
    std::string_view n(name);
    std::int64_t& target = n == "limit" ? limit : (n == "page" ? page : offset);
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), target);
    if (ec != std::errc() || p != v->data() + v->size() || target < 0) {
      return invalid(std::string(name) + " must be a number");
    }
  }
  if (limit < 1) return invalid("limit must be at least 1");
  if (page > 0) offset = (page - 1) * limit;
  std::string out = "{\"items\":[";
  const std::int64_t end = std::min(total, offset + limit);
  for (std::int64_t k = offset; k < end; ++k) {
    if (k != offset) out += ',';
    append_saved_item(out, matching[static_cast<std::size_t>(k)]);
  }
  out += "],\"total\":" + std::to_string(total) + ",\"pages\":" + std::to_string((total + limit - 1) / limit) +
         ",\"next_cursor\":";
  out += end < total ? "\"" + std::to_string(end) + "\"" : std::string("null");
  // A hostile next link for json_link, echoed from the query (`next=`).
  if (auto link = req.query_param("next")) out += ",\"next\":" + json::serialize(json::string(*link));
  return HttpResponse::json(200, out + "}");
}

HttpResponse Simulator::models() {
  json::array data;
  for (const auto& m : magichour::image_models()) {
    json::object o;
    o["id"] = m.id;
    o["name"] = m.display_name;
    o["type"] = "image";
    o["endpoint"] = "ai-image-generator";
    o["credits_per_image"] = m.credits_per_image;
    json::array res;
    for (auto r : m.resolutions) res.push_back(json::string(r));
    o["resolutions"] = std::move(res);
    json::array counts;
    for (int c : m.image_counts) counts.push_back(c);
    o["image_counts"] = std::move(counts);
    o["min_tier"] = magichour::tier_name(m.min_tier);
    data.push_back(std::move(o));
  }
  json::object out;
  out["data"] = std::move(data);
  return ok_json(out);
}

json::object Simulator::state_json() const {
  json::object o;
  o["credits"] = balance_;
  o["tier"] = magichour::tier_name(options_.tier);
  o["legacy_endpoints"] = options_.legacy_endpoints;
  o["render_time_ms"] = options_.render_time.count();
  o["error_rate"] = options_.error_rate;
  o["saved_items"] = options_.saved_items;
  o["projects"] = projects_.size();
  o["public_url"] = options_.public_url;
  return o;
}

HttpResponse Simulator::admin(const HttpRequest& req) {
  const std::string& path = req.path;
  if (path == "/_sim/faults") {
    if (req.method == "GET") {
      json::array a;
      for (const auto& r : faults_.rules()) a.push_back(r.to_json());
      json::object o;
      o["faults"] = std::move(a);
      o["fired"] = faults_.fired_total();
      return ok_json(o);
    }
    if (req.method == "DELETE") {
      faults_.clear();
      return HttpResponse::empty(204);
    }
    if (req.method == "PUT" || req.method == "POST") {
      boost::system::error_code ec;
      json::value v = json::parse(req.body, ec);
      if (ec) return message(400, "Invalid JSON in request body");
      const json::value* list = v.is_object() ? v.get_object().if_contains("faults") : nullptr;
      std::vector<FaultRule> rules;
      auto add = [&](const json::value& item) -> std::optional<HttpResponse> {
        std::string error;
        auto r = fault_from_json(item, error);
        if (!r) return message(400, error);
        rules.push_back(std::move(*r));
        return std::nullopt;
      };
      if (list && list->is_array()) {
        for (const auto& item : list->get_array()) {
          if (auto e = add(item)) return *e;
        }
      } else if (auto e = add(v)) {
        return *e;
      }
      if (req.method == "PUT") {
        faults_.replace(std::move(rules));
      } else {
        for (auto& r : rules) faults_.add(std::move(r));
      }
      return HttpResponse::empty(204);
    }
  }
  if (path == "/_sim/ledger" && req.method == "GET") {
    json::array creates;
    std::int64_t debited = 0, refunded = 0, dropped = 0;
    for (const auto& e : ledger_) {
      json::object o;
      o["project_id"] = e.project_id;
      o["endpoint"] = e.endpoint;
      o["body_sha256"] = e.body_sha256;
      o["credits_debited"] = e.debited;
      o["credits_refunded"] = e.refunded;
      o["created_at"] = e.created_at;
      o["status"] = status_of(projects_.at(e.project_id), Clock::now());
      o["dropped"] = e.dropped;
      creates.push_back(std::move(o));
      debited += e.debited;
      refunded += e.refunded;
      dropped += e.dropped ? 1 : 0;
    }
    json::object o;
    o["creates"] = std::move(creates);
    o["jobs"] = ledger_.size();
    o["credits_debited"] = debited;
    o["credits_refunded"] = refunded;
    o["dropped"] = dropped;
    o["balance"] = balance_;
    return ok_json(o);
  }
  if (path == "/_sim/stats" && req.method == "GET") {
    json::object routes;
    std::int64_t total = 0;
    for (const auto& [route, s] : stats_) {
      json::object r;
      r["requests"] = s.requests;
      json::object by;
      for (const auto& [code, n] : s.by_status) by[std::to_string(code)] = n;
      r["status"] = std::move(by);
      routes[route] = std::move(r);
      total += s.requests;
    }
    json::object o;
    o["routes"] = std::move(routes);
    o["requests"] = total;
    o["faults_fired"] = faults_.fired_total();
    json::object keys;
    for (const auto& [key, n] : keys_seen_) keys[key] = n;
    o["keys"] = std::move(keys);
    return ok_json(o);
  }
  if (path == "/_sim/state") {
    if (req.method == "GET") return ok_json(state_json());
    if (req.method == "POST") {
      boost::system::error_code ec;
      json::value v = json::parse(req.body, ec);
      if (ec || !v.is_object()) return message(400, "expected a JSON object");
      for (const auto& kv : v.get_object()) {
        const auto& val = kv.value();
        if (kv.key() == "credits" && val.is_int64()) {
          balance_ = val.get_int64();
        } else if (kv.key() == "tier" && val.is_string() && magichour::parse_tier(std::string(val.get_string()))) {
          options_.tier = *magichour::parse_tier(std::string(val.get_string()));
        } else if (kv.key() == "legacy_endpoints" && val.is_bool()) {
          options_.legacy_endpoints = val.get_bool();
        } else if (kv.key() == "render_time_ms" && val.is_int64() && val.get_int64() >= 0) {
          options_.render_time = std::chrono::milliseconds(val.get_int64());
          options_.render_time_for.clear();
        } else if (kv.key() == "saved_items" && val.is_int64() && val.get_int64() >= 0) {
          options_.saved_items = val.get_int64();
        } else if (kv.key() == "error_rate" && val.is_number() && val.to_number<double>() >= 0 &&
                   val.to_number<double>() <= 1) {
          options_.error_rate = val.to_number<double>();
        } else {
          return message(400, "cannot set '" + std::string(kv.key()) + "' to " + json::serialize(val));
        }
      }
      return ok_json(state_json());
    }
  }
  return message(404, "Not Found");
}

}  // namespace mh::sim
