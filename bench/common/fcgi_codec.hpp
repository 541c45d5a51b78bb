// FastCGI records as the bench writes and reads them, for both sides: the
// client (comet_bench talking to the gateway directly) and the responder
// (bare_responder, the floor). Laid out through libfcgi's fastcgi.h, as the
// project's fcgi/ is, but a codec of its own: the bench measures the gateway
// from outside and links none of the project's code.
//
// Records are written unpadded, as comet-gateway writes its own: padding is
// only a recommendation of the spec.
#pragma once

#include <fastcgi.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace bench::fcgi {

inline constexpr std::size_t kHeaderLen = FCGI_HEADER_LEN;
// What ends a response: an empty STDOUT, then END_REQUEST.
inline constexpr std::size_t kResponseEndLen = 2 * FCGI_HEADER_LEN + sizeof(FCGI_EndRequestBody);

struct Header {
  std::uint8_t type = 0;
  std::uint16_t request_id = 0;
  std::uint16_t content_length = 0;
  std::uint8_t padding_length = 0;
  // The whole record: header, content and padding.
  std::size_t record_len() const { return kHeaderLen + content_length + padding_length; }
};

// `bytes` must hold kHeaderLen bytes (copied out: a receive buffer may be
// unaligned).
Header decode_header(const char* bytes);

// Writes a header to out[0, kHeaderLen).
void encode_header(char* out, std::uint8_t type, std::uint16_t request_id,
                   std::uint16_t content_length);

// Appends a record of `type` carrying `content` (at most FCGI_MAX_LENGTH
// bytes); an empty `content` is the record that ends a stream.
void append_record(std::string& out, std::uint8_t type, std::uint16_t request_id,
                   std::string_view content);

// Appends a BEGIN_REQUEST record.
void append_begin_request(std::string& out, std::uint16_t request_id, std::uint16_t role,
                          std::uint8_t flags);

struct BeginRequest {
  std::uint16_t role = 0;
  std::uint8_t flags = 0;
  bool keep_conn() const { return (flags & FCGI_KEEP_CONN) != 0; }
};

// A BEGIN_REQUEST body; missing bytes of a short one count as zero.
BeginRequest decode_begin_request(std::string_view content);

// Writes an empty STDOUT and END_REQUEST (REQUEST_COMPLETE, app status 0)
// to out[0, kResponseEndLen).
void encode_response_end(char* out, std::uint16_t request_id);

// Appends one name-value pair, lengths in the shortest form (1 byte below
// 128, else 4 bytes with the high bit set).
void append_name_value(std::string& out, std::string_view name, std::string_view value);

// The value of `name` in a stream of name-value pairs; empty when it is not
// there (or the stream is cut before it).
std::string_view find_param(std::string_view pairs, std::string_view name);

}  // namespace bench::fcgi
