// SSE's Last-Event-ID (HTTP_LAST_EVENT_ID, read by parse_poll_params): any
// header value is a cursor, "earliest", or a 400 bad_cursor, whatever the
// URL's since= says (an EventSource reconnects with its first URL); the
// id: lines the stream writes (format_cursor) resume exactly where they
// were.
#include <fuzzer/FuzzedDataProvider.h>

#include <string>
#include <variant>

#include "fuzz_input.hpp"
#include "gateway/http/poll_params.hpp"

namespace {

std::variant<comet::PollParams, comet::HttpError> parse(std::string_view last_event_id,
                                                        bool with_since) {
  // The URL's since is valid, so that only the header can make it fail.
  static const auto plain = comet::Query::parse("channel=news,chat");
  static const auto since = comet::Query::parse("channel=news,chat&since=earliest");
  return comet::parse_poll_params(with_since ? *since : *plain, last_event_id, {});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const bool with_since = in.ConsumeBool();
  const std::string header = in.ConsumeRemainingBytesAsString();

  const auto result = parse(header, with_since);
  if (header.empty()) {
    const auto& p = std::get<comet::PollParams>(result);
    FUZZ_CHECK(p.since.kind ==
               (with_since ? comet::Since::Kind::earliest : comet::Since::Kind::now));
  } else if (const auto cursor = comet::parse_cursor(header)) {
    const auto& p = std::get<comet::PollParams>(result);
    FUZZ_CHECK(p.since.kind == comet::Since::Kind::cursor && p.since.cursor == *cursor);
    // The header comes from an id: line, which is format_cursor's.
    const auto again = parse(comet::format_cursor(p.since.cursor), with_since);
    FUZZ_CHECK(std::get<comet::PollParams>(again).since.cursor == *cursor);
  } else if (header == "earliest") {
    FUZZ_CHECK(std::get<comet::PollParams>(result).since.kind == comet::Since::Kind::earliest);
  } else {
    const auto* err = std::get_if<comet::HttpError>(&result);
    FUZZ_CHECK(err != nullptr && err->status == 400 && err->code == "bad_cursor");
  }
  return 0;
}
