#include "pipeline/generation.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <filesystem>

#include "async/blocking.hpp"
#include "async/join.hpp"
#include "db/ops.hpp"
#include "log/log.hpp"
#include "magichour/catalog.hpp"
#include "magichour/poller.hpp"
#include "metrics/metrics.hpp"
#include "monitor/monitors.hpp"
#include "pipeline/archive.hpp"
#include "pipeline/credit_guard.hpp"
#include "pipeline/inbox.hpp"
#include "pipeline/validate_config.hpp"
#include "util/hash.hpp"

namespace mh::pipeline {
namespace asio = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;
using magichour::ApiError;
using magichour::CreateKind;
using magichour::ErrorKind;

namespace {

struct Planned {
  std::string key;
  json::object request;
  std::optional<std::string> file;  // from_dir: the local file to upload first
};

std::string extension_of(const std::string& url_or_path, const std::string& fallback) {
  std::string path = url_or_path.substr(0, url_or_path.find('?'));
  auto slash = path.find_last_of('/');
  auto dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return fallback;
  std::string ext = path.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext.empty() || ext.size() > 5 ? fallback : ext;
}

// What the job asks for, each request with its ledger key (stable across a resumed run).
std::vector<Planned> plan(const config::JobConfig& job, const config::GenerateConfig& g, std::int64_t run_id,
                          const std::string& state_dir) {
  std::vector<Planned> out;
  std::map<std::string, int> seen;  // the same body twice in a run is two requests: occurrence counts
  for (const auto& r : g.requests) {
    std::string body = json::serialize(r);
    int occurrence = seen[body]++;
    std::string key = util::sha256_hex("run:" + std::to_string(run_id) + "|" + g.resource + "|" + body + "|" +
                                       std::to_string(occurrence));
    out.push_back({key, r, std::nullopt});
  }
  if (g.from_dir) {
    auto image = [](const std::string& name) {
      static const std::vector<std::string> kImages{"png",  "jpg", "jpeg", "webp", "heic", "heif",
                                                    "avif", "bmp", "tif",  "tiff", "jfif", "jp2"};
      return std::find(kImages.begin(), kImages.end(), extension_of(name, "")) != kImages.end();
    };
    // The hash cache: one file per job, entry and directory under state_dir (see configuration.md).
    std::error_code ec;
    const std::string cache_dir = state_dir + "/inbox";
    fs::create_directories(cache_dir, ec);
    std::optional<std::string> cache;
    if (!ec) cache = cache_dir + "/" + util::sha256_hex(job.name + "|" + g.resource + "|" + *g.from_dir) + ".json";
    for (const auto& f : scan_inbox(*g.from_dir, g.settle, cache, image)) {
      // Each file once, ever: the key is its content, not the run.
      std::string key = util::sha256_hex("file:" + job.name + "|" + g.resource + "|" + f.sha256);
      out.push_back({key, g.request.value_or(json::object{}), f.path});
    }
  }
  return out;
}

json::object record_of(const db::Submission& s) {
  json::object r = s.result.value_or(json::object{});
  r["id"] = s.project_id.value_or("");
  r["submission_key"] = s.key;
  r["request"] = s.request;
  r["status"] = r.contains("status") ? r["status"] : json::value(s.state);
  r["ledger_state"] = s.state;
  if (s.credits_charged) r["credits_charged"] = *s.credits_charged;
  if (s.error) r["error_message"] = *s.error;
  if (s.source_file) r["source_file"] = *s.source_file;
  return r;
}

// One generate entry of a run: plan, submit under the guard, poll, emit.
class Generation {
 public:
  Generation(Services& sv, const config::JobConfig& job, const config::GenerateConfig& g, std::int64_t run_id,
             RunControl& control)
      : sv_(sv),
        job_(job),
        g_(g),
        kind_(create_kind(g.kind)),
        run_id_(run_id),
        control_(control),
        call_{job.name, 0, g.resource, &control.cancellation} {
    out_.resource.name = g.resource;
  }

