// The one error type of the Magic Hour layer: what went wrong (typed), the
// upstream status and message, the endpoint template, and a message a user can
// act on. Thrown at the API boundary, caught at the run boundary.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace mh::magichour {

enum class ErrorKind {
  auth,          // 401: the key was rejected
  bad_request,   // 400
  payment,       // 402: not enough credits
  forbidden,     // 403: the plan lacks the model, resolution or feature
  not_found,     // 404
  validation,    // 422, or a request checked locally before anything was spent
  rate_limited,  // 429 after the retries
  server,        // 5xx after the retries
  transport,     // no HTTP answer (connect, TLS, timeout, reset) after the retries
  protocol,      // an answer that is not what the API documents (e.g. invalid JSON)
  uncertain,     // a create that may have reached Magic Hour: never resent automatically
};

std::string_view to_string(ErrorKind kind);

class ApiError : public std::runtime_error {
 public:
  ApiError(ErrorKind kind, int status, std::string endpoint, std::string upstream_message, const std::string& text)
      : std::runtime_error(text),
        kind_(kind),
        status_(status),
        endpoint_(std::move(endpoint)),
        upstream_message_(std::move(upstream_message)) {}

  ErrorKind kind() const { return kind_; }
  int status() const { return status_; }                     // 0 when there was no HTTP answer
  const std::string& endpoint() const { return endpoint_; }  // e.g. "POST /v1/ai-image-generator"
  const std::string& upstream_message() const { return upstream_message_; }

 private:
  ErrorKind kind_;
  int status_;
  std::string endpoint_;
  std::string upstream_message_;
};

}  // namespace mh::magichour
