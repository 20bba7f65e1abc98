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
#include "monitor/monitors.hpp"
#include "util/hash.hpp"

namespace mh::pipeline {
namespace asio = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;
using magichour::ApiError;
using magichour::CreateKind;
using magichour::ErrorKind;

std::int64_t estimate_credits(CreateKind kind, const json::object& r) {
  auto str = [](const json::object& o, std::string_view k) -> std::optional<std::string_view> {
    const json::value* v = o.if_contains(k);
    if (v && v->is_string()) return std::string_view(v->as_string());
    return std::nullopt;
  };
  if (kind == CreateKind::image_generator) {
    const json::value* count = r.if_contains("image_count");
    std::int64_t n = count && count->is_int64() ? count->as_int64() : 1;
    std::int64_t per_image = magichour::max_credits_per_image();
    std::optional<std::string_view> model = str(r, "model");
    if (const auto* m = magichour::find_image_model(model.value_or("default"))) per_image = m->credits_per_image;
    return per_image * n;
  }
  std::optional<std::string_view> mode, enhancement;
  if (const json::value* s = r.if_contains("style"); s && s->is_object()) {
    mode = str(s->as_object(), "mode");
    enhancement = str(s->as_object(), "enhancement");
  }
  const json::value* f = r.if_contains("scale_factor");
  int factor = f && f->is_number() ? static_cast<int>(f->to_number<double>()) : 4;
  auto price = magichour::upscale_credits(magichour::resolve_upscale_mode(mode, enhancement), factor);
  return price.value_or(*magichour::upscale_credits("creative", 4));  // unknown: the highest upscale price
}

namespace {

struct Planned {
  std::string key;
  json::object request;
  std::optional<std::string> file;  // from_dir: the local file to upload first
};

std::string file_sha256(const std::string& path) {
  util::Sha256 h;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot read " + path);
  char buf[64 * 1024];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    h.update(std::string_view(buf, static_cast<std::size_t>(n)));
  }
  ::close(fd);
  return h.hex_digest();
}

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
std::vector<Planned> plan(const config::JobConfig& job, const config::GenerateConfig& g, std::int64_t run_id) {
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
    std::error_code ec;
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(*g.from_dir, ec)) {
      if (!e.is_regular_file()) continue;
      std::string ext = extension_of(e.path().string(), "");
      static const std::vector<std::string> kImages{"png",  "jpg", "jpeg", "webp", "heic", "heif",
                                                    "avif", "bmp", "tif",  "tiff", "jfif", "jp2"};
      if (std::find(kImages.begin(), kImages.end(), ext) != kImages.end()) files.push_back(e.path().string());
    }
    if (ec) throw std::runtime_error("cannot list from_dir " + *g.from_dir + ": " + ec.message());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      // Each file once, ever: the key is its content, not the run.
      std::string key = util::sha256_hex("file:" + job.name + "|" + g.resource + "|" + file_sha256(f));
      out.push_back({key, g.request.value_or(json::object{}), f});
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

}  // namespace

