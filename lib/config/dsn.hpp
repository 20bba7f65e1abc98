// PostgreSQL connection strings: find the password (to redact it) and print
// a DSN with the password as `***`. Both URI and keyword=value forms.
#pragma once

#include <string>
#include <string_view>

namespace mh::config {

// The password in the DSN, URL-decoded for URIs; empty when there is none.
std::string dsn_password(std::string_view dsn);

// The DSN with its password replaced by `***` (the form dlt prints).
std::string mask_dsn(std::string_view dsn);

}  // namespace mh::config
