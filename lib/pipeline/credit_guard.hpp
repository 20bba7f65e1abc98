// The credit guard's arithmetic (docs/design.md §Generation, docs/generation.md): what a
// request is estimated to cost, and whether it may be submitted given the
// balance, the reserve, the job's budget and the spend already committed. Pure:
// the caller reads the numbers (the ledger, under a lock) and acts on the answer.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string_view>

#include "magichour/requests.hpp"

namespace mh::pipeline {

// A request's cost before it is sent (docs/magic-hour-api.md §Models, §Image upscaler): the model's price ×
// the resolution's factor × image_count; an upscale by mode and factor. Whatever is
// not known counts at the most it could cost: an unknown model at the highest price,
// a missing, `auto` or unknown resolution at the model's highest factor, a missing or
// malformed image_count as the model's largest (16 for an unknown model), an unknown
// upscale mode or factor at the highest upscale price.
std::int64_t estimate_credits(magichour::CreateKind kind, const boost::json::object& request);

enum class GuardStop { none, no_balance, reserve, budget };

struct GuardDecision {
  GuardStop stop = GuardStop::none;
  bool submit() const { return stop == GuardStop::none; }
  std::string_view reason() const;  // empty when it may be submitted
};

class CreditGuard {
 public:
  struct Numbers {
    std::optional<std::int64_t> balance;  // last observed; none: nothing may be submitted
    std::int64_t reserve = 0;             // monitor.credits.reserve
    std::optional<std::int64_t> budget;   // the job's credit_budget (per run)
    std::int64_t committed = 0;           // this run's spend: charged where known, else estimated
    std::int64_t outstanding = 0;         // every job's spend the observed balance does not show yet
  };

  explicit CreditGuard(Numbers numbers) : n_(numbers) {}

  // May a request estimated at `estimate` go out? Stops when the balance minus the
  // outstanding spend minus the estimate would fall below the reserve, or when the
  // run's committed spend plus the estimate would pass the budget.
  GuardDecision decide(std::int64_t estimate) const;
  // The request went out (its pending row exists): it counts from now on.
  void commit(std::int64_t estimate);

  const Numbers& numbers() const { return n_; }
  // The run's credit_guard record: reason, balance, committed, outstanding,
  // estimate, reserve, budget, and what was left of the balance and the budget.
  boost::json::object record(const GuardDecision& decision, std::int64_t estimate) const;

 private:
  Numbers n_;
};

}  // namespace mh::pipeline
