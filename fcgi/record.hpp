// FastCGI record framing: the 8-byte header and the fixed-size bodies, encoded
// and decoded by copying bytes through libfcgi's own struct definitions (never
// by casting a receive buffer, which may be unaligned or short).
#pragma once

#include <fastcgi.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace fcgi {

inline constexpr std::size_t kHeaderLen = FCGI_HEADER_LEN;
inline constexpr std::size_t kMaxContentLen = FCGI_MAX_LENGTH;

struct Header {
  std::uint8_t version = FCGI_VERSION_1;
  std::uint8_t type = 0;
  std::uint16_t request_id = 0;
  std::uint16_t content_length = 0;
  std::uint8_t padding_length = 0;

  friend bool operator==(const Header&, const Header&) = default;
};

using HeaderBytes = std::array<std::uint8_t, kHeaderLen>;

Header decode_header(const std::uint8_t* bytes);
void encode_header(const Header& h, std::uint8_t* out);
HeaderBytes encode_header(const Header& h);

struct BeginRequest {
  std::uint16_t role = 0;
  std::uint8_t flags = 0;
  bool keep_conn() const { return (flags & FCGI_KEEP_CONN) != 0; }
};

// `content` must hold sizeof(FCGI_BeginRequestBody) bytes.
BeginRequest decode_begin_request(const std::uint8_t* content);
// A whole BEGIN_REQUEST record (for tests and clients).
std::array<std::uint8_t, 16> encode_begin_request(std::uint16_t request_id, std::uint16_t role,
                                                  std::uint8_t flags);

// Header of a STDOUT record carrying `content_length` bytes, unpadded: padding
// is only a recommendation of the spec and would cost an extra iovec.
HeaderBytes encode_stdout_header(std::uint16_t request_id, std::uint16_t content_length);

// A whole END_REQUEST record.
std::array<std::uint8_t, 16> encode_end_request(std::uint16_t request_id, std::uint32_t app_status,
                                                std::uint8_t protocol_status);

// A whole UNKNOWN_TYPE record answering a management record of `type`.
std::array<std::uint8_t, 16> encode_unknown_type(std::uint8_t type);

// Appends a record of any type with `content` (at most kMaxContentLen bytes)
// and `padding` zero bytes of padding.
void append_record(std::string& out, std::uint8_t type, std::uint16_t request_id,
                   std::string_view content, std::uint8_t padding = 0);

// What the server answers to GET_VALUES.
struct ServerValues {
  std::size_t max_conns = 0;
  std::size_t max_reqs = 0;
  bool mpxs_conns = true;
};

// A whole GET_VALUES_RESULT record answering `content` (the name-value pairs
// of a GET_VALUES record): the variables the server knows, in the order
// asked, unknown names left out as the spec says. Returns false when
// `content` is not a valid name-value stream.
bool encode_get_values_result(std::string_view content, const ServerValues& values,
                              std::string& out);

}  // namespace fcgi
