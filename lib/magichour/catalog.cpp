#include "magichour/catalog.hpp"

#include <algorithm>

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

}  // namespace mh::magichour
