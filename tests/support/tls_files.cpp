#include "support/tls_files.hpp"

#include <doctest/doctest.h>

#include "support/process.hpp"

namespace mh::test {

namespace {
void openssl(std::vector<std::string> args) {
  args.insert(args.begin(), "/usr/bin/openssl");
  auto r = run_process(args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}
void make_ca(const std::string& base, const std::string& name) {
  openssl({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=" + name, "-keyout",
           base + ".key", "-out", base + ".pem"});
}
}  // namespace

TlsFiles make_tls_files(const TempDir& dir) {
  const std::string d = dir.path();
  make_ca(d + "/ca", "mhloader test CA");
  make_ca(d + "/other-ca", "unrelated test CA");
  openssl({"req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", d + "/server.key", "-out",
           d + "/server.csr"});
  dir.write("ext.cnf", "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  openssl({"x509", "-req", "-in", d + "/server.csr", "-CA", d + "/ca.pem", "-CAkey", d + "/ca.key", "-CAcreateserial",
           "-days", "2", "-extfile", d + "/ext.cnf", "-out", d + "/server.pem"});
  return {d + "/ca.pem", d + "/server.pem", d + "/server.key", d + "/other-ca.pem"};
}

}  // namespace mh::test
