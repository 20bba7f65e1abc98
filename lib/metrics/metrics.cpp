#include "metrics/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace mh::metrics {

namespace {
const prometheus::Histogram::BucketBoundaries kLatencyBuckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                              0.5,   1,    2.5,   5,    10,  30};
}

struct Metrics::Impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Gauge>& build_info = prometheus::BuildGauge()
                                                          .Name("mhloader_build_info")
                                                          .Help("Build version and revision; always 1")
                                                          .Register(*registry);
  prometheus::Family<prometheus::Counter>& upstream_requests =
      prometheus::BuildCounter()
          .Name("mhloader_upstream_requests_total")
          .Help("Requests to Magic Hour by endpoint template and HTTP status (or transport failure)")
          .Register(*registry);
  prometheus::Family<prometheus::Histogram>& upstream_duration =
      prometheus::BuildHistogram()
          .Name("mhloader_upstream_request_duration_seconds")
          .Help("Duration of requests to Magic Hour by endpoint template")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& upstream_retries = prometheus::BuildCounter()
                                                                  .Name("mhloader_upstream_retries_total")
                                                                  .Help("Retried requests to Magic Hour by reason")
                                                                  .Register(*registry);
  prometheus::Gauge& upstream_up = prometheus::BuildGauge()
                                       .Name("mhloader_upstream_up")
                                       .Help("1 when the last Magic Hour health probe succeeded")
                                       .Register(*registry)
                                       .Add({});
  prometheus::Gauge& credits_balance = prometheus::BuildGauge()
                                           .Name("mhloader_credits_balance")
                                           .Help("Last observed Magic Hour credit balance")
                                           .Register(*registry)
                                           .Add({});
  prometheus::Gauge& credits_low = prometheus::BuildGauge()
                                       .Name("mhloader_credits_low")
                                       .Help("1 when the balance is below monitor.credits.low_balance")
                                       .Register(*registry)
                                       .Add({});
  prometheus::Family<prometheus::Counter>& credits_charged = prometheus::BuildCounter()
                                                                 .Name("mhloader_credits_charged_total")
                                                                 .Help("Credits charged by Magic Hour per resource")
                                                                 .Register(*registry);
};

Metrics::Metrics(const std::string& version, const std::string& revision) : impl_(std::make_unique<Impl>()) {
  impl_->build_info.Add({{"version", version}, {"revision", revision}}).Set(1);
  // Known label sets start at 0, so rate() and absent() work from the first scrape.
  for (const char* r : {"ai_image_generator", "ai_image_upscaler"}) impl_->credits_charged.Add({{"resource", r}});
}

Metrics::~Metrics() = default;

void Metrics::upstream_request(std::string_view endpoint, std::string_view code, double seconds) {
  std::string e(endpoint);
  impl_->upstream_requests.Add({{"endpoint", e}, {"code", std::string(code)}}).Increment();
  impl_->upstream_duration.Add({{"endpoint", e}}, kLatencyBuckets).Observe(seconds);
}

void Metrics::upstream_retry(std::string_view endpoint, std::string_view reason) {
  impl_->upstream_retries.Add({{"endpoint", std::string(endpoint)}, {"reason", std::string(reason)}}).Increment();
}

void Metrics::set_upstream_up(bool up) { impl_->upstream_up.Set(up ? 1 : 0); }

void Metrics::set_credits(std::int64_t balance, bool low) {
  impl_->credits_balance.Set(static_cast<double>(balance));
  impl_->credits_low.Set(low ? 1 : 0);
}

void Metrics::credits_charged(std::string_view resource, std::int64_t credits) {
  impl_->credits_charged.Add({{"resource", std::string(resource)}}).Increment(static_cast<double>(credits));
}

std::string Metrics::serialize() const { return prometheus::TextSerializer().Serialize(impl_->registry->Collect()); }

}  // namespace mh::metrics
