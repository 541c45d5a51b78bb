// JSON encoding helpers shared by the Hub (message and batch bodies, encoded
// once) and the HTTP layer (error bodies). Encoding only: the gateway never
// parses JSON.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace comet {

// Appends `s` as a JSON string literal, quotes included. Escapes `"`, `\`,
// control characters (\n \r \t \b \f, else \u00XX) and U+2028/U+2029, which
// JSON allows raw but JavaScript (JSONP) does not. Bytes that are not valid
// UTF-8 become \ufffd, so the output is always valid JSON; callers that must
// keep the bytes check is_valid_utf8() first and use base64 instead.
void append_json_string(std::string& out, std::string_view s);

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing past
// U+10FFFF, no truncated sequences.
bool is_valid_utf8(std::string_view s);

// Standard base64 (RFC 4648 section 4) with `=` padding.
void append_base64(std::string& out, std::string_view bytes);

namespace detail {
// Length of the valid UTF-8 sequence starting at s[0], 0 when it is not one.
std::size_t utf8_sequence_length(std::string_view s);
}  // namespace detail

}  // namespace comet
