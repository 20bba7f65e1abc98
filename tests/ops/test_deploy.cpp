// deploy/: docker-compose.yml, the container config, Kubernetes manifests and the
// Grafana dashboard hold together: files they mount exist, names agree, the
// configuration they ship passes `mhloader check-config`.
#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <boost/json.hpp>
#include <set>

#include "ops/ops.hpp"
#include "support/temp_dir.hpp"

using mh::ops::exists;
using mh::ops::read_text;
using mh::ops::source_path;

namespace {

// The *_file secret names a config reads from $CREDENTIALS_DIRECTORY.
std::set<std::string> secret_files(const YAML::Node& cfg) {
  std::set<std::string> out;
  for (auto [section, key] :
       {std::pair{"magic_hour", "api_key_file"}, {"destination", "dsn_file"}, {"control", "token_file"}}) {
    if (cfg[section][key]) out.insert(cfg[section][key].as<std::string>());
  }
  return out;
}

// Runs the built mhloader's check-config on `config` with `secrets` as credential files.
mh::test::ProcessResult check_config(const std::string& config, const std::map<std::string, std::string>& secrets) {
  mh::test::TempDir creds;
  for (const auto& [name, value] : secrets) creds.write(name, value + "\n", 0400);
  mh::test::ProcessOptions o = mh::test::daemon_env();
  o.unset_env.insert(o.unset_env.end(),
                     {"MAGIC_HOUR_BASE_URL", "MHLOADER_LOG_LEVEL"});  // the compose config reads them
  o.env["CREDENTIALS_DIRECTORY"] = creds.path();
  return mh::test::run_process({MHLOADER_BIN, "check-config", "--config", config}, o);
}

std::vector<YAML::Node> load_all(const std::string& file) { return YAML::LoadAllFromFile(source_path(file)); }

}  // namespace

TEST_CASE("compose: the services, the sim profile, mounts, secrets and build targets hold together") {
  YAML::Node compose = YAML::LoadFile(source_path("deploy/docker-compose.yml"));
  const YAML::Node services = compose["services"];
  for (const char* s : {"postgres", "mhloader", "magichour-sim", "prometheus", "grafana"}) {
    CHECK_MESSAGE(services[s].IsMap(), "no service " << s);
  }
  CHECK(services["magichour-sim"]["profiles"][0].as<std::string>() == "sim");
  for (const char* s : {"postgres", "mhloader", "prometheus", "grafana"}) CHECK_FALSE(services[s]["profiles"]);

  // Bind mounts (relative paths) name files and folders of deploy/.
  int binds = 0;
  for (const auto& service : services) {
    for (const auto& v : service.second["volumes"]) {
      std::string spec = v.as<std::string>();
      if (!spec.starts_with(".")) continue;
      ++binds;
      std::string host = spec.substr(0, spec.find(':'));
      CHECK_MESSAGE(exists(source_path("deploy/" + host)), spec);
    }
  }
  CHECK(binds >= 4);
  CHECK(exists(source_path("deploy/prometheus/prometheus.yml")));
  CHECK(exists(source_path("deploy/prometheus/rules.yml")));
  CHECK(exists(source_path("deploy/grafana/provisioning/datasources/prometheus.yml")));
  CHECK(exists(source_path("deploy/grafana/provisioning/dashboards/mhloader.yml")));

  // mhloader gets every secret file its config names; each secret is defined.
  YAML::Node cfg = YAML::LoadFile(source_path("deploy/mhloader.yaml"));
  std::set<std::string> given;
  for (const auto& s : services["mhloader"]["secrets"]) given.insert(s.as<std::string>());
  CHECK(given == secret_files(cfg));
  for (const auto& service : services) {
    for (const auto& s : service.second["secrets"]) CHECK_MESSAGE(compose["secrets"][s.as<std::string>()], s);
  }
  CHECK(services["mhloader"]["volumes"][0].as<std::string>() == "./mhloader.yaml:/etc/mhloader/mhloader.yaml:ro");

  // Build targets are stages of the Dockerfile.
  std::string dockerfile = read_text(source_path("Dockerfile"));
  for (const char* s : {"mhloader", "magichour-sim"}) {
    std::string target = services[s]["build"]["target"].as<std::string>();
    CHECK_MESSAGE(dockerfile.find(" AS " + target + "\n") != std::string::npos, target);
    CHECK(services[s]["build"]["context"].as<std::string>() == "..");
  }
  // Grafana's provider path is where the dashboards are mounted.
  YAML::Node provider = YAML::LoadFile(source_path("deploy/grafana/provisioning/dashboards/mhloader.yml"));
  std::string path = provider["providers"][0]["options"]["path"].as<std::string>();
  bool mounted = false;
  for (const auto& v : services["grafana"]["volumes"]) {
    mounted = mounted || v.as<std::string>() == "./grafana/dashboards:" + path + ":ro";
  }
  CHECK_MESSAGE(mounted, path);
}

