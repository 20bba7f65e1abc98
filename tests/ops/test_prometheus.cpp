// deploy/prometheus and the Grafana dashboard's queries, checked by promtool
// (Debian's `prometheus` package): rule syntax, rule unit tests, the compose
// Prometheus config, and every dashboard expression as PromQL.
#include <doctest/doctest.h>

#include <boost/json.hpp>

#include "ops/ops.hpp"
#include "support/temp_dir.hpp"

using mh::ops::read_text;
using mh::ops::source_path;
using mh::ops::tool;

namespace {

// Every "expr" of the dashboard's panel targets, with Grafana's variables filled in.
std::vector<std::string> dashboard_exprs() {
  auto doc = boost::json::parse(read_text(source_path("deploy/grafana/dashboards/mhloader.json")));
  std::vector<std::string> out;
  for (const auto& panel : doc.at("panels").as_array()) {
    const auto& p = panel.as_object();
    if (!p.contains("targets")) continue;
    for (const auto& t : p.at("targets").as_array()) {
      std::string e(t.at("expr").as_string());
      for (auto [var, value] :
           {std::pair{"$__rate_interval", "5m"}, {"$__interval", "1m"}, {"$__range", "1d"}, {"$job", ".*"}}) {
        e = mh::ops::replace_all(e, var, value);
      }
      out.push_back(e);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("prometheus: promtool check rules accepts deploy/prometheus/rules.yml") {
  auto r = tool({"promtool", "check", "rules", source_path("deploy/prometheus/rules.yml")});
  CHECK_MESSAGE(r.exit_code == 0, r.out << r.err);
  CHECK(r.out.find("SUCCESS") != std::string::npos);
}

TEST_CASE("prometheus: the alert rules pass their unit tests (promtool test rules)") {
  auto r = tool({"promtool", "test", "rules", source_path("deploy/prometheus/rules_test.yml")});
  CHECK_MESSAGE(r.exit_code == 0, r.out << r.err);
  // Every alert the rules define is exercised by at least one test.
  std::string rules = read_text(source_path("deploy/prometheus/rules.yml"));
  std::string tests = read_text(source_path("deploy/prometheus/rules_test.yml"));
  int alerts = 0;
  for (const auto& line : mh::ops::lines(rules)) {
    auto at = line.find("- alert: ");
    if (at == std::string::npos) continue;
    ++alerts;
    std::string name = line.substr(at + 9);
    CHECK_MESSAGE(tests.find("alertname: " + name + "\n") != std::string::npos, name << " has no unit test");
  }
  CHECK(alerts >= 8);
}

TEST_CASE("prometheus: promtool check config accepts the compose Prometheus config") {
  auto r = tool({"promtool", "check", "config", source_path("deploy/prometheus/prometheus.yml")});
  CHECK_MESSAGE(r.exit_code == 0, r.out << r.err);
}

TEST_CASE("grafana: every dashboard query is valid PromQL") {
  auto exprs = dashboard_exprs();
  REQUIRE(exprs.size() >= 15);
  // promtool parses the expressions of recording rules: one rule per query.
  std::string rules = "groups:\n  - name: dashboard\n    rules:\n";
  for (std::size_t i = 0; i < exprs.size(); ++i) {
    rules += "      - record: dashboard:query_" + std::to_string(i) +
             "\n        expr: " + boost::json::serialize(boost::json::string(exprs[i])) + "\n";
  }
  mh::test::TempDir dir;
  auto r = tool({"promtool", "check", "rules", dir.write("dashboard_rules.yml", rules)});
  CHECK_MESSAGE(r.exit_code == 0, r.out << r.err << "\n" << rules);
}
