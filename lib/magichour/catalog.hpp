// What Magic Hour documents about its image models and the upscaler
// (docs/magic-hour-api.md §Models, §Image upscaler): prices, resolutions, image counts, plan tiers.
// One source for the daemon's cost estimates and the simulator's validation.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace mh::magichour {

enum class Tier { free = 0, creator = 1, pro = 2, business = 3 };
std::optional<Tier> parse_tier(std::string_view name);
std::string_view tier_name(Tier tier);

struct ImageModel {
  std::string_view id;
  std::string_view display_name;
  std::int64_t credits_per_image;  // "from" price: one image at the lowest resolution
  std::vector<std::string_view> resolutions;
  std::vector<int> image_counts;
  Tier min_tier;
};

// The models of POST /v1/ai-image-generator, in documentation order.
std::span<const ImageModel> image_models();
// `seedream` is a deprecated alias of `seedream-v4`; `default` is its own entry.
const ImageModel* find_image_model(std::string_view id);
// The highest documented per-image price, for models this build does not know.
std::int64_t max_credits_per_image();

// Price multiplier of a resolution over a model's "from" price. docs/magic-hour-api.md §Models:
// higher resolutions cost more, but Magic Hour publishes no multipliers; these are
// mhloader's (docs/generation.md), and the simulator bills by them: 640px and 1k ×1,
// 2k ×2, 4k ×4. nullopt for `auto` (mapped upstream from the plan) or an unknown value.
std::optional<int> resolution_factor(std::string_view resolution);
// The highest factor a request to `model` can cost (its highest resolution);
// for an unknown model (nullptr) the highest factor of any resolution.
int max_resolution_factor(const ImageModel* model);
// What a generation costs at a concrete resolution: "from" price × factor × image count.
std::int64_t image_credits(const ImageModel& model, std::string_view resolution, int image_count);
// The resolution `auto` stands for on a plan (the simulator's mapping: free 640px,
// creator and pro 1k, business 2k), clamped to the model's resolutions.
std::string_view auto_resolution(const ImageModel& model, Tier tier);

inline constexpr std::string_view kAspectRatios[] = {"1:1", "16:9", "9:16"};
inline constexpr std::string_view kResolutions[] = {"auto", "640px", "1k", "2k", "4k"};
inline constexpr std::string_view kUpscaleModes[] = {"preserve", "balanced", "creative", "pro"};

// Upscale price: preserve (and the deprecated `pro`) 25 at 2x, 100 at 4x;
// balanced and creative 50 at 2x, 200 at 4x. nullopt for an unknown mode or factor.
std::optional<std::int64_t> upscale_credits(std::string_view mode, int scale_factor);
// The resolved mode: `pro` -> preserve; deprecated `enhancement` values map as documented.
std::string_view resolve_upscale_mode(std::optional<std::string_view> mode,
                                      std::optional<std::string_view> enhancement);

// True when POST to `path` (relative to base_url, with or without a leading "/" or
// "v1/") is one of the API's documented POST endpoints: each creates (and bills) a
// project or hands out upload URLs, so a user resource must not POST there.
bool is_create_endpoint(std::string_view path);

}  // namespace mh::magichour