TEST_CASE("containers: deploy/mhloader.yaml passes check-config with its secrets as files") {
  auto r = check_config(source_path("deploy/mhloader.yaml"),
                        {{"magic_hour_api_key", "mhk_live_compose"},
                         {"control_token", "t0ken"},
                         {"pg_dsn", "postgresql://mhloader:pw@postgres:5432/magic_hour"}});
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out.find("listen: 0.0.0.0:8686") != std::string::npos);
  CHECK(r.out.find("mhk_live_compose") == std::string::npos);

  // Without them it fails, naming the missing file: the check above is not vacuous.
  auto missing = check_config(source_path("deploy/mhloader.yaml"), {{"magic_hour_api_key", "k"}});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("control_token") != std::string::npos);
}

TEST_CASE("k8s: a Deployment of 2 with probes, a Service, the ConfigMap and the Secret agree") {
  std::map<std::string, YAML::Node> by_kind;
  for (const char* file : {"deploy/k8s/deployment.yaml", "deploy/k8s/service.yaml", "deploy/k8s/configmap.yaml",
                           "deploy/k8s/secret.yaml"}) {
    for (const auto& doc : load_all(file)) by_kind[doc["kind"].as<std::string>()] = doc;
  }
  YAML::Node kustomization = YAML::LoadFile(source_path("deploy/k8s/kustomization.yaml"));
  CHECK(kustomization["resources"].size() == 4);
  for (const auto& r : kustomization["resources"]) CHECK(exists(source_path("deploy/k8s/" + r.as<std::string>())));

  YAML::Node dep = by_kind.at("Deployment");
  CHECK(dep["spec"]["replicas"].as<int>() == 2);
  YAML::Node pod = dep["spec"]["template"];
  YAML::Node c = pod["spec"]["containers"][0];
  CHECK(c["livenessProbe"]["httpGet"]["path"].as<std::string>() == "/-/healthy");
  CHECK(c["readinessProbe"]["httpGet"]["path"].as<std::string>() == "/-/ready");
  CHECK(c["ports"][0]["containerPort"].as<int>() == 8686);
  CHECK(c["ports"][0]["name"].as<std::string>() == c["livenessProbe"]["httpGet"]["port"].as<std::string>());
  CHECK(pod["spec"]["securityContext"]["runAsNonRoot"].as<bool>());
  CHECK(c["securityContext"]["readOnlyRootFilesystem"].as<bool>());
  CHECK_FALSE(c["securityContext"]["allowPrivilegeEscalation"].as<bool>());
  // The image's user (Dockerfile: useradd --uid 10001).
  CHECK(read_text(source_path("Dockerfile"))
            .find("--uid " + pod["spec"]["securityContext"]["runAsUser"].as<std::string>()) != std::string::npos);

  std::map<std::string, std::string> mounts;
  for (const auto& m : c["volumeMounts"]) mounts[m["mountPath"].as<std::string>()] = m["name"].as<std::string>();
  CHECK(mounts.at("/etc/mhloader") == "config");
  CHECK(mounts.at("/run/secrets") == "secrets");  // the image's CREDENTIALS_DIRECTORY
  CHECK(mounts.count("/var/lib/mhloader") == 1);
  std::map<std::string, YAML::Node> volumes;
  for (const auto& v : pod["spec"]["volumes"]) volumes[v["name"].as<std::string>()] = YAML::Node(v);
  CHECK(volumes.at("config")["configMap"]["name"].as<std::string>() ==
        by_kind.at("ConfigMap")["metadata"]["name"].as<std::string>());
  CHECK(volumes.at("secrets")["secret"]["secretName"].as<std::string>() ==
        by_kind.at("Secret")["metadata"]["name"].as<std::string>());

  YAML::Node svc = by_kind.at("Service");
  for (const auto& kv : svc["spec"]["selector"]) {
    CHECK(pod["metadata"]["labels"][kv.first.as<std::string>()].as<std::string>() == kv.second.as<std::string>());
  }
  CHECK(svc["spec"]["ports"][0]["targetPort"].as<std::string>() == "http");

  // The ConfigMap carries deploy/mhloader.yaml verbatim; with the Secret's keys as
  // files it passes check-config.
  std::string config = by_kind.at("ConfigMap")["data"]["mhloader.yaml"].as<std::string>();
  CHECK(config == read_text(source_path("deploy/mhloader.yaml")));
  std::map<std::string, std::string> secrets;
  for (const auto& kv : by_kind.at("Secret")["stringData"])
    secrets[kv.first.as<std::string>()] = kv.second.as<std::string>();
  std::set<std::string> names;
  for (const auto& [k, v] : secrets) names.insert(k);
  CHECK(names == secret_files(YAML::Load(config)));
  mh::test::TempDir dir;
  auto r = check_config(dir.write("mhloader.yaml", config), secrets);
  CHECK_MESSAGE(r.exit_code == 0, r.err);
}

