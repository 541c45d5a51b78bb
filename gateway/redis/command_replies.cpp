#include "gateway/redis/command_replies.hpp"

#include <hiredis/hiredis.h>

#include <string>

#include "gateway/redis/reply.hpp"

namespace comet {

std::optional<StreamRead> parse_stream_read(const redisReply& r, StreamId after,
                                            std::size_t count) {
  if (r.type != REDIS_REPLY_ARRAY || r.elements < 2 || r.elements % 2 != 0) return std::nullopt;
  for (std::size_t i = 0; i < r.elements; ++i) {
    if (r.element[i]->type != REDIS_REPLY_STRING && r.element[i]->type != REDIS_REPLY_STATUS) {
      return std::nullopt;
    }
  }
  StreamRead out;
  out.from = after;
  out.base = after;
  const std::string_view status = reply_text(*r.element[0]);
  for (std::size_t i = 2; i < r.elements; i += 2) {
    auto id = StreamId::parse(reply_text(*r.element[i]));
    if (!id) return std::nullopt;
    out.entries.push_back(StreamEntry{*id, std::string(reply_text(*r.element[i + 1]))});
  }
  if (status == "ok") {
    out.status = StreamRead::Status::ok;
  } else if (status == "none") {
    out.status = StreamRead::Status::none;
  } else if (status == "gap" && !out.entries.empty()) {
    out.status = StreamRead::Status::gap;
    const std::string_view base = reply_text(*r.element[1]);
    // "*": the stream began again at its first entry.
    auto id = base == "*" ? std::optional<StreamId>(out.entries.front().id.pred())
                          : StreamId::parse(base);
    if (!id) return std::nullopt;
    out.base = *id;
  } else {
    return std::nullopt;
  }
  out.complete = out.entries.size() < count;
  return out;
}

PublishResult parse_publish(const redisReply* r, bool durable) {
  PublishResult result;
  result.answered = r != nullptr;
  if (r == nullptr) {
    result.error = "no answer from Redis";
  } else if (r->type == REDIS_REPLY_ERROR) {
    result.error = std::string(reply_text(*r));
    // `error` is the reason whenever the publish failed ("-\r\n" has none).
    if (result.error.empty()) result.error = "an error reply without text";
  } else if (!durable && r->type == REDIS_REPLY_INTEGER) {
    result.ok = true;
    result.receivers = r->integer;
  } else if (durable && r->type == REDIS_REPLY_STRING) {
    result.ok = true;
    result.receivers = 1;
    result.id = std::string(reply_text(*r));
  } else {
    result.error = "an unexpected reply";
  }
  return result;
}

}  // namespace comet
