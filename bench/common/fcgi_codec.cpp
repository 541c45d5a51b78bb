#include "bench/common/fcgi_codec.hpp"

#include <algorithm>
#include <cstring>

namespace bench::fcgi {

static_assert(sizeof(FCGI_Header) == kHeaderLen);
static_assert(sizeof(FCGI_BeginRequestRecord) == 16);
static_assert(sizeof(FCGI_EndRequestRecord) == 16);

namespace {

FCGI_Header to_wire(std::uint8_t type, std::uint16_t request_id, std::uint16_t content_length) {
  FCGI_Header w{};
  w.version = FCGI_VERSION_1;
  w.type = type;
  w.requestIdB1 = static_cast<unsigned char>(request_id >> 8);
  w.requestIdB0 = static_cast<unsigned char>(request_id & 0xff);
  w.contentLengthB1 = static_cast<unsigned char>(content_length >> 8);
  w.contentLengthB0 = static_cast<unsigned char>(content_length & 0xff);
  w.paddingLength = 0;
  w.reserved = 0;
  return w;
}

// Reads one name-value length at pairs[at..], advancing `at`; false when
// the stream ends inside it.
bool take_length(std::string_view pairs, std::size_t& at, std::size_t& len) {
  if (at >= pairs.size()) return false;
  const auto b = static_cast<std::uint8_t>(pairs[at]);
  if (b < 0x80) {
    len = b;
    at += 1;
    return true;
  }
  if (pairs.size() - at < 4) return false;
  len = (static_cast<std::size_t>(b & 0x7f) << 24) |
        (static_cast<std::size_t>(static_cast<std::uint8_t>(pairs[at + 1])) << 16) |
        (static_cast<std::size_t>(static_cast<std::uint8_t>(pairs[at + 2])) << 8) |
        static_cast<std::uint8_t>(pairs[at + 3]);
  at += 4;
  return true;
}

void append_length(std::string& out, std::size_t len) {
  if (len < 0x80) {
    out += static_cast<char>(len);
    return;
  }
  out += static_cast<char>(0x80 | ((len >> 24) & 0x7f));
  out += static_cast<char>((len >> 16) & 0xff);
  out += static_cast<char>((len >> 8) & 0xff);
  out += static_cast<char>(len & 0xff);
}

}  // namespace

Header decode_header(const char* bytes) {
  FCGI_Header w;
  std::memcpy(&w, bytes, sizeof w);
  Header h;
  h.type = w.type;
  h.request_id = static_cast<std::uint16_t>((w.requestIdB1 << 8) | w.requestIdB0);
  h.content_length = static_cast<std::uint16_t>((w.contentLengthB1 << 8) | w.contentLengthB0);
  h.padding_length = w.paddingLength;
  return h;
}

void encode_header(char* out, std::uint8_t type, std::uint16_t request_id,
                   std::uint16_t content_length) {
  const FCGI_Header w = to_wire(type, request_id, content_length);
  std::memcpy(out, &w, sizeof w);
}

void append_record(std::string& out, std::uint8_t type, std::uint16_t request_id,
                   std::string_view content) {
  char h[kHeaderLen];
  encode_header(h, type, request_id, static_cast<std::uint16_t>(content.size()));
  out.append(h, kHeaderLen);
  out.append(content);
}

void append_begin_request(std::string& out, std::uint16_t request_id, std::uint16_t role,
                          std::uint8_t flags) {
  FCGI_BeginRequestRecord r{};
  r.header = to_wire(FCGI_BEGIN_REQUEST, request_id, sizeof(FCGI_BeginRequestBody));
  r.body.roleB1 = static_cast<unsigned char>(role >> 8);
  r.body.roleB0 = static_cast<unsigned char>(role & 0xff);
  r.body.flags = flags;
  out.append(reinterpret_cast<const char*>(&r), sizeof r);
}

BeginRequest decode_begin_request(std::string_view content) {
  FCGI_BeginRequestBody b{};
  std::memcpy(&b, content.data(), std::min(content.size(), sizeof b));
  BeginRequest r;
  r.role = static_cast<std::uint16_t>((b.roleB1 << 8) | b.roleB0);
  r.flags = b.flags;
  return r;
}

void encode_response_end(char* out, std::uint16_t request_id) {
  encode_header(out, FCGI_STDOUT, request_id, 0);
  FCGI_EndRequestRecord r{};  // app status 0, FCGI_REQUEST_COMPLETE
  r.header = to_wire(FCGI_END_REQUEST, request_id, sizeof(FCGI_EndRequestBody));
  r.body.protocolStatus = FCGI_REQUEST_COMPLETE;
  std::memcpy(out + kHeaderLen, &r, sizeof r);
}

void append_name_value(std::string& out, std::string_view name, std::string_view value) {
  append_length(out, name.size());
  append_length(out, value.size());
  out.append(name);
  out.append(value);
}

std::string_view find_param(std::string_view pairs, std::string_view name) {
  std::size_t p = 0;
  while (p < pairs.size()) {
    std::size_t nl = 0, vl = 0;
    if (!take_length(pairs, p, nl) || !take_length(pairs, p, vl)) break;
    if (nl + vl > pairs.size() - p) break;
    if (pairs.substr(p, nl) == name) return pairs.substr(p + nl, vl);
    p += nl + vl;
  }
  return {};
}

}  // namespace bench::fcgi