asio::awaitable<GenerationOutcome> run_generation(Services& sv, const config::JobConfig& job,
                                                  const config::GenerateConfig& g, std::int64_t run_id, bool resuming,
                                                  RunControl& control, extract::PageSink& sink) {
  GenerationOutcome out;
  out.resource.name = g.resource;
  const auto& cfg = *sv.config;
  auto& db = sv.db;
  magichour::CallOptions call{job.name, 0, g.resource};
  const CreateKind kind = g.kind;

  auto make_plan = [&] { return plan(job, g, run_id); };
  std::vector<Planned> planned = co_await async::run_blocking(sv.blocking, make_plan);

  std::vector<std::string> to_poll;  // ledger keys
  std::map<std::string, std::string> project_of;

  // What the ledger already knows of these requests (a resumed run, from_dir files done before).
  std::vector<std::string> keys;
  for (const auto& p : planned) keys.push_back(p.key);
  auto existing_q = [&] { return db::get_submissions(db, keys); };
  std::vector<db::Submission> existing_rows = co_await async::run_blocking(sv.blocking, existing_q);
  std::map<std::string, db::Submission> existing;
  for (auto& e : existing_rows) existing.emplace(e.key, std::move(e));
  std::vector<std::string> now_uncertain;
  std::vector<Planned*> fresh_requests;
  for (auto& p : planned) {
    auto it = existing.find(p.key);
    if (it == existing.end()) {
      fresh_requests.push_back(&p);
    } else if (it->second.state == "pending" && resuming) {
      now_uncertain.push_back(p.key);
    } else if (it->second.state == "submitted" && it->second.project_id) {
      to_poll.push_back(p.key);
      project_of[p.key] = *it->second.project_id;
    }
    // final, uncertain or abandoned: nothing to send
  }
  if (!now_uncertain.empty()) {
    // They may or may not have reached Magic Hour before the crash: never resent automatically.
    auto mark = [&] {
      for (const auto& k : now_uncertain) {
        db::set_submission_state(db, k, "uncertain",
                                 std::string("interrupted between the ledger entry and the "
                                             "create's answer"));
      }
    };
    co_await async::run_blocking(sv.blocking, mark);
    log::warn("submissions left uncertain by an interrupted run", {{"job", job.name}, {"count", now_uncertain.size()}});
  }

  auto committed_q = [&] { return db::committed_credits(db, run_id); };
  std::int64_t committed = co_await async::run_blocking(sv.blocking, committed_q);
  const std::size_t batch_size = static_cast<std::size_t>(std::max(1, cfg.magic_hour.max_concurrency));
  std::size_t next = 0;
  while (next < fresh_requests.size() && !control.cancellation.requested() && !out.guard_stopped) {
    // The credit guard: a balance observed at most one monitor interval ago.
    auto balance = co_await sv.credits.fresh(cfg.monitor.credits.interval);
    std::vector<db::Submission> rows;
    std::vector<Planned*> batch;
    for (; next < fresh_requests.size() && batch.size() < batch_size; ++next) {
      Planned& p = *fresh_requests[next];
      std::int64_t estimate = estimate_credits(kind, p.request);
      std::string stop;
      if (!balance || !balance->balance) {
        stop = "no credit balance could be read";
      } else if (*balance->balance - committed - estimate < cfg.monitor.credits.reserve) {
        stop = "the balance would fall below the reserve";
      } else if (job.credit_budget && committed + estimate > *job.credit_budget) {
        stop = "the job's credit budget would be exceeded";
      }
      if (!stop.empty()) {
        out.guard_stopped = true;
        out.guard = json::object{
            {"reason", stop},
            {"balance", balance && balance->balance ? json::value(*balance->balance) : json::value(nullptr)},
            {"committed", committed},
            {"estimate", estimate},
            {"reserve", cfg.monitor.credits.reserve},
            {"budget", job.credit_budget ? json::value(*job.credit_budget) : json::value(nullptr)}};
        log::warn("credit guard stopped submissions", {{"job", job.name}, {"resource", g.resource}, {"reason", stop}});
        break;
      }
      // An upscale of a local file: upload it first (free), then reference it.
      if (p.file) {
        std::string ext = extension_of(*p.file, "png");
        std::vector<std::pair<std::string, std::string>> items{{"image", ext}};
        std::optional<std::string> upload_error;
        try {
          auto slots = co_await sv.client.upload_urls(items, call);
          co_await sv.client.upload_file(slots.at(0), *p.file, call);
          json::object assets;
          if (const json::value* a = p.request.if_contains("assets"); a && a->is_object()) assets = a->as_object();
          assets["image_file_path"] = slots.at(0).file_path;
          p.request["assets"] = std::move(assets);
        } catch (const ApiError& e) {
          upload_error = e.what();
        }
        if (upload_error) {
          out.resource.status = "failed";
          out.resource.error = *upload_error;
          continue;
        }
      }
      committed += estimate;
      db::Submission row;
      row.key = p.key;
      row.job = job.name;
      row.run_id = run_id;
      row.resource = g.resource;
      row.request = p.request;
      row.credits_estimate = estimate;
      row.source_file = p.file;
      rows.push_back(std::move(row));
      batch.push_back(&p);
    }
    // The ledger rows are committed before any of their POSTs go out.
    auto insert = [&] { return db::insert_pending(db, rows); };
    std::vector<std::string> inserted = co_await async::run_blocking(sv.blocking, insert);
    std::vector<async::Task> creates;
    for (Planned* p : batch) {
      if (std::find(inserted.begin(), inserted.end(), p->key) == inserted.end()) continue;  // another run has it
      creates.push_back([&sv, &db, &call, &to_poll, &project_of, &out, &control, kind, p]() -> asio::awaitable<void> {
        const std::string& key = p->key;
        std::optional<ApiError> failure;
        try {
          auto created = co_await sv.client.create(kind, p->request, call);
          auto mark = [&] { db::mark_submitted(db, key, created.id, created.credits_charged); };
          co_await async::run_blocking(sv.blocking, mark);
          to_poll.push_back(key);
          project_of[key] = created.id;
          control.credits_charged += created.credits_charged;
        } catch (const ApiError& e) {
          failure = e;
        }
        if (failure) {
          std::string state = failure->kind() == ErrorKind::uncertain ? "uncertain" : "error";
          std::string message = failure->what();
          auto mark = [&] { db::set_submission_state(db, key, state, message); };
          co_await async::run_blocking(sv.blocking, mark);
          if (state == "uncertain") {
            log::warn("a create may have reached Magic Hour", {{"key", key}, {"error", message}});
          }
          out.resource.status = "failed";
          out.resource.error = message;
        }
      });
    }
    co_await async::join_all(std::move(creates));
  }

  // Poll everything submitted (this run's and an interrupted run's), concurrently.
  std::vector<async::Task> polls;
  magichour::PollSettings ps{cfg.magic_hour.poll.interval, cfg.magic_hour.poll.timeout, std::chrono::seconds(60),
                             &control.cancellation};
  for (const auto& key : to_poll) {
    polls.push_back([&, key]() -> asio::awaitable<void> {
      const std::string& id = project_of[key];
      magichour::PollUpdate no_updates;
      auto result = co_await magichour::poll_project(sv.client, id, ps, call, no_updates);
      // A failed poll or a cancelled run leaves the project `submitted`: not final, so the
      // image_projects resource keeps refreshing it and nothing is resubmitted.
      bool still_open = result.outcome == "failed" || result.outcome == "cancelled";
      std::string state = still_open ? "submitted" : result.outcome;
      std::optional<json::object> raw;
      std::optional<std::int64_t> credits;
      if (result.project) {
        raw = result.project->raw;
        credits = result.project->credits_charged;
      }
      if (result.project && result.project->status == "complete" && cfg.archive.dir) {
        json::array downloads;
        const std::string dir = *cfg.archive.dir + "/" + id;
        if (!result.project->downloads.empty()) {
          auto mkdir = [&] { fs::create_directories(dir); };
          co_await async::run_blocking(sv.blocking, mkdir);
        }
        for (std::size_t i = 0; i < result.project->downloads.size(); ++i) {
          const auto& d = result.project->downloads[i];
          std::string path = dir + "/" + std::to_string(i) + "." + extension_of(d.url, "bin");
          json::object entry{{"url", d.url}, {"expires_at", d.expires_at}};
          try {
            auto file = co_await sv.client.download(d.url, path, call);
            entry["local_path"] = path;
            entry["bytes"] = file.bytes;
            entry["sha256"] = file.sha256;
          } catch (const ApiError& e) {
            log::warn("archiving a download failed", {{"project", id}, {"error", e.what()}});
          }
          downloads.push_back(std::move(entry));
        }
        (*raw)["downloads"] = std::move(downloads);
      }
      std::optional<std::string> error;
      if (!result.error.empty() && result.outcome != "complete") error = result.error;
      auto save = [&] { db::set_submission_state(db, key, state, error, raw, credits); };
      co_await async::run_blocking(sv.blocking, save);
    });
  }
  co_await async::join_all(std::move(polls));

  // One record per project this run produced, for the resource's table.
  auto rows_q = [&] { return db::submissions_of_run(db, run_id, g.resource); };
  std::vector<db::Submission> rows = co_await async::run_blocking(sv.blocking, rows_q);
  std::vector<json::value> records;
  for (const auto& s : rows) {
    if (s.project_id) records.push_back(record_of(s));
  }
  normalize::Resource hints{g.resource, normalize::WriteDisposition::merge, {"id"}, std::nullopt};
  out.resource.pages = 1;
  out.resource.records = static_cast<std::int64_t>(records.size());
  if (!records.empty()) co_await sink.page(hints, records);
  if (control.cancellation.requested() && out.resource.status == "succeeded") out.resource.status = "cancelled";
  if (out.guard_stopped && out.resource.status == "succeeded") {
    out.resource.status = "skipped";
    out.resource.error = "credit guard: " + std::string(out.guard.at("reason").as_string());
  }
  co_return out;
}

}  // namespace mh::pipeline
