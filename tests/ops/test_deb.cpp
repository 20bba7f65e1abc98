// The Debian package: CPack builds it from this build; dpkg installs it into a
// folder of its own (--root, maintainer scripts run chrootless with DPKG_ROOT, so
// the machine itself is not touched), and the installed files are checked, down
// to `mhloader check-config` on the installed config and the conffile surviving
// an upgrade. Only in plain builds (tests/CMakeLists.txt).
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <regex>
#include <set>

#include "ops/ops.hpp"
#include "support/temp_dir.hpp"

using mh::ops::exists;
using mh::ops::read_text;
using mh::ops::source_path;
using mh::ops::tool;

namespace {

std::string build_deb(const mh::test::TempDir& dir) {
  auto r = tool({CPACK_BIN, "--config", std::string(MHLOADER_BINARY_DIR) + "/CPackConfig.cmake", "-G", "DEB", "-B",
                 dir.path() + "/out"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.out << r.err);
  std::string deb = dir.path() + "/out/mhloader_" MHLOADER_VERSION "_amd64.deb";
  REQUIRE_MESSAGE(exists(deb), r.out);
  return deb;
}

// dpkg on an empty database of its own under `root`.
mh::test::ProcessResult dpkg(const std::string& root, std::vector<std::string> args) {
  // --force-not-root: a developer's test run need not be root (CI is; then it does nothing).
  std::vector<std::string> argv{
      "dpkg", "--root=" + root, "--log=/dev/null", "--force-script-chrootless", "--force-depends", "--force-not-root"};
  argv.insert(argv.end(), args.begin(), args.end());
  mh::test::ProcessOptions o;
  o.env["DEBIAN_FRONTEND"] = "noninteractive";
  return tool(argv, o);
}

std::string new_root(const mh::test::TempDir& dir) {
  std::string root = dir.path() + "/root";
  for (const char* d : {"var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers"}) {
    std::filesystem::create_directories(root + "/" + d);
  }
  dir.write("root/var/lib/dpkg/status", "");
  return root;
}

}  // namespace

TEST_CASE("deb: the package holds the binary, unit, sysusers entry, docs and the config as a conffile") {
  mh::test::TempDir dir;
  std::string deb = build_deb(dir);
  MESSAGE("package " << std::filesystem::path(deb).filename().string() << ": " << std::filesystem::file_size(deb)
                     << " bytes (this build: " << MHLOADER_BIN << ")");

  auto contents = tool({"dpkg-deb", "--contents", deb});
  REQUIRE(contents.exit_code == 0);
  for (const char* file :
       {"./usr/bin/mhloader", "./usr/lib/systemd/system/mhloader.service", "./usr/lib/sysusers.d/mhloader.conf",
        "./etc/mhloader/mhloader.yaml", "./usr/share/doc/mhloader/operations.md"}) {
    std::regex line("(^|\n)([-drwx]{10}) root/root +[0-9]+ [0-9-]+ [0-9:]+ " + std::string(file) + "\n");
    std::smatch m;
    CHECK_MESSAGE(std::regex_search(contents.out, m, line), file << " missing or not root-owned:\n" << contents.out);
  }

  auto field = [&](const std::string& name) {
    auto r = tool({"dpkg-deb", "--field", deb, name});
    REQUIRE(r.exit_code == 0);
    return r.out;
  };
  CHECK(field("Package") == "mhloader\n");
  CHECK(field("Version") == MHLOADER_VERSION "\n");
  // Depends: dpkg-shlibdeps's library packages (the same the Dockerfile installs).
  std::string depends = field("Depends");
  for (const auto& p : mh::ops::needed_packages(MHLOADER_BIN)) {
    CHECK_MESSAGE(depends.find(p) != std::string::npos, p << " missing from Depends: " << depends);
  }
  CHECK(depends.find("systemd | adduser") != std::string::npos);

  mh::test::TempDir control;
  REQUIRE(tool({"dpkg-deb", "--control", deb, control.path() + "/DEBIAN"}).exit_code == 0);
  CHECK(read_text(control.path() + "/DEBIAN/conffiles") == "/etc/mhloader/mhloader.yaml\n");
  for (const char* script : {"postinst", "prerm", "postrm"}) {
    struct stat st {};
    REQUIRE(::stat((control.path() + "/DEBIAN/" + script).c_str(), &st) == 0);
    CHECK_MESSAGE((st.st_mode & 0777) == 0755, script);
  }
}

TEST_CASE("deb: dpkg installs it into a root: user created, check-config passes, conffile kept on upgrade, purge") {
  mh::test::TempDir dir;
  std::string deb = build_deb(dir);
  std::string root = new_root(dir);

  auto install = dpkg(root, {"-i", deb});
  REQUIRE_MESSAGE(install.exit_code == 0, install.out << install.err);
  auto status = tool({"dpkg", "--root=" + root, "-s", "mhloader"});
  CHECK(status.out.find("Status: install ok installed") != std::string::npos);
  CHECK(status.out.find("Conffiles:\n /etc/mhloader/mhloader.yaml ") != std::string::npos);

  // The files, where the unit expects them; the user the unit runs as.
  CHECK(::access((root + "/usr/bin/mhloader").c_str(), X_OK) == 0);
  CHECK(read_text(root + "/etc/mhloader/mhloader.yaml") == read_text(source_path("config/mhloader.yaml")));
  CHECK(read_text(root + "/usr/lib/systemd/system/mhloader.service") ==
        read_text(source_path("systemd/mhloader.service")));
  std::smatch user;
  std::string passwd = read_text(root + "/etc/passwd");
  REQUIRE_MESSAGE(
      std::regex_search(passwd, user,
                        std::regex(R"((^|\n)mhloader:x:([0-9]+):[0-9]+:[^:]*:/var/lib/mhloader:(/usr/sbin/nologin))")),
      passwd);
  CHECK(std::stoi(user[2]) < 1000);  // a system user
  CHECK(read_text(root + "/etc/group").find("mhloader:x:") != std::string::npos);

  // The installed binary validates the installed config, with the secrets systemd
  // would pass through LoadCredential= (see the unit) in $CREDENTIALS_DIRECTORY.
  mh::test::TempDir creds;
  creds.write("magic_hour_api_key", "mhk_live_DEBTEST\n", 0400);
  creds.write("control_token", "deb-token\n", 0400);
  mh::test::ProcessOptions o = mh::test::daemon_env();
  o.env["CREDENTIALS_DIRECTORY"] = creds.path();
  auto check = mh::test::run_process(
      {root + "/usr/bin/mhloader", "check-config", "--config", root + "/etc/mhloader/mhloader.yaml"}, o);
  CHECK_MESSAGE(check.exit_code == 0, check.err);
  CHECK(check.err.find(": configuration OK (") != std::string::npos);
  CHECK(check.out.find("mhk_live_DEBTEST") == std::string::npos);

  // The installed unit with the installed binary passes systemd-analyze verify.
  mh::test::TempDir units;
  std::string unit =
      units.write("mhloader.service",
                  mh::ops::replace_all(read_text(root + "/usr/lib/systemd/system/mhloader.service"),
                                       "ExecStart=/usr/bin/mhloader ", "ExecStart=" + root + "/usr/bin/mhloader "));
  auto verify = tool({"systemd-analyze", "verify", unit});
  CHECK_MESSAGE((verify.exit_code == 0 && verify.err.empty()), verify.err);

  // An edited config survives reinstalling (an upgrade); postinst runs again without harm.
  std::string edited = read_text(root + "/etc/mhloader/mhloader.yaml") + "# edited by the operator\n";
  dir.write("root/etc/mhloader/mhloader.yaml", edited);
  auto again = dpkg(root, {"--force-confold", "-i", deb});
  CHECK_MESSAGE(again.exit_code == 0, again.out << again.err);
  CHECK(read_text(root + "/etc/mhloader/mhloader.yaml") == edited);
  CHECK(std::regex_search(read_text(root + "/etc/passwd"), std::regex("(^|\n)mhloader:")));

  // Remove keeps the conffile; purge removes it.
  auto remove = dpkg(root, {"-r", "mhloader"});
  CHECK_MESSAGE(remove.exit_code == 0, remove.out << remove.err);
  CHECK_FALSE(exists(root + "/usr/bin/mhloader"));
  CHECK(exists(root + "/etc/mhloader/mhloader.yaml"));
  auto purge = dpkg(root, {"-P", "mhloader"});
  CHECK_MESSAGE(purge.exit_code == 0, purge.out << purge.err);
  CHECK_FALSE(exists(root + "/etc/mhloader/mhloader.yaml"));
}
