// net::parse_url on hosts it must refuse (found by the fuzz_url target) and on
// the shapes it accepts.
#include <doctest/doctest.h>

#include <string>

#include "net/url.hpp"

TEST_CASE("url: a host with characters a host name cannot have is refused") {
  std::string error;
  // Found by fuzzing: "Y+:1]" was taken as the host and printed back as "[y+:1]]".
  for (const char* bad : {"http://Y+:1]:9/a", "http://a:b:80/", "http://[::1%25x]/", "http://[g::1]/"}) {
    CAPTURE(bad);
    CHECK_FALSE(mh::net::parse_url(bad, error).has_value());
    CHECK(error.find("invalid host") != std::string::npos);
  }
  // A space or a tab is refused before the host is looked at, as every control character is.
  for (const char* bad : {"http://ex ample.com/", "http://exa\tmple.com/"}) {
    CAPTURE(bad);
    CHECK_FALSE(mh::net::parse_url(bad, error).has_value());
    CHECK(error.find("control character or a space") != std::string::npos);
  }
  for (const char* good : {"http://127.0.0.1:8080/x", "https://api.magichour.ai/v1", "http://[::1]:9/",
                           "http://my_host/", "http://[::ffff:127.0.0.1]/"}) {
    CAPTURE(good);
    auto u = mh::net::parse_url(good, error);
    REQUIRE(u.has_value());
    CHECK(mh::net::parse_url(u->origin() + u->target, error).has_value());  // prints back parseable
  }
}
