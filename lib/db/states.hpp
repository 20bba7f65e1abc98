// The vocabularies of the operations schema: what mhloader.runs.status and
// mhloader.submissions.state hold (the control plane's filters and the metrics'
// label sets come from these lists). No dependencies: anything may include it.
#pragma once

namespace mh::db {

inline constexpr const char* kRunStatuses[] = {"running", "succeeded", "failed", "cancelled", "skipped", "partial"};
inline constexpr const char* kSubmissionStates[] = {"pending",  "submitted", "complete",  "error",
                                                    "canceled", "timeout",   "uncertain", "abandoned"};

}  // namespace mh::db
