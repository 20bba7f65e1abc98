#include "magichour/catalog.hpp"

#include <algorithm>
#include <cctype>
#include <iterator>
#include <string>

#include "net/http_message.hpp"

namespace mh::magichour {

std::optional<Tier> parse_tier(std::string_view name) {
  if (name == "free") return Tier::free;
  if (name == "creator") return Tier::creator;
  if (name == "pro") return Tier::pro;
  if (name == "business") return Tier::business;
  return std::nullopt;
}

std::string_view tier_name(Tier tier) {
  switch (tier) {
    case Tier::free: return "free";
    case Tier::creator: return "creator";
    case Tier::pro: return "pro";
    case Tier::business: return "business";
  }
  return "free";
}

std::span<const ImageModel> image_models() {
  // `default` is documented to "change over time"; priced like the free models it resolves to today.
  static const std::vector<ImageModel> models{
      {"default", "Default", 5, {"640px", "1k", "2k"}, {1, 2, 3, 4}, Tier::free},
      {"flux-schnell", "Flux Schnell", 5, {"640px", "1k", "2k"}, {1, 2, 3, 4}, Tier::free},
      {"flux-2-klein", "Flux 2 Klein", 5, {"640px", "1k", "2k"}, {1}, Tier::free},
      {"z-image-turbo", "Z-Image Turbo", 5, {"640px", "1k", "2k"}, {1, 2, 3, 4}, Tier::free},
      {"seedream-v4", "Seedream v4", 40, {"640px", "1k", "2k", "4k"}, {1, 2, 3, 4}, Tier::creator},
      {"seedream-v5-pro", "Seedream v5 Pro", 75, {"640px", "1k", "2k"}, {1, 2, 3, 4}, Tier::creator},
      {"nano-banana", "Nano Banana", 50, {"640px", "1k"}, {1, 2, 3, 4}, Tier::creator},
      {"nano-banana-2-lite", "Nano Banana 2 Lite", 50, {"640px", "1k"}, {1, 2, 3, 4}, Tier::creator},
      {"nano-banana-2", "Nano Banana 2", 100, {"640px", "1k", "2k", "4k"}, {1, 4, 9, 16}, Tier::creator},
      {"nano-banana-pro", "Nano Banana Pro", 150, {"1k", "2k", "4k"}, {1, 4, 9, 16}, Tier::creator},
      {"gpt-image-2", "GPT Image 2", 50, {"640px", "1k", "2k", "4k"}, {1, 2, 3, 4}, Tier::creator},
  };
  return models;
}

const ImageModel* find_image_model(std::string_view id) {
  if (id == "seedream") id = "seedream-v4";
  for (const auto& m : image_models()) {
    if (m.id == id) return &m;
  }
  return nullptr;
}

std::int64_t max_credits_per_image() {
  std::int64_t best = 0;
  for (const auto& m : image_models()) best = std::max(best, m.credits_per_image);
  return best;
}

namespace {
struct Factor {
  std::string_view resolution;
  int factor;
};
constexpr Factor kFactors[] = {{"640px", 1}, {"1k", 1}, {"2k", 2}, {"4k", 4}};  // ascending
}  // namespace

std::optional<int> resolution_factor(std::string_view resolution) {
  for (const auto& f : kFactors) {
    if (f.resolution == resolution) return f.factor;
  }
  return std::nullopt;
}

int max_resolution_factor(const ImageModel* model) {
  int best = 1;
  for (const auto& f : kFactors) {
    bool offered = model == nullptr || std::find(model->resolutions.begin(), model->resolutions.end(), f.resolution) !=
                                           model->resolutions.end();
    if (offered) best = std::max(best, f.factor);
  }
  return best;
}

std::int64_t image_credits(const ImageModel& model, std::string_view resolution, int image_count) {
  int factor = resolution_factor(resolution).value_or(max_resolution_factor(&model));
  return model.credits_per_image * factor * image_count;
}

std::string_view auto_resolution(const ImageModel& model, Tier tier) {
  auto rank = [](std::string_view r) {
    for (std::size_t i = 0; i < std::size(kFactors); ++i) {
      if (kFactors[i].resolution == r) return i;
    }
    return std::size(kFactors);
  };
  const std::size_t limit = rank(tier == Tier::free ? "640px" : (tier == Tier::business ? "2k" : "1k"));
  // The model's highest resolution within the plan's, else its lowest (nano-banana-pro starts at 1k).
  std::string_view best = model.resolutions.front();
  for (auto r : model.resolutions) {
    if (rank(r) <= limit) best = r;
  }
  return best;
}

std::string_view resolve_upscale_mode(std::optional<std::string_view> mode,
                                      std::optional<std::string_view> enhancement) {
  if (enhancement) {
    if (*enhancement == "Resemblance") return "preserve";
    if (*enhancement == "Balanced") return "balanced";
    if (*enhancement == "Creative") return "creative";
  }
  if (!mode) return "balanced";
  if (*mode == "pro") return "preserve";
  return *mode;
}

std::optional<std::int64_t> upscale_credits(std::string_view mode, int scale_factor) {
  std::int64_t base = 0;
  if (mode == "preserve" || mode == "pro") {
    base = 25;
  } else if (mode == "balanced" || mode == "creative") {
    base = 50;
  } else {
    return std::nullopt;
  }
  if (scale_factor == 2) return base;
  if (scale_factor == 4) return base * 4;
  return std::nullopt;
}

bool is_create_endpoint(std::string_view path) {
  // docs/magic-hour-api.md §Endpoints: every POST the API documents (image, video and audio tools,
  // face detection, upload URLs), and the removed ai-photo-editor.
  static constexpr std::string_view kPosts[] = {"files/upload-urls",
                                                "face-detection",
                                                "ai-talking-photo",
                                                "ai-video-editor",
                                                "animation",
                                                "audio-to-video",
                                                "auto-subtitle-generator",
                                                "character-replace",
                                                "face-swap",
                                                "image-to-video",
                                                "lip-sync",
                                                "text-to-video",
                                                "video-to-video",
                                                "ai-clothes-changer",
                                                "ai-face-editor",
                                                "ai-gif-generator",
                                                "ai-image-editor",
                                                "ai-headshot-generator",
                                                "ai-image-generator",
                                                "ai-image-upscaler",
                                                "ai-meme-generator",
                                                "ai-qr-code-generator",
                                                "body-swap",
                                                "face-swap-photo",
                                                "head-swap",
                                                "image-background-remover",
                                                "photo-colorizer",
                                                "ai-voice-generator",
                                                "ai-voice-cloner",
                                                "ai-video-translator",
                                                "ai-photo-editor"};
  // Compared as the server resolves it: percent-decoded, `.` and empty segments dropped,
  // `..` going up, case folded; so `v1//ai-image-generator`, `./%61i-image-generator` and
  // `x/../ai-image-generator` are creates too.
  const std::string decoded = net::url_decode(path.substr(0, path.find_first_of("?#")), false);
  std::vector<std::string> segments;
  for (std::size_t start = 0; start <= decoded.size();) {
    std::size_t end = decoded.find('/', start);
    if (end == std::string::npos) end = decoded.size();
    std::string seg = decoded.substr(start, end - start);
    std::transform(seg.begin(), seg.end(), seg.begin(), [](unsigned char c) { return std::tolower(c); });
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!seg.empty() && seg != ".") {
      segments.push_back(std::move(seg));
    }
    start = end + 1;
  }
  if (!segments.empty() && segments.front() == "v1") segments.erase(segments.begin());
  std::string normalized;
  for (const auto& seg : segments) normalized += (normalized.empty() ? "" : "/") + seg;
  for (auto p : kPosts) {
    if (normalized == p) return true;
  }
  return false;
}

}  // namespace mh::magichour
