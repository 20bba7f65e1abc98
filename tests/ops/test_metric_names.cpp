// Metric names in deploy/ (alert rules, their tests, the Grafana dashboard) and in
// docs/operations.md are DESIGN.md §2.6's names, with its labels; and the families
// the daemon already exports match that list too.
#include <doctest/doctest.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "metrics/metrics.hpp"
#include "ops/ops.hpp"

using mh::ops::exists;
using mh::ops::read_text;
using mh::ops::source_path;

namespace {

struct Family {
  std::set<std::string> labels;
  std::string type;                                           // counter, gauge, histogram; "" when not given
  std::map<std::string, std::set<std::string>> label_values;  // from notes such as "outcome: a|b"
};

// The code block of DESIGN.md §2.6.
std::string design_block(const std::string& design) {
  auto section = design.find("### 2.6");
  REQUIRE(section != std::string::npos);
  auto open = design.find("```", section);
  auto close = design.find("```", open + 3);
  REQUIRE(close != std::string::npos);
  std::string block = design.substr(open + 3, close - open - 3);
  return block.substr(block.find_first_not_of('\n'));
}

// DESIGN.md lives in the project's shared/ folder beside the repository (CI lays it
// there too); tests/ops/design_metrics.txt is the committed copy for checkouts without it.
std::string design_list() {
  std::string copy = read_text(source_path("tests/ops/design_metrics.txt"));
  std::string design = source_path("../shared/DESIGN.md");
  if (!exists(design)) {
    MESSAGE("no ../shared/DESIGN.md: using the committed copy of §2.6");
    return copy;
  }
  std::string block = design_block(read_text(design));
  CHECK_MESSAGE(block == copy, "DESIGN.md §2.6 changed: update tests/ops/design_metrics.txt (and deploy/) to match");
  return block;
}

// The families in a §2.6-style list.
std::map<std::string, Family> parse_families(const std::string& list) {
  std::map<std::string, Family> out;
  std::regex line_re(R"(^(\w+)(?:\{([^}]*)\})?\s+(\S+)(?:\s+(.*))?$)");
  std::regex note_re(R"((\w+): ([\w|]+))");
  for (const auto& line : mh::ops::lines(list)) {
    if (line.empty()) continue;
    if (line.starts_with("process_")) {  // "process_a, process_b, ...": standard process metrics
      std::stringstream s(line);
      for (std::string name; std::getline(s, name, ',');) {
        name.erase(0, name.find_first_not_of(' '));
        out[name] = Family{};
      }
      continue;
    }
    std::smatch m;
    REQUIRE_MESSAGE(std::regex_match(line, m, line_re), "unexpected line in §2.6: " << line);
    Family f;
    std::stringstream labels(m[2].str());
    for (std::string l; std::getline(labels, l, ',');) f.labels.insert(l);
    f.type = m[3] == "1" ? "gauge" : m[3].str();  // build_info: "always 1", a gauge
    std::string note = m[4];
    std::smatch n;
    if (std::regex_search(note, n, note_re) && f.labels.count(n[1])) {
      std::stringstream values(n[2].str());
      for (std::string v; std::getline(values, v, '|');) f.label_values[n[1]].insert(v);
    }
    out[m[1]] = f;
  }
  return out;
}

std::map<std::string, Family> design_families() { return parse_families(design_list()); }

// DESIGN.md §2.6 and the families issues added since (tests/ops/extra_metrics.txt, in
// the same format; docs/operations.md describes them).
std::map<std::string, Family> all_families() {
  auto out = design_families();
  for (auto& [name, f] : parse_families(read_text(source_path("tests/ops/extra_metrics.txt")))) {
    CHECK_MESSAGE(out.count(name) == 0, name << " is in DESIGN.md §2.6 now: remove it from extra_metrics.txt");
    out[name] = f;
  }
  return out;
}

// A name as used in PromQL, back to its family: histograms add _bucket, _sum, _count.
std::string family_of(const std::string& name, const std::map<std::string, Family>& families, bool& bucket) {
  bucket = false;
  for (const std::string suffix : {"_bucket", "_sum", "_count"}) {
    if (!name.ends_with(suffix)) continue;
    std::string base = name.substr(0, name.size() - suffix.size());
    auto it = families.find(base);
    if (it != families.end() && it->second.type == "histogram") {
      bucket = suffix == "_bucket";
      return base;
    }
  }
  return name;
}

// Labels Prometheus attaches to every scraped series (and `le` on histogram buckets).
const std::set<std::string> kTargetLabels{"instance", "job", "pod"};

const std::vector<std::string> kDeployFiles{"deploy/prometheus/rules.yml", "deploy/prometheus/rules_test.yml",
                                            "deploy/grafana/dashboards/mhloader.json", "docs/operations.md",
                                            "docs/control-plane.md"};

}  // namespace

