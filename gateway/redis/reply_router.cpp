#include "gateway/redis/reply_router.hpp"

#include <hiredis/hiredis.h>

#include <new>

namespace comet {

namespace {

std::string count(std::size_t n, const char* unit) {
  return std::to_string(n) + " " + unit + (n == 1 ? "" : "s");
}

bool all_strings(const redisReply& r, std::size_t from, std::size_t to) {
  for (std::size_t i = from; i < to; ++i) {
    if (r.element[i]->type != REDIS_REPLY_STRING) return false;
  }
  return true;
}

}  // namespace

std::string describe_reply(const redisReply& r) {
  switch (r.type) {
    case REDIS_REPLY_STRING:
      return "a bulk string of " + count(r.len, "byte");
    case REDIS_REPLY_STATUS:
      return "a status of " + count(r.len, "byte");
    case REDIS_REPLY_ERROR:
      return "an error of " + count(r.len, "byte");
    case REDIS_REPLY_INTEGER:
      return "an integer";
    case REDIS_REPLY_NIL:
      return "a nil";
    case REDIS_REPLY_ARRAY:
      return "an array of " + count(r.elements, "element");
    default:
      return "a reply of type " + std::to_string(r.type);
  }
}

PushFrame parse_push_frame(const redisReply& r) {
  using Kind = PushFrame::Kind;
  PushFrame f;
  if (r.type != REDIS_REPLY_ARRAY || r.elements == 0 || r.element[0]->type != REDIS_REPLY_STRING) {
    return f;
  }
  const std::string_view kind = reply_text(*r.element[0]);
  std::size_t strings = 0;  // the elements that must be bulk strings
  bool counted = false;     // ends with a subscription count
  if (kind == "message") {
    f.kind = Kind::message;
    strings = 3;
  } else if (kind == "pmessage") {
    f.kind = Kind::pmessage;
    strings = 4;
  } else if (kind == "subscribe" || kind == "psubscribe") {
    f.kind = kind == "subscribe" ? Kind::subscribe : Kind::psubscribe;
    strings = 2;
    counted = true;
  } else if (kind == "unsubscribe" || kind == "punsubscribe") {
    // The name is nil when nothing was subscribed.
    f.kind = kind == "unsubscribe" ? Kind::unsubscribe : Kind::punsubscribe;
    const bool shaped =
        r.elements == 3 &&
        (r.element[1]->type == REDIS_REPLY_STRING || r.element[1]->type == REDIS_REPLY_NIL) &&
        r.element[2]->type == REDIS_REPLY_INTEGER;
    if (!shaped) f.kind = Kind::malformed;
    return f;
  } else {
    f.kind = Kind::unknown;
    return f;
  }
  const std::size_t size = strings + (counted ? 1 : 0);
  if (r.elements != size || !all_strings(r, 1, strings) ||
      (counted && r.element[strings]->type != REDIS_REPLY_INTEGER)) {
    f.kind = Kind::malformed;
    return f;
  }
  f.name = reply_text(*r.element[1]);
  return f;
}

void ReplyReader::Free::operator()(redisReply* r) const {
  ReplyPool::release(r);
}

ReplyReader::ReplyReader() : reader_(redisReaderCreateWithFunctions(ReplyPool::functions())) {
  if (reader_ == nullptr) throw std::bad_alloc();
  reader_->privdata = &pool_;
}

ReplyReader::~ReplyReader() {
  redisReaderFree(reader_);
}

bool ReplyReader::feed(std::string_view bytes) {
  return redisReaderFeed(reader_, bytes.data(), bytes.size()) == REDIS_OK;
}

ReplyReader::Reply ReplyReader::next(std::string& error) {
  void* out = nullptr;
  if (redisReaderGetReply(reader_, &out) != REDIS_OK) {
    error = reader_->errstr[0] != '\0' ? reader_->errstr : "a reply the reader could not parse";
    return nullptr;
  }
  return Reply(static_cast<redisReply*>(out));
}

}  // namespace comet
