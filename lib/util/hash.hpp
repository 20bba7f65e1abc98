// Hashes and randomness from OpenSSL, in the shapes dlt uses (SHAKE128 for
// identifier tags and child row ids, SHA3-256 for version hashes) and SHA-256
// for file and request checksums.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mh::util {

// SHAKE128 of `data`, `out_len` bytes of output (raw bytes).
std::string shake128(std::string_view data, std::size_t out_len);
void shake128(std::string_view data, unsigned char* out, std::size_t out_len);

// SHA3-256 of `data` (32 raw bytes).
std::string sha3_256(std::string_view data);

// An incremental hash fed in several pieces (files in chunks, schemas in parts).
class Digest {
 public:
  enum class Algorithm { sha256, sha3_256 };
  explicit Digest(Algorithm algorithm);
  ~Digest();
  Digest(const Digest&) = delete;
  Digest& operator=(const Digest&) = delete;
  void update(std::string_view data);
  std::string digest();      // 32 raw bytes; the object is spent afterwards
  std::string hex_digest();  // the same, as 64 lower-case hex digits

 private:
  void* ctx_;
};

class Sha3_256 : public Digest {
 public:
  Sha3_256() : Digest(Algorithm::sha3_256) {}
};

class Sha256 : public Digest {
 public:
  Sha256() : Digest(Algorithm::sha256) {}
};

// SHA-256 of `data` as lower-case hex.
std::string sha256_hex(std::string_view data);

// Cryptographically strong random bytes (the OS pool via OpenSSL).
void random_bytes(unsigned char* out, std::size_t len);

}  // namespace mh::util
