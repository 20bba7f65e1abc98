#include "magichour/requests.hpp"

#include <boost/json.hpp>

namespace mh::magichour {
namespace json = boost::json;

std::string_view endpoint_path(CreateKind kind) {
  return kind == CreateKind::image_generator ? "/v1/ai-image-generator" : "/v1/ai-image-upscaler";
}

std::string_view resource_name(CreateKind kind) {
  return kind == CreateKind::image_generator ? "ai_image_generator" : "ai_image_upscaler";
}

namespace {
const json::value* nested(const json::object& o, std::string_view parent, std::string_view key) {
  const json::value* p = o.if_contains(parent);
  return p && p->is_object() ? p->as_object().if_contains(key) : nullptr;
}
}  // namespace

std::optional<RequestProblem> check_create_body(CreateKind kind, const json::object& body, bool template_for_files) {
  if (kind == CreateKind::image_generator) {
    const json::value* count = body.if_contains("image_count");
    if (count == nullptr) return RequestProblem{"image_count", "required field 'image_count' is missing"};
    if (!count->is_int64() || count->as_int64() < 1 || count->as_int64() > 16) {
      return RequestProblem{"image_count", "image_count must be a whole number from 1 to 16"};
    }
    const json::value* prompt = nested(body, "style", "prompt");
    if (prompt == nullptr || !prompt->is_string() || prompt->as_string().empty()) {
      return RequestProblem{"style.prompt", "required field 'style.prompt' is missing or empty"};
    }
    return std::nullopt;
  }
  const json::value* scale = body.if_contains("scale_factor");
  if (scale == nullptr) return RequestProblem{"scale_factor", "required field 'scale_factor' is missing"};
  bool two_or_four = (scale->is_int64() && (scale->as_int64() == 2 || scale->as_int64() == 4)) ||
                     (scale->is_double() && (scale->as_double() == 2.0 || scale->as_double() == 4.0));
  if (!two_or_four) return RequestProblem{"scale_factor", "scale_factor must be 2 or 4"};
  const json::value* file = nested(body, "assets", "image_file_path");
  if (template_for_files) {
    if (file != nullptr) {
      return RequestProblem{"assets.image_file_path", "is set from each from_dir file; remove it from the template"};
    }
  } else if (file == nullptr || !file->is_string() || file->as_string().empty()) {
    return RequestProblem{"assets.image_file_path", "required field 'assets.image_file_path' is missing"};
  }
  return std::nullopt;
}

}  // namespace mh::magichour
