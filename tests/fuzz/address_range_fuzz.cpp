// Address lists (gateway/util/address_range: --publish-allow,
// --listen-allow; gateway/http/publish_access): an entry parses as
// an address or CIDR block exactly when inet_pton(3) takes its address and
// its prefix is within the address's bits, and an address is in it exactly
// when their first prefix bits agree (IPv4-mapped IPv6 addresses counting
// as IPv4). PublishAccess refuses a bad list with std::invalid_argument
// only, and admits only the addresses of its list or the bearer of its
// secret.
#include <arpa/inet.h>
#include <fuzzer/FuzzedDataProvider.h>

#include <array>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "fuzz_input.hpp"
#include "gateway/http/publish_access.hpp"
#include "gateway/util/address_range.hpp"

namespace {

// What inet_pton makes of the whole text (so a NUL byte in it makes it no
// address). Scoped IPv6 addresses ("fe80::1%eth0") are unknown to it.
struct Reference {
  enum class Kind { none, address, unknown };
  Kind kind = Kind::none;
  bool v4 = false;
  std::array<std::uint8_t, 16> bytes{};
};

Reference reference(std::string_view text) {
  Reference r;
  if (text.find('%') != std::string_view::npos) {
    r.kind = Reference::Kind::unknown;
    return r;
  }
  const std::string s(text);
  if (s.find('\0') != std::string::npos) return r;
  if (inet_pton(AF_INET, s.c_str(), r.bytes.data()) == 1) {
    r.kind = Reference::Kind::address;
    r.v4 = true;
    return r;
  }
  if (inet_pton(AF_INET6, s.c_str(), r.bytes.data()) != 1) return r;
  r.kind = Reference::Kind::address;
  static const std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(r.bytes.data(), mapped, 12) == 0) {
    std::memmove(r.bytes.data(), r.bytes.data() + 12, 4);
    std::memset(r.bytes.data() + 4, 0, 12);
    r.v4 = true;
  }
  return r;
}

bool same_prefix(const Reference& a, const Reference& b, int bits) {
  for (int i = 0; i < bits; ++i) {
    const int byte = i / 8, bit = 7 - i % 8;
    if (((a.bytes[byte] >> bit) & 1) != ((b.bytes[byte] >> bit) & 1)) return false;
  }
  return true;
}

// The prefix length of "/N" (decimal digits, leading zeros allowed), or -1
// when it is not one within `max`.
int prefix_of(std::string_view p, int max) {
  if (p.empty() || p.find_first_not_of("0123456789") != std::string_view::npos) return -1;
  while (p.size() > 1 && p.front() == '0') p.remove_prefix(1);
  if (p.size() > 3) return -1;
  const int n = std::stoi(std::string(p));
  return n <= max ? n : -1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const std::string address = in.ConsumeRandomLengthString(64);
  const std::string entry = in.ConsumeRandomLengthString(64);
  const std::string authorization = in.ConsumeRemainingBytesAsString();

  const auto range = comet::AddressRange::parse(entry);
  const auto slash = entry.find('/');
  const std::string_view base = std::string_view(entry).substr(0, slash);
  const Reference ref_base = reference(base);
  if (ref_base.kind == Reference::Kind::none) FUZZ_CHECK(!range);
  if (ref_base.kind == Reference::Kind::address) {
    const int max = ref_base.v4 ? 32 : 128;
    const int bits = slash == std::string::npos
                         ? max
                         : prefix_of(std::string_view(entry).substr(slash + 1), max);
    FUZZ_CHECK(range.has_value() == (bits >= 0));
    if (range) {
      FUZZ_CHECK(range->contains(base));
      const Reference ref_address = reference(address);
      if (ref_address.kind != Reference::Kind::unknown) {
        const bool expected = ref_address.kind == Reference::Kind::address &&
                              ref_address.v4 == ref_base.v4 &&
                              same_prefix(ref_address, ref_base, bits);
        FUZZ_CHECK(range->contains(address) == expected);
      }
    }
  }

  const std::string secret = "0123456789abcdef";
  try {
    const comet::PublishAccess access({secret}, {entry});
    FUZZ_CHECK(range.has_value());
    const auto verdict = access.check(authorization, address);
    if (verdict == comet::PublishAccess::Verdict::allowed) {
      FUZZ_CHECK(range->contains(address) || authorization.ends_with(" " + secret));
    } else {
      FUZZ_CHECK(verdict == comet::PublishAccess::Verdict::denied && !range->contains(address));
    }
  } catch (const std::invalid_argument&) {
    FUZZ_CHECK(!range.has_value());
  }
  return 0;
}