  asio::awaitable<GenerationOutcome> run(bool resuming, extract::PageSink& sink) {
    auto make_plan = [&] { return plan(job_, g_, run_id_, sv_.config->state_dir); };
    planned_ = co_await async::run_blocking(sv_.blocking, make_plan);
    co_await take_up_ledger(resuming);
    auto committed_q = [&] { return db::committed_credits(sv_.db, run_id_); };
    committed_ = co_await async::run_blocking(sv_.blocking, committed_q);
    if (sv_.metrics) {
      sv_.metrics->set_credit_budget(job_.name, job_.credit_budget);
      sv_.metrics->set_credit_budget_used(job_.name, committed_);
    }
    co_await submit_all();
    co_await poll_all();
    co_await emit(sink);
    // The budget used once polling has replaced estimates and refunds are in.
    committed_ = co_await async::run_blocking(sv_.blocking, committed_q);
    if (sv_.metrics) sv_.metrics->set_credit_budget_used(job_.name, committed_);
    if (control_.cancellation.requested() && out_.resource.status == "succeeded") out_.resource.status = "cancelled";
    if (out_.guard_stopped && out_.resource.status == "succeeded") {
      out_.resource.status = "skipped";
      out_.resource.error = "credit guard: " + std::string(out_.guard.at("reason").as_string());
    }
    co_return std::move(out_);
  }

 private:
  // What the ledger already knows of these requests (a resumed run, from_dir files done before).
  asio::awaitable<void> take_up_ledger(bool resuming) {
    std::vector<std::string> keys;
    for (const auto& p : planned_) keys.push_back(p.key);
    auto existing_q = [&] { return db::get_submissions(sv_.db, keys); };
    std::vector<db::Submission> existing_rows = co_await async::run_blocking(sv_.blocking, existing_q);
    std::map<std::string, db::Submission> existing;
    for (auto& e : existing_rows) existing.emplace(e.key, std::move(e));
    std::vector<std::string> now_uncertain;
    for (auto& p : planned_) {
      auto it = existing.find(p.key);
      if (it == existing.end()) {
        fresh_.push_back(&p);
      } else if (it->second.state == "pending" && resuming) {
        now_uncertain.push_back(p.key);
      } else if (it->second.state == "submitted" && it->second.project_id) {
        to_poll_.push_back(p.key);
        project_of_[p.key] = *it->second.project_id;
      }
      // final, uncertain or abandoned: nothing to send
    }
    if (now_uncertain.empty()) co_return;
    // They may or may not have reached Magic Hour before the crash: never resent automatically.
    auto mark = [&] {
      for (const auto& k : now_uncertain) {
        db::set_submission_state(sv_.db, k, "uncertain",
                                 std::string("interrupted between the ledger entry and the create's answer"));
      }
    };
    co_await async::run_blocking(sv_.blocking, mark);
    log::warn("submissions left uncertain by an interrupted run",
              {{"job", job_.name}, {"count", now_uncertain.size()}});
  }

  void stop(const json::object& record) {
    out_.guard_stopped = true;
    out_.guard = record;
    log::warn("credit guard stopped submissions",
              {{"job", job_.name}, {"resource", g_.resource}, {"guard", json::serialize(record)}});
  }

  // An upscale of a local file: upload it first (free), then reference it. False if it failed.
  asio::awaitable<bool> upload(Planned& p) {
    std::string ext = extension_of(*p.file, "png");
    std::vector<std::pair<std::string, std::string>> items{{"image", ext}};
    std::optional<std::string> upload_error;
    try {
      auto slots = co_await sv_.client.upload_urls(items, call_);
      co_await sv_.client.upload_file(slots.at(0), *p.file, call_);
      json::object assets;
      if (const json::value* a = p.request.if_contains("assets"); a && a->is_object()) assets = a->as_object();
      assets["image_file_path"] = slots.at(0).file_path;
      p.request["assets"] = std::move(assets);
    } catch (const ApiError& e) {
      upload_error = e.what();
    }
    if (!upload_error) co_return true;
    out_.resource.status = "failed";
    out_.resource.error = *upload_error;
    co_return false;
  }

  // The guard's check and the pending row, one step for every job and process on the
  // database (db::insert_pending_guarded); `refused` when the guard stopped it.
  asio::awaitable<db::GuardedInsert> guarded_insert(const Planned& p, const monitor::CreditState& balance) {
    const std::int64_t estimate = estimate_credits(kind_, p.request);
    db::Submission row;
    row.key = p.key;
    row.job = job_.name;
    row.run_id = run_id_;
    row.resource = g_.resource;
    row.request = p.request;
    row.credits_estimate = estimate;
    row.source_file = p.file;
    json::object refused;
    auto check = [&] {
      auto decide = [&](const db::Spend& spend) {
        CreditGuard guard({balance.balance, sv_.config->monitor.credits.reserve, job_.credit_budget,
                           spend.run_committed, spend.outstanding});
        GuardDecision decision = guard.decide(estimate);
        committed_ = spend.run_committed + (decision.submit() ? estimate : 0);
        if (!decision.submit()) refused = guard.record(decision, estimate);
        return decision.submit();
      };
      return db::insert_pending_guarded(sv_.db, row, balance.requested, decide);
    };
    db::GuardedInsert result = co_await async::run_blocking(sv_.blocking, check);
    if (sv_.metrics) sv_.metrics->set_credit_budget_used(job_.name, committed_);
    if (result == db::GuardedInsert::refused) stop(refused);
    co_return result;
  }

