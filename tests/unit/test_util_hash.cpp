// Hash, encoding and float-repr helpers against published test vectors and
// CPython's output.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>

#include "util/codec.hpp"
#include "util/hash.hpp"
#include "util/py_float.hpp"
#include "util/sorted_json.hpp"

namespace {
std::string hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}
}  // namespace

TEST_CASE("hash: SHA3-256 and SHAKE128 match the FIPS 202 vectors") {
  CHECK(hex(mh::util::sha3_256("")) == "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a");
  CHECK(hex(mh::util::sha3_256("abc")) == "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532");
  CHECK(hex(mh::util::shake128("", 16)) == "7f9c2ba4e88f827d616045507605853e");
  mh::util::Sha3_256 h;
  h.update("a");
  h.update("bc");
  CHECK(hex(h.digest()) == hex(mh::util::sha3_256("abc")));
}

TEST_CASE("codec: base64 per RFC 4648, with and without padding") {
  CHECK(mh::util::base64_encode("") == "");
  CHECK(mh::util::base64_encode("f") == "Zg==");
  CHECK(mh::util::base64_encode("fo") == "Zm8=");
  CHECK(mh::util::base64_encode("foo") == "Zm9v");
  CHECK(mh::util::base64_encode("foobar") == "Zm9vYmFy");
  CHECK(mh::util::base64_encode("fo", false) == "Zm8");
  CHECK(mh::util::base64_encode(std::string("\xfb\xff", 2)) == "+/8=");
  CHECK(mh::util::base64_decode("Zm9vYmFy") == "foobar");
  CHECK(mh::util::base64_decode("Zm8") == "fo");
  CHECK(mh::util::base64_decode("Zm8=") == "fo");
  CHECK_THROWS_AS(mh::util::base64_decode("Zm$v"), std::invalid_argument);
}

TEST_CASE("codec: zlib round trip and corrupt input") {
  std::string data(10000, 'x');
  data += "tail";
  std::string z = mh::util::zlib_compress(data, 9);
  CHECK(z.size() < data.size());
  CHECK(static_cast<unsigned char>(z[0]) == 0x78);  // a zlib header, as Python's zlib.compress writes
  CHECK(mh::util::zlib_decompress(z) == data);
  CHECK_THROWS_AS(mh::util::zlib_decompress("not zlib"), std::runtime_error);
  CHECK_THROWS_AS(mh::util::zlib_decompress(z.substr(0, z.size() / 2)), std::runtime_error);
}

TEST_CASE("py_float: repr matches CPython") {
  using mh::util::python_float_repr;
  CHECK(python_float_repr(1795731604.105738) == "1795731604.105738");
  CHECK(python_float_repr(1795731629.9396772) == "1795731629.9396772");
  CHECK(python_float_repr(1795731629.55333) == "1795731629.55333");
  CHECK(python_float_repr(2.0) == "2.0");
  CHECK(python_float_repr(0.1) == "0.1");
  CHECK(python_float_repr(2.5) == "2.5");
  CHECK(python_float_repr(-0.0) == "-0.0");
  CHECK(python_float_repr(1e15) == "1000000000000000.0");
  CHECK(python_float_repr(1e16) == "1e+16");
  CHECK(python_float_repr(1.5e16) == "1.5e+16");
  CHECK(python_float_repr(0.0001) == "0.0001");
  CHECK(python_float_repr(0.00001) == "1e-05");
  CHECK(python_float_repr(1.5e-7) == "1.5e-07");
  CHECK(python_float_repr(1e100) == "1e+100");
  CHECK(python_float_repr(123456789.125) == "123456789.125");
  CHECK(python_float_repr(std::numeric_limits<double>::infinity()) == "inf");
  CHECK(python_float_repr(-std::numeric_limits<double>::infinity()) == "-inf");
  CHECK(python_float_repr(std::nan("")) == "nan");
}

TEST_CASE("sorted_json: keys sorted at every level, compact") {
  boost::json::value v = {{"b", 1}, {"a", {{"z", true}, {"y", nullptr}}}, {"c", boost::json::array{3, "x"}}};
  CHECK(mh::util::serialize_sorted(v) == R"({"a":{"y":null,"z":true},"b":1,"c":[3,"x"]})");
}

TEST_CASE("hash: SHA-256 hex, whole and incremental") {
  CHECK(mh::util::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(mh::util::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  mh::util::Sha256 h;
  h.update("a");
  h.update("bc");
  CHECK(h.hex_digest() == mh::util::sha256_hex("abc"));
  CHECK(mh::util::hex_encode(std::string("\x00\xff\x10", 3)) == "00ff10");
}
