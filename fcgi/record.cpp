#include "fcgi/record.hpp"

#include <cstring>

#include "fcgi/name_value.hpp"

namespace fcgi {

static_assert(sizeof(FCGI_Header) == kHeaderLen);
static_assert(sizeof(FCGI_BeginRequestBody) == 8);
static_assert(sizeof(FCGI_EndRequestRecord) == 16);
static_assert(sizeof(FCGI_UnknownTypeRecord) == 16);
static_assert(sizeof(FCGI_BeginRequestRecord) == 16);

namespace {

FCGI_Header to_wire(const Header& h) {
  FCGI_Header w{};
  w.version = h.version;
  w.type = h.type;
  w.requestIdB1 = static_cast<unsigned char>(h.request_id >> 8);
  w.requestIdB0 = static_cast<unsigned char>(h.request_id & 0xff);
  w.contentLengthB1 = static_cast<unsigned char>(h.content_length >> 8);
  w.contentLengthB0 = static_cast<unsigned char>(h.content_length & 0xff);
  w.paddingLength = h.padding_length;
  w.reserved = 0;
  return w;
}

template <class Record>
std::array<std::uint8_t, sizeof(Record)> to_bytes(const Record& r) {
  std::array<std::uint8_t, sizeof(Record)> out;
  std::memcpy(out.data(), &r, sizeof r);
  return out;
}

}  // namespace

Header decode_header(const std::uint8_t* bytes) {
  FCGI_Header w;
  std::memcpy(&w, bytes, sizeof w);
  Header h;
  h.version = w.version;
  h.type = w.type;
  h.request_id = static_cast<std::uint16_t>((w.requestIdB1 << 8) | w.requestIdB0);
  h.content_length = static_cast<std::uint16_t>((w.contentLengthB1 << 8) | w.contentLengthB0);
  h.padding_length = w.paddingLength;
  return h;
}

void encode_header(const Header& h, std::uint8_t* out) {
  const FCGI_Header w = to_wire(h);
  std::memcpy(out, &w, sizeof w);
}

HeaderBytes encode_header(const Header& h) {
  HeaderBytes out;
  encode_header(h, out.data());
  return out;
}

BeginRequest decode_begin_request(const std::uint8_t* content) {
  FCGI_BeginRequestBody b;
  std::memcpy(&b, content, sizeof b);
  BeginRequest r;
  r.role = static_cast<std::uint16_t>((b.roleB1 << 8) | b.roleB0);
  r.flags = b.flags;
  return r;
}

std::array<std::uint8_t, 16> encode_begin_request(std::uint16_t request_id, std::uint16_t role,
                                                  std::uint8_t flags) {
  FCGI_BeginRequestRecord r{};
  r.header =
      to_wire({FCGI_VERSION_1, FCGI_BEGIN_REQUEST, request_id, sizeof(FCGI_BeginRequestBody), 0});
  r.body.roleB1 = static_cast<unsigned char>(role >> 8);
  r.body.roleB0 = static_cast<unsigned char>(role & 0xff);
  r.body.flags = flags;
  return to_bytes(r);
}

HeaderBytes encode_stdout_header(std::uint16_t request_id, std::uint16_t content_length) {
  return encode_header({FCGI_VERSION_1, FCGI_STDOUT, request_id, content_length, 0});
}

std::array<std::uint8_t, 16> encode_end_request(std::uint16_t request_id, std::uint32_t app_status,
                                                std::uint8_t protocol_status) {
  FCGI_EndRequestRecord r{};
  r.header =
      to_wire({FCGI_VERSION_1, FCGI_END_REQUEST, request_id, sizeof(FCGI_EndRequestBody), 0});
  r.body.appStatusB3 = static_cast<unsigned char>((app_status >> 24) & 0xff);
  r.body.appStatusB2 = static_cast<unsigned char>((app_status >> 16) & 0xff);
  r.body.appStatusB1 = static_cast<unsigned char>((app_status >> 8) & 0xff);
  r.body.appStatusB0 = static_cast<unsigned char>(app_status & 0xff);
  r.body.protocolStatus = protocol_status;
  return to_bytes(r);
}

std::array<std::uint8_t, 16> encode_unknown_type(std::uint8_t type) {
  FCGI_UnknownTypeRecord r{};
  r.header = to_wire(
      {FCGI_VERSION_1, FCGI_UNKNOWN_TYPE, FCGI_NULL_REQUEST_ID, sizeof(FCGI_UnknownTypeBody), 0});
  r.body.type = type;
  return to_bytes(r);
}

void append_record(std::string& out, std::uint8_t type, std::uint16_t request_id,
                   std::string_view content, std::uint8_t padding) {
  const auto h = encode_header(
      {FCGI_VERSION_1, type, request_id, static_cast<std::uint16_t>(content.size()), padding});
  out.append(reinterpret_cast<const char*>(h.data()), h.size());
  out.append(content);
  out.append(padding, '\0');
}

bool encode_get_values_result(std::string_view content, const ServerValues& values,
                              std::string& out) {
  NameValueDecoder decoder(kMaxContentLen);
  NameValueDecoder::Pairs asked;
  std::error_code ec;
  decoder.put(content, asked, ec);
  if (!ec) decoder.finish(ec);
  if (ec) return false;
  std::string body;
  for (const auto& [name, ignored] : asked) {
    if (name == FCGI_MAX_CONNS) {
      append_name_value(body, name, std::to_string(values.max_conns));
    } else if (name == FCGI_MAX_REQS) {
      append_name_value(body, name, std::to_string(values.max_reqs));
    } else if (name == FCGI_MPXS_CONNS) {
      append_name_value(body, name, values.mpxs_conns ? "1" : "0");
    }
    // Answers to a few short names always fit one record; stop rather than
    // emit an oversized one if a peer repeats names.
    if (body.size() > kMaxContentLen - 64) break;
  }
  append_record(out, FCGI_GET_VALUES_RESULT, FCGI_NULL_REQUEST_ID, body);
  return true;
}

}  // namespace fcgi