  asio::awaitable<void> submit_all() {
    const auto& cfg = *sv_.config;
    const std::size_t batch_size = static_cast<std::size_t>(std::max(1, cfg.magic_hour.max_concurrency));
    std::size_t next = 0;
    while (next < fresh_.size() && !control_.cancellation.requested() && !out_.guard_stopped) {
      // A balance observed at most one monitor interval ago.
      auto balance = co_await sv_.credits.fresh(cfg.monitor.credits.interval);
      std::vector<Planned*> batch;
      for (; next < fresh_.size() && batch.size() < batch_size && !out_.guard_stopped; ++next) {
        Planned& p = *fresh_[next];
        if (!balance || !balance->balance) {
          CreditGuard guard({std::nullopt, cfg.monitor.credits.reserve, job_.credit_budget, committed_, 0});
          std::int64_t estimate = estimate_credits(kind_, p.request);
          stop(guard.record(guard.decide(estimate), estimate));
          break;
        }
        if (p.file && !co_await upload(p)) continue;
        db::GuardedInsert inserted = co_await guarded_insert(p, *balance);
        if (inserted == db::GuardedInsert::inserted) batch.push_back(&p);  // exists: another run has it
      }
      std::vector<async::Task> creates;
      for (Planned* p : batch) {
        creates.push_back([this, p]() -> asio::awaitable<void> { co_await create(*p); });
      }
      co_await async::join_all(std::move(creates));
    }
  }

  asio::awaitable<void> create(const Planned& p) {
    const std::string& key = p.key;
    std::optional<ApiError> failure;
    try {
      auto created = co_await sv_.client.create(kind_, p.request, call_);
      if (!magichour::valid_project_id(created.id)) {
        co_await refuse_project_id(key, created);
        co_return;
      }
      auto mark = [&] { db::mark_submitted(sv_.db, key, created.id, created.credits_charged); };
      co_await async::run_blocking(sv_.blocking, mark);
      to_poll_.push_back(key);
      project_of_[key] = created.id;
      control_.credits_charged += created.credits_charged;
    } catch (const ApiError& e) {
      failure = e;
    }
    if (!failure) co_return;
    const bool uncertain = failure->kind() == ErrorKind::uncertain;
    std::string state = uncertain ? "uncertain" : "error";
    std::string message = failure->what();
    // A create that certainly failed billed nothing; an uncertain one keeps its estimate.
    std::optional<std::int64_t> charged = uncertain ? std::nullopt : std::optional<std::int64_t>(0);
    auto mark = [&] { db::set_submission_state(sv_.db, key, state, message, std::nullopt, charged); };
    co_await async::run_blocking(sv_.blocking, mark);
    if (uncertain) log::warn("a create may have reached Magic Hour", {{"key", key}, {"error", message}});
    out_.resource.status = "failed";
    out_.resource.error = message;
  }

  // A create answered with an id that is not a project id (magichour::valid_project_id): a
  // protocol error for that request. The job may exist and be billed, so the ledger keeps the
  // answer (the raw id only as JSON data, in `result.rejected_project_id`) and its charge; the
  // id is never polled, put in a URL or a path.
  asio::awaitable<void> refuse_project_id(const std::string& key, const magichour::CreateResult& created) {
    std::string shown = json::serialize(json::string(created.id.substr(0, 100)));
    std::string message = "Magic Hour answered " + std::string(magichour::endpoint_path(kind_)) +
                          " with an id that is not a project id (" + shown +
                          "); it was not used, and the job may have been billed";
    json::object result{{"rejected_project_id", created.id}, {"answer", created.raw}};
    auto mark = [&] { db::set_submission_state(sv_.db, key, "error", message, result, created.credits_charged); };
    co_await async::run_blocking(sv_.blocking, mark);
    log::warn("a create answered an invalid project id", {{"key", key}, {"id", shown}});
    control_.credits_charged += created.credits_charged;
    out_.resource.status = "failed";
    out_.resource.error = message;
  }

