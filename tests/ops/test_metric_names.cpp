// The metric families documented in docs/control-plane.md §Metrics against the code and
// deploy/: the daemon exports exactly those families with their types and labels, and
// every name, label and label value used in deploy/ (alert rules, their tests, the
// Grafana dashboard) and the docs is one of them.
#include <doctest/doctest.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "db/states.hpp"
#include "metrics/metrics.hpp"
#include "ops/ops.hpp"
#include "support/markdown.hpp"

using mh::ops::read_text;
using mh::ops::source_path;

namespace {

struct Family {
  std::set<std::string> labels;
  std::string type;                                           // counter, gauge, histogram; "" when not given
  std::map<std::string, std::set<std::string>> label_values;  // from notes such as "outcome: a|b"
};

// docs/control-plane.md §Metrics: the table of families (name, type, labels) and the
// table of closed label value sets. The docs are the list of record; this file checks
// the code and deploy/ against them.
std::string metrics_section() {
  return mh::test::markdown_section(read_text(source_path("docs/control-plane.md")), "## Metrics");
}

std::map<std::string, Family> documented_families() {
  std::string section = metrics_section();
  std::map<std::string, Family> out;
  for (const auto& row : mh::test::markdown_table(section)) {
    std::string name = mh::test::unquote(row.at("family"));
    REQUIRE_MESSAGE(std::regex_match(name, std::regex("[a-z_]+")), "unexpected family cell: " << row.at("family"));
    Family f;
    std::string type = row.at("type");
    f.type = type.substr(0, type.find(' '));  // "gauge (always 1)", "gauge 0/1"
    REQUIRE_MESSAGE((f.type == "counter" || f.type == "gauge" || f.type == "histogram"), name << ": " << type);
    for (const auto& l : mh::test::code_spans(row.at("labels"))) f.labels.insert(l);
    CHECK_MESSAGE(out.count(name) == 0, name << " is listed twice");
    out[name] = f;
  }
  // The second table: closed sets of label values.
  auto values_at = section.find("| family | label | values |");
  REQUIRE_MESSAGE(values_at != std::string::npos, "docs/control-plane.md §Metrics has no label values table");
  for (const auto& row : mh::test::markdown_table(section.substr(values_at))) {
    std::string name = mh::test::unquote(row.at("family"));
    std::string label = mh::test::unquote(row.at("label"));
    REQUIRE_MESSAGE(out.count(name), "label values for unknown family " << name);
    CHECK_MESSAGE(out[name].labels.count(label), name << " has no label " << label);
    for (const auto& v : mh::test::code_spans(row.at("values"))) out[name].label_values[label].insert(v);
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

TEST_CASE("metrics: docs/control-plane.md lists the families with their labels, types and closed label values") {
  auto families = documented_families();
  CHECK(families.size() == 26);
  CHECK(families.at("mhloader_runs_total").labels == std::set<std::string>{"job", "outcome"});
  CHECK(families.at("mhloader_runs_total").label_values.at("outcome").count("partial") == 1);
  CHECK(families.at("mhloader_run_duration_seconds").type == "histogram");
  CHECK(families.count("process_open_fds") == 1);
  CHECK(families.at("mhloader_upstream_up").labels.empty());
  // The documented value sets are the code's: run outcomes (every final run status) and
  // ledger states.
  std::set<std::string> outcomes, states;
  for (const char* s : mh::db::kRunStatuses) {
    if (std::string(s) != "running") outcomes.insert(s);
  }
  for (const char* s : mh::db::kSubmissionStates) states.insert(s);
  CHECK(families.at("mhloader_runs_total").label_values.at("outcome") == outcomes);
  CHECK(families.at("mhloader_submissions").label_values.at("state") == states);
}

TEST_CASE("metrics: every metric name, label and outcome in deploy/ and the docs is a documented one") {
  auto families = documented_families();
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
      CHECK_MESSAGE(fam != families.end(), "'" << (*it)[1] << "' is not a metric of docs/control-plane.md §Metrics");
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

TEST_CASE("metrics: the daemon exports every documented family with its names, types and labels, and no other") {
  auto families = documented_families();
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
      CHECK_MESSAGE(fam != families.end(),
                    "the daemon exports '" << name << "', which docs/control-plane.md §Metrics does not list");
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
  CHECK_MESSAGE(missing.empty(), "documented families not exported:" << missing);
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
