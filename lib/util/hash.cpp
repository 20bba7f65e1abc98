#include "util/hash.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>
#include <stdexcept>

#include "util/codec.hpp"

namespace mh::util {
namespace {

// Fetched once: the implicit fetch behind EVP_shake128() costs more than
// hashing the short strings we feed it, and we hash one per child row.
const EVP_MD* fetch(const char* name) {
  EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
  if (md == nullptr) throw std::runtime_error(std::string("OpenSSL does not provide ") + name);
  return md;
}

const EVP_MD* shake128_md() {
  static const EVP_MD* md = fetch("SHAKE128");
  return md;
}

const EVP_MD* sha256_md() {
  static const EVP_MD* md = fetch("SHA2-256");
  return md;
}

const EVP_MD* sha3_256_md() {
  static const EVP_MD* md = fetch("SHA3-256");
  return md;
}

struct CtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using CtxPtr = std::unique_ptr<EVP_MD_CTX, CtxFree>;

EVP_MD_CTX* thread_ctx() {
  thread_local CtxPtr ctx{EVP_MD_CTX_new()};
  if (!ctx) throw std::runtime_error("EVP_MD_CTX_new failed");
  return ctx.get();
}

}  // namespace

void shake128(std::string_view data, unsigned char* out, std::size_t out_len) {
  EVP_MD_CTX* ctx = thread_ctx();
  if (EVP_DigestInit_ex(ctx, shake128_md(), nullptr) != 1 || EVP_DigestUpdate(ctx, data.data(), data.size()) != 1 ||
      EVP_DigestFinalXOF(ctx, out, out_len) != 1) {
    throw std::runtime_error("SHAKE128 failed");
  }
}

std::string shake128(std::string_view data, std::size_t out_len) {
  std::string out(out_len, '\0');
  shake128(data, reinterpret_cast<unsigned char*>(out.data()), out_len);
  return out;
}

std::string sha3_256(std::string_view data) {
  Sha3_256 h;
  h.update(data);
  return h.digest();
}

Digest::Digest(Algorithm algorithm) : ctx_(EVP_MD_CTX_new()) {
  const EVP_MD* md = algorithm == Algorithm::sha3_256 ? sha3_256_md() : sha256_md();
  if (ctx_ == nullptr || EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), md, nullptr) != 1) {
    EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_));
    throw std::runtime_error("digest init failed");
  }
}

Digest::~Digest() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void Digest::update(std::string_view data) {
  if (EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size()) != 1) {
    throw std::runtime_error("digest update failed");
  }
}

std::string Digest::digest() {
  std::string out(32, '\0');
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), reinterpret_cast<unsigned char*>(out.data()), &len) != 1 ||
      len != 32) {
    throw std::runtime_error("digest final failed");
  }
  return out;
}

std::string Digest::hex_digest() { return hex_encode(digest()); }

std::string sha256_hex(std::string_view data) {
  Sha256 h;
  h.update(data);
  return h.hex_digest();
}

void random_bytes(unsigned char* out, std::size_t len) {
  if (RAND_bytes(out, static_cast<int>(len)) != 1) throw std::runtime_error("RAND_bytes failed");
}

}  // namespace mh::util
