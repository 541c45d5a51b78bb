// Poll and SSE parameters (gateway/http/poll_params): any query and
// Last-Event-ID give either parameters that keep docs/API.md's promises
// (valid, unique channels within the limit, the timeout within its
// maximum, a valid JSONP callback, the since the request named) or a 400 /
// 413; admit_poll_params adds access control's 403 only.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <string>
#include <variant>

#include "fuzz_input.hpp"
#include "gateway/core/channel_name.hpp"
#include "gateway/http/poll_params.hpp"
#include "gateway/http/publish_params.hpp"
#include "token.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const std::string last_event_id = in.ConsumeRandomLengthString(200);
  const std::string text = in.ConsumeRemainingBytesAsString();
  const auto query = comet::Query::parse(text);
  if (!query) return 0;
  const auto publish = comet::parse_publish_params(*query);
  if (const auto* p = std::get_if<comet::PublishParams>(&publish)) {
    FUZZ_CHECK(comet::is_valid_channel_name(p->channel) && query->all("channel").size() == 1);
  } else {
    FUZZ_CHECK(std::get<comet::HttpError>(publish).status == 400);
  }

  comet::PollLimits limits;
  limits.max_channels = 4;  // small, so that the fuzzer passes it

  const auto parsed = comet::parse_poll_params(*query, last_event_id, limits);
  const comet::AccessControl open;
  const comet::AccessControl closed({comet::fuzz::kTokenSecret});
  const auto admitted_open = comet::admit_poll_params(*query, last_event_id, limits, open);
  const auto admitted_closed = comet::admit_poll_params(*query, last_event_id, limits, closed);
  if (const auto* err = std::get_if<comet::HttpError>(&parsed)) {
    FUZZ_CHECK(err->status == 400 || err->status == 413);
    FUZZ_CHECK(std::holds_alternative<comet::HttpError>(admitted_open));
    FUZZ_CHECK(std::get<comet::HttpError>(admitted_closed).code == err->code);
    return 0;
  }
  const auto& p = std::get<comet::PollParams>(parsed);
  FUZZ_CHECK(!p.channels.empty() && p.channels.size() <= limits.max_channels);
  for (std::size_t i = 0; i < p.channels.size(); ++i) {
    FUZZ_CHECK(comet::is_valid_channel_name(p.channels[i]));
    FUZZ_CHECK(std::find(p.channels.begin(), p.channels.begin() + i, p.channels[i]) ==
               p.channels.begin() + i);
  }
  FUZZ_CHECK(p.timeout.count() >= 0 && p.timeout <= limits.max_timeout);
  FUZZ_CHECK(p.callback.empty() || comet::is_valid_jsonp_callback(p.callback));
  FUZZ_CHECK(p.token == query->get("token").value_or(""));
  // The since named: Last-Event-ID when there is one, else since=.
  const std::string_view since =
      last_event_id.empty() ? query->get("since").value_or("") : std::string_view(last_event_id);
  switch (p.since.kind) {
    case comet::Since::Kind::now:
      FUZZ_CHECK(since.empty());
      break;
    case comet::Since::Kind::earliest:
      FUZZ_CHECK(since == "earliest");
      break;
    case comet::Since::Kind::cursor:
      FUZZ_CHECK(comet::format_cursor(p.since.cursor) == since);
      break;
  }
  FUZZ_CHECK(std::holds_alternative<comet::PollParams>(admitted_open));
  // Without a token signed with the secret (the fuzzer cannot make one),
  // access control refuses.
  FUZZ_CHECK(std::get<comet::HttpError>(admitted_closed).status == 403);
  return 0;
}
