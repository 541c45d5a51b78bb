// The systems as the client sees them: how a subscriber asks for the next
// message and follows its position, and how many polls a server has parked.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bench/common/http_client.hpp"

namespace bench {

// bare: bench/bare_responder behind the same nginx config as comet-gateway,
// answering with the same bytes; the client side is the same as comet's.
enum class System { nchan, comet, bare };

const char* name_of(System s);

struct SubState {
  int channel = 0;
  std::string cursor;               // comet
  std::string last_modified, etag;  // nchan
  std::int64_t next_seq = 0;        // rate: the next message expected
};

// The subscriber's next long-poll, from its position.
std::string poll_request(System sys, const std::string& channel, const SubState& s);

// Takes the payloads out of a response and advances the subscriber's
// position. comet: the JSON body's cursor and every message's data (the
// bench's payloads need no JSON escaping); nchan: the body is the payload,
// the position is in Last-Modified/Etag. Counts a response reporting gaps.
void take_payloads(System sys, const HttpResponse& r, SubState& s,
                   std::vector<std::string_view>& payloads, long& gaps);

class Stack;

// Parked polls as the servers report them (-1 when none answers): nchan's
// stub status through nginx; the sum over every running responder's stats.
long parked_now(System sys, const Stack& st);

}  // namespace bench
