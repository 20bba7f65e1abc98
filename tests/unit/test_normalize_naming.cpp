// The snake_case naming convention against the examples in docs/dlt-layout.md §Naming.
#include <doctest/doctest.h>

#include <string>

#include "normalize/naming.hpp"
#include "normalize/row_id.hpp"

using mh::normalize::normalize_identifier;
using mh::normalize::normalize_path;

TEST_CASE("naming: snake_case examples from dlt") {
  CHECK(normalize_identifier("camelCaseName") == "camel_case_name");
  CHECK(normalize_identifier("HTTPStatus") == "http_status");
  CHECK(normalize_identifier("getHTTPResponseCode") == "get_http_response_code");
  CHECK(normalize_identifier("userID") == "user_id");
  CHECK(normalize_identifier("v2Api") == "v2_api");
  CHECK(normalize_identifier("2fast") == "_2fast");
  CHECK(normalize_identifier("123") == "_123");
  CHECK(normalize_identifier("trailing_") == "trailingx");
  CHECK(normalize_identifier("Price$") == "pricex");
  CHECK(normalize_identifier("\xC3\xBCmlaut") == "_mlaut");  // ümlaut
  CHECK(normalize_identifier("\xC3\x9Cn\xC3\xAF"
                             "code") == "_n_code");  // Ünïcode
  CHECK(normalize_identifier("already_snake") == "already_snake");
  CHECK(normalize_identifier("  spaced  ") == "spaced");
}

TEST_CASE("naming: reduced alphabet and runs of other characters") {
  CHECK(normalize_identifier("a+b") == "axb");
  CHECK(normalize_identifier("a-b") == "a_b");
  CHECK(normalize_identifier("a*b") == "axb");
  CHECK(normalize_identifier("e@mail") == "eamail");
  CHECK(normalize_identifier("a|b") == "alb");
  CHECK(normalize_identifier("a b.c") == "a_b_c");
  CHECK(normalize_identifier("a  $$ b") == "a_b");
  CHECK(normalize_identifier("a___b") == "a_b");
  CHECK(normalize_identifier("$") == "x");
}

TEST_CASE("naming: keys are paths split on __") {
  CHECK(normalize_path("foo__bar") == "foo__bar");
  CHECK(normalize_path("Foo__BarBaz") == "foo__bar_baz");
  CHECK(normalize_path("__a__b__") == "a__b");
  CHECK(normalize_path("a___b") == "a___b");
  CHECK(normalize_path("settings") == "settings");
  CHECK(normalize_path("") == "_empty");
  CHECK(normalize_path("   ") == "_empty");
  CHECK(normalize_path("____") == "_empty");
}

TEST_CASE("naming: 63-character shortening with the shake_128 tag (verified example)") {
  std::string original = "a_very_long_field_name_that_goes_on_and_on_and_on_and_on_and_on_and_on_and_on_x";
  CHECK(mh::normalize::identifier_tag(original) == "rvdfrw");
  std::string shortened = normalize_path(original);
  CHECK(shortened == "a_very_long_field_name_that_grvdfrwnd_on_and_on_and_on_and_on_x");
  CHECK(shortened.size() == 63);
  CHECK(normalize_identifier(original) == shortened);
  // Exactly 63 stays as it is.
  std::string fits(63, 'a');
  CHECK(normalize_identifier(fits) == fits);
  CHECK(normalize_identifier(fits + "a").size() == 63);
}

TEST_CASE("naming: fragments are joined and shortened as one identifier") {
  using mh::normalize::shorten_fragments;
  CHECK(shorten_fragments({"image_projects", "downloads"}) == "image_projects__downloads");
  CHECK(shorten_fragments({"a", "", "b"}) == "a__b");
  std::string long_part(60, 'p');
  std::string joined = "table__" + long_part;
  std::string s = shorten_fragments({"table", long_part});
  CHECK(s.size() == 63);
  CHECK(s == mh::normalize::shorten_identifier(joined, joined));
  CHECK(s.starts_with("table__"));
}

TEST_CASE("row ids: nested ids are dlt's shake_128 hash (verified example) and root ids are random") {
  CHECK(mh::normalize::nested_row_id("vylDQI3HkG0prQ", "image_projects__downloads", 0) == "IFe7YCAN3ReP/g");
  CHECK(mh::normalize::nested_row_id("vylDQI3HkG0prQ", "image_projects__downloads", 1) != "IFe7YCAN3ReP/g");
  std::string long_parent(300, 'p');
  CHECK(mh::normalize::nested_row_id(long_parent, "t", 7).size() == 14);

  mh::normalize::RootIdSource ids;
  std::string a = ids.next();
  std::string b = ids.next();
  CHECK(a.size() == 14);
  CHECK(a != b);
  for (char c : a) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
    CHECK(ok);
  }
  // The pool refills without repeating itself.
  std::string last;
  for (int i = 0; i < 1000; ++i) {
    std::string next = ids.next();
    CHECK(next != last);
    last = next;
  }
}
