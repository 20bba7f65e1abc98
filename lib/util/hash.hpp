// Hashes and randomness from OpenSSL, in the shapes dlt uses: SHAKE128 for
// identifier tags and child row ids, SHA3-256 for version hashes.
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

// Incremental SHA3-256 for hashes fed in several pieces.
class Sha3_256 {
 public:
  Sha3_256();
  ~Sha3_256();
  Sha3_256(const Sha3_256&) = delete;
  Sha3_256& operator=(const Sha3_256&) = delete;
  void update(std::string_view data);
  std::string digest();  // 32 raw bytes; the object is spent afterwards

 private:
  void* ctx_;
};

// Cryptographically strong random bytes (the OS pool via OpenSSL).
void random_bytes(unsigned char* out, std::size_t len);

}  // namespace mh::util
