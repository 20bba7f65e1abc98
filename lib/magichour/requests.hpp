// The fields Magic Hour requires in a create request, checked before anything
// is sent (and so before anything is spent). Used by the configuration checks
// (pipeline/validate_config) and by the client, so both accept exactly the same bodies.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>

namespace mh::magichour {

enum class CreateKind { image_generator, image_upscaler };

std::string_view endpoint_path(CreateKind kind);  // "/v1/ai-image-generator"
std::string_view resource_name(CreateKind kind);  // "ai_image_generator"

struct RequestProblem {
  std::string field;  // dotted path inside the body, e.g. "style.prompt"
  std::string message;
};

// The first problem with `body`, if any. With `template_for_files` (an upscale
// template applied to each from_dir file), assets.image_file_path must be absent.
std::optional<RequestProblem> check_create_body(CreateKind kind, const boost::json::object& body,
                                                bool template_for_files = false);

}  // namespace mh::magichour
