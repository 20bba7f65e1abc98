// A throwaway CA and a server certificate for 127.0.0.1/localhost, made with
// the openssl command line in a temp folder (for TLS tests).
#pragma once

#include <string>

#include "support/temp_dir.hpp"

namespace mh::test {

struct TlsFiles {
  std::string ca;        // CA certificate (PEM): what clients trust
  std::string cert;      // server certificate signed by the CA
  std::string key;       // its private key
  std::string other_ca;  // a second, unrelated CA (for "wrong CA" tests)
};

TlsFiles make_tls_files(const TempDir& dir);

}  // namespace mh::test