  // Polls everything submitted (this run's and an interrupted run's), concurrently.
  asio::awaitable<void> poll_all() {
    const auto& cfg = *sv_.config;
    magichour::PollSettings ps{cfg.magic_hour.poll.interval, cfg.magic_hour.poll.timeout, std::chrono::seconds(60),
                               &control_.cancellation};
    std::vector<async::Task> polls;
    for (const auto& key : to_poll_) {
      polls.push_back([this, &ps, key]() -> asio::awaitable<void> { co_await poll(key, ps); });
    }
    co_await async::join_all(std::move(polls));
  }

  asio::awaitable<void> poll(const std::string& key, const magichour::PollSettings& ps) {
    const std::string& id = project_of_[key];
    magichour::PollUpdate no_updates;
    auto result = co_await magichour::poll_project(sv_.client, id, ps, call_, no_updates);
    // A failed poll or a cancelled run leaves the project `submitted`, a poll timeout
    // `timeout`: not final, so image_projects refreshes it, settles it when it is, and
    // nothing is resubmitted.
    bool still_open = result.outcome == "failed" || result.outcome == "cancelled";
    std::string state = still_open ? "submitted" : result.outcome;
    std::optional<json::object> raw;
    std::optional<std::int64_t> credits;
    if (result.project) {
      raw = result.project->raw;
      credits = result.project->credits_charged;
      co_await archive_downloads(sv_, call_, *result.project, *raw);
    }
    std::optional<std::string> error;
    if (!result.error.empty() && result.outcome != "complete") error = result.error;
    auto save = [&] { db::set_submission_state(sv_.db, key, state, error, raw, credits); };
    co_await async::run_blocking(sv_.blocking, save);
  }

  // One record per project this run produced, for the resource's table.
  asio::awaitable<void> emit(extract::PageSink& sink) {
    auto rows_q = [&] { return db::submissions_of_run(sv_.db, run_id_, g_.resource); };
    std::vector<db::Submission> rows = co_await async::run_blocking(sv_.blocking, rows_q);
    std::vector<json::value> records;
    for (const auto& s : rows) {
      if (s.project_id) records.push_back(record_of(s));
    }
    normalize::Resource hints{g_.resource, normalize::WriteDisposition::merge, {"id"}, std::nullopt};
    out_.resource.pages = 1;
    out_.resource.records = static_cast<std::int64_t>(records.size());
    if (!records.empty()) co_await sink.page(hints, records);
  }

  Services& sv_;
  const config::JobConfig& job_;
  const config::GenerateConfig& g_;
  const CreateKind kind_;
  const std::int64_t run_id_;
  RunControl& control_;
  const magichour::CallOptions call_;
  GenerationOutcome out_;
  std::vector<Planned> planned_;
  std::vector<Planned*> fresh_;       // not in the ledger yet
  std::vector<std::string> to_poll_;  // ledger keys
  std::map<std::string, std::string> project_of_;
  std::int64_t committed_ = 0;  // the run's spend as the guard last read it
};

}  // namespace

asio::awaitable<GenerationOutcome> run_generation(Services& sv, const config::JobConfig& job,
                                                  const config::GenerateConfig& g, std::int64_t run_id, bool resuming,
                                                  RunControl& control, extract::PageSink& sink) {
  Generation generation(sv, job, g, run_id, control);
  co_return co_await generation.run(resuming, sink);
}

asio::awaitable<std::optional<ProjectSettlement>> archive_known_project(Services& sv,
                                                                        const magichour::CallOptions& call,
                                                                        magichour::Project& project) {
  if (!project.terminal()) co_return std::nullopt;
  co_await archive_downloads(sv, call, project, project.raw);
  ProjectSettlement s{project.id, project.status, project.credits_charged, project.raw, std::nullopt};
  if (project.status == "error") s.error = project.error_message.value_or("the project failed upstream");
  co_return s;
}

void settle_known_projects(Services& sv, const std::vector<ProjectSettlement>& settled) {
  for (const auto& s : settled) {
    if (db::settle_project(sv.db, s.project_id, s.status, s.credits_charged, s.result, s.error)) {
      log::info("a project finished after its run stopped polling; its ledger row is settled",
                {{"project", s.project_id}, {"status", s.status}, {"credits", s.credits_charged}});
    }
  }
}

}  // namespace mh::pipeline