TEST_CASE("metrics: DESIGN.md §2.6 lists the families with their labels and types") {
  auto families = design_families();
  CHECK(families.size() == 24);
  CHECK(families.at("mhloader_runs_total").labels == std::set<std::string>{"job", "outcome"});
  CHECK(families.at("mhloader_runs_total").label_values.at("outcome").count("partial") == 1);
  CHECK(families.at("mhloader_run_duration_seconds").type == "histogram");
  CHECK(families.count("process_open_fds") == 1);
}

TEST_CASE("metrics: every metric name, label and outcome in deploy/ and docs/operations.md is in DESIGN.md §2.6") {
  auto families = all_families();
  std::set<std::string> all_labels = kTargetLabels;
  all_labels.insert("le");
  for (const auto& [name, f] : families) all_labels.insert(f.labels.begin(), f.labels.end());

  std::regex name_re(R"(\b((?:mhloader|process)_[a-z][a-z0-9_]*)(\{[^}]*\})?)");
  std::regex matcher_re(R"re((\w+)\s*(=~|!~|!=|=)\s*"([^"]*)")re");
  std::regex grouping_re(R"(\b(?:by|without)\s*\(([^)]*)\))");
  std::set<std::string> used;
  for (const auto& file : kDeployFiles) {
    // JSON escapes the quotes of label matchers.
    std::string text = mh::ops::replace_all(read_text(source_path(file)), "\\\"", "\"");
    CAPTURE(file);
    for (std::sregex_iterator it(text.begin(), text.end(), name_re), end; it != end; ++it) {
      bool bucket = false;
      std::string name = family_of((*it)[1], families, bucket);
      auto fam = families.find(name);
      CHECK_MESSAGE(fam != families.end(), "'" << (*it)[1] << "' is not a DESIGN.md §2.6 metric");
      if (fam == families.end()) continue;
      used.insert(name);
      std::string selector = (*it)[2];
      for (std::sregex_iterator m(selector.begin(), selector.end(), matcher_re); m != end; ++m) {
        std::string label = (*m)[1];
        bool known = fam->second.labels.count(label) || kTargetLabels.count(label) || (bucket && label == "le");
        CHECK_MESSAGE(known, name << " has no label '" << label << "'");
        auto values = fam->second.label_values.find(label);
        std::string op = (*m)[2];
        if (values != fam->second.label_values.end() && (op == "=" || op == "=~")) {
          std::stringstream alternatives((*m)[3].str());
          for (std::string v; std::getline(alternatives, v, '|');) {
            CHECK_MESSAGE(values->second.count(v), name << ": '" << v << "' is not a value of " << label);
          }
        }
      }
    }
    for (std::sregex_iterator it(text.begin(), text.end(), grouping_re), end; it != end; ++it) {
      std::stringstream labels((*it)[1].str());
      for (std::string l; std::getline(labels, l, ',');) {
        l.erase(0, l.find_first_not_of(' '));
        l.erase(l.find_last_not_of(' ') + 1);
        if (!l.empty()) CHECK_MESSAGE(all_labels.count(l), "grouping by unknown label '" << l << "'");
      }
    }
  }
  // The rules and the dashboard cover what operators need (the issue's list).
  for (const char* needed :
       {"mhloader_credits_balance", "mhloader_credits_low", "mhloader_credits_charged_total", "mhloader_runs_total",
        "mhloader_run_duration_seconds", "mhloader_last_success_timestamp_seconds",
        "mhloader_next_run_timestamp_seconds", "mhloader_rows_loaded_total", "mhloader_upstream_up",
        "mhloader_upstream_requests_total", "mhloader_upstream_request_duration_seconds", "mhloader_submissions",
        "mhloader_postgres_up", "mhloader_config_last_reload_successful"}) {
    CHECK_MESSAGE(used.count(needed), needed << " is used nowhere in deploy/");
  }
}

TEST_CASE("metrics: the daemon exports every DESIGN.md §2.6 family with its names, types and labels") {
  auto families = all_families();
  mh::metrics::Metrics m("0.0.0-test", "abc");
  // Give the labelled families a series each so their labels show.
  m.upstream_request("GET /v1/account", "200", 0.2);
  m.upstream_retry("GET /v1/account", "429");
  m.set_upstream_up(true);
  m.set_credits(1200, false);
  m.credits_charged("ai_image_generator", 5);
  m.declare_jobs({"account"});
  m.run_started("account");
  m.run_finished("account", "succeeded", 1.5, {{"credits", 1}});
  m.load_finished("postgres", 0.2);
  m.set_submissions({{"uncertain", 1}});
  m.set_credit_budget("account", 200);
  m.set_credit_budget_used("account", 40);
  m.control_request("GET /api/v1/jobs", 200, 0.001);
  std::string text = m.serialize();

  std::regex type_re(R"(^# TYPE (\S+) (\S+)$)");
  std::regex sample_re(R"(^([a-z_:][a-z0-9_:]*)(?:\{([^}]*)\})? )");
  std::regex label_re(R"re((\w+)="(?:[^"\\]|\\.)*")re");
  std::set<std::string> exported;
  for (const auto& line : mh::ops::lines(text)) {
    std::smatch t;
    if (std::regex_match(line, t, type_re)) {
      std::string name = t[1];
      exported.insert(name);
      auto fam = families.find(name);
      CHECK_MESSAGE(fam != families.end(), "the daemon exports '" << name << "', which DESIGN.md §2.6 does not list");
      if (fam != families.end() && !fam->second.type.empty()) CHECK_MESSAGE(fam->second.type == t[2].str(), name);
      continue;
    }
    std::smatch s;
    if (line.starts_with("#") || !std::regex_search(line, s, sample_re)) continue;
    bool bucket = false;
    std::string name = family_of(s[1], families, bucket);
    auto fam = families.find(name);
    if (fam == families.end()) continue;  // reported above
    std::string labels = s[2];
    for (std::sregex_iterator it(labels.begin(), labels.end(), label_re), end; it != end; ++it) {
      std::string label = (*it)[1];
      CHECK_MESSAGE((fam->second.labels.count(label) || (bucket && label == "le")), name << " exports label " << label);
    }
  }
  // Every family, from the start (labelled ones without a known label set show HELP and TYPE).
  std::string missing;
  for (const auto& [name, f] : families) {
    if (!exported.count(name)) missing += " " + name;
  }
  CHECK_MESSAGE(missing.empty(), "DESIGN.md §2.6 families not exported:" << missing);
}

TEST_CASE(
    "metrics: rows_loaded labels only root tables, and nested tables named by upstream keys count under their root") {
  mh::metrics::Metrics m("0.0.0-test", "abc");
  m.declare_jobs({"account"});
  m.run_started("account");
  m.run_finished("account", "succeeded", 1.0,
                 {{"saved_items", 2},
                  {"saved_items__assets", 3},
                  {"saved_items__any_key_upstream_sends__deeper", 4},
                  {"_dlt_pipeline_state", 1}});
  const std::string text = m.serialize();
  CHECK(text.find("mhloader_rows_loaded_total{job=\"account\",table=\"saved_items\"} 9") != std::string::npos);
  CHECK(text.find("mhloader_rows_loaded_total{job=\"account\",table=\"_dlt_pipeline_state\"} 1") != std::string::npos);
  CHECK(text.find("saved_items__") == std::string::npos);
}