TEST_CASE("grafana: the dashboard is valid JSON with the panels operators need") {
  auto doc = boost::json::parse(read_text(source_path("deploy/grafana/dashboards/mhloader.json"))).as_object();
  CHECK(doc.at("uid").as_string() == "mhloader");
  // The datasource is a variable, so the dashboard also imports into another Grafana.
  bool ds_var = false;
  for (const auto& v : doc.at("templating").at("list").as_array()) {
    ds_var = ds_var || (v.at("name").as_string() == "datasource" && v.at("type").as_string() == "datasource");
  }
  CHECK(ds_var);
  std::set<std::int64_t> ids;
  std::string titles;
  int queries = 0;
  for (const auto& p : doc.at("panels").as_array()) {
    const auto& panel = p.as_object();
    CHECK_MESSAGE(ids.insert(panel.at("id").as_int64()).second, "duplicate panel id");
    titles += std::string(panel.at("title").as_string()) + "\n";
    if (panel.at("type").as_string() == "row") continue;
    CHECK(panel.at("datasource").at("uid").as_string() == "${datasource}");
    for (const auto& t : panel.at("targets").as_array()) {
      CHECK(!t.at("expr").as_string().empty());
      CHECK(t.at("datasource").at("uid").as_string() == "${datasource}");
      ++queries;
    }
  }
  CHECK(queries >= 20);
  for (const char* wanted : {"Credit balance", "Burn rate", "Spend per resource", "Runs by outcome", "Run duration",
                             "Rows loaded per table", "Upstream latency", "Upstream errors", "Submissions by state"}) {
    CHECK_MESSAGE(titles.find(wanted) != std::string::npos, "no panel '" << wanted << "'");
  }
  // The provisioned datasource is the compose Prometheus.
  YAML::Node ds = YAML::LoadFile(source_path("deploy/grafana/provisioning/datasources/prometheus.yml"));
  CHECK(ds["datasources"][0]["type"].as<std::string>() == "prometheus");
  CHECK(ds["datasources"][0]["url"].as<std::string>() == "http://prometheus:9090");
}
