#pragma once

#include <string>

namespace comet {

// An answer the gateway refuses with: status, a stable code for programs,
// and a message for people. Rendered as {"error":code,"message":message},
// with a Retry-After header when `retry_after` is set (429s, 503s).
struct HttpError {
  int status = 400;
  std::string code;
  std::string message;
  int retry_after = 0;  // seconds; 0: no Retry-After
};

// The refusals that more than one endpoint gives, each worded once.
namespace errors {
inline const HttpError shutting_down{503, "shutting_down", "the gateway is restarting; retry", 1};
inline const HttpError overloaded{503, "overloaded", "too many parked requests; retry", 2};
inline const HttpError cursor_ahead{400, "bad_cursor",
                                    "since is ahead of every cursor this gateway issued"};
inline const HttpError missing_channel{400, "missing_channel", "at least one channel is required"};
// One client over its share (ClientBudget): the others are still served.
inline const HttpError client_parked{
    429, "too_many_requests",
    "this client has too many parked requests (--max-parked-per-client); retry", 5};
inline const HttpError client_channels{
    429, "too_many_requests",
    "this client's parked requests name too many channels (--max-channels-per-client); retry", 5};
inline const HttpError channels_full{503, "overloaded",
                                     "too many channels held (--max-channels-total); retry", 2};
inline const HttpError user_required{403, "user_required",
                                     "a presence channel needs a token that names a user"};
inline const HttpError presence_full{503, "overloaded",
                                     "too many users held on presence channels; retry", 2};
inline const HttpError user_presence_full{429, "too_many_requests",
                                          "this user is on too many presence channels at once", 5};
inline const HttpError presence_unavailable{
    503, "presence_unavailable", "the member list cannot be read now (Redis is down); retry", 2};
}  // namespace errors

}  // namespace comet
