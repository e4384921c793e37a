// SHA-256 (FIPS 180-4), for the hash chain of the audit log: no crypto library is linked for one
// digest. Not for secrets: nothing here is constant-time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace rb::rt {

// Feed bytes with Update, in any number of pieces; HexDigest gives the digest of everything fed so
// far without ending the hash (more Update calls may follow).
class Sha256 {
 public:
  Sha256();
  void Update(std::string_view data);
  std::string HexDigest() const;  // 64 lowercase hex digits

 private:
  void Block(const unsigned char* p);
  std::array<uint32_t, 8> h_;
  std::array<unsigned char, 64> buf_;
  size_t used_ = 0;     // bytes waiting in buf_
  uint64_t length_ = 0;  // bytes fed in all
};

// The digest of `data` as 64 lowercase hex digits.
std::string Sha256Hex(std::string_view data);

}  // namespace rb::rt
