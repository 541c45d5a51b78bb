// Reading hiredis replies, in one place: their text, and what an error
// reply's text means to us.
#pragma once

#include <string_view>

struct redisReply;

namespace comet {

// The string of a string, status or error reply; empty for any other.
std::string_view reply_text(const redisReply& reply);
bool reply_is_error(const redisReply& reply);

// FCALL / FCALL_RO of a function that is not loaded: "ERR Function not
// found" (a Redis restarted without persistence, or a new cluster master).
// Deliberately narrow: an error raised inside a loaded function names
// "user_function" and must not look like a missing library.
bool function_missing(std::string_view error);

// FUNCTION LOAD's refusal when the library is there already: the library
// name carries its version, so this means it is loaded as needed.
bool library_already_loaded(std::string_view error);

}  // namespace comet
