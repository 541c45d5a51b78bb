// Whose each reply on one Redis connection is, sans-IO: fed the bytes
// read, it parses them (hiredis' redisReader) and hands each complete reply
// back with the entry it belongs to. Redis answers commands in order, so
// the entries of the commands sent wait in a FIFO; a (P)SUBSCRIBE's entry
// hears each of its confirmations and, from then on, every message for one
// of its channels or patterns (a message is never a command's answer).
//
// Anything else ends the connection: a reply with nothing waiting for it,
// on a connection that is not subscribed (hiredis 0.14's own dispatch
// asserts on that) or on one that is; a pub/sub frame of an unknown kind or
// shape (hiredis asserts on an array of fewer than 2 elements); a message
// for nothing subscribed; an unsubscribe nobody asked for; a RESP type the
// reader does not know (RESP3's `>` push among them) or any other protocol
// error. next() then says `failed`, with what arrived (its type and size,
// never its bytes), and the driver closes the connection.
//
// The router never calls an entry; the driver does, with the reply that
// next() returned. (P)UNSUBSCRIBE and MONITOR are not supported (their
// replies end the connection): nothing here sends them.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/redis/reply.hpp"
#include "gateway/redis/reply_pool.hpp"

struct redisReader;
struct redisReply;

namespace comet {

// What a reply is, for a log line: its type and size, never its bytes
// ("an array of 1 element", "a bulk string of 5 bytes", "an integer").
std::string describe_reply(const redisReply& reply);

// A RESP2 pub/sub frame, its shape checked: every element a bulk string but
// a (un)subscribe's count, an integer.
struct PushFrame {
  enum class Kind {
    none,          // not an array whose first element is a bulk string
    message,       // [message, channel, payload]
    pmessage,      // [pmessage, pattern, channel, payload]
    subscribe,     // [subscribe, channel, count]
    psubscribe,    // [psubscribe, pattern, count]
    unsubscribe,   // [unsubscribe, channel or nil, count]
    punsubscribe,  // [punsubscribe, pattern or nil, count]
    malformed,     // one of the above kinds in another shape
    unknown,       // another kind ("pong", "smessage", ...)
  };
  Kind kind = Kind::none;
  std::string_view name;  // the channel or pattern it is for
};
PushFrame parse_push_frame(const redisReply& reply);

// RESP bytes in, complete replies out: hiredis' redisReader, owned, with
// its replies built in a ReplyPool (reply_pool.hpp). A Reply must be
// released before its reader.
class ReplyReader {
 public:
  struct Free {
    void operator()(redisReply* r) const;
  };
  using Reply = std::unique_ptr<redisReply, Free>;

  ReplyReader();  // throws std::bad_alloc
  ~ReplyReader();
  ReplyReader(const ReplyReader&) = delete;
  ReplyReader& operator=(const ReplyReader&) = delete;

  // False once the reader has failed (out of memory).
  bool feed(std::string_view bytes);
  // The next complete reply; null when the bytes so far hold none. Sets
  // `error` (and returns null) on a protocol error, which is final.
  Reply next(std::string& error);

 private:
  ReplyPool pool_;  // before reader_: the reader's last partial reply goes back to it
  redisReader* reader_;
};

template <class Entry>
class ReplyRouter {
 public:
  // A command was sent: `entry` hears its reply.
  void sent(Entry entry) { waiting_.push_back(Waiting{std::move(entry), false, false, {}, 0}); }
  // (P)SUBSCRIBE of `names` was sent (`pattern`: PSUBSCRIBE): `entry`
  // hears each confirmation (or the error that refuses them all), then
  // every message for one of them.
  void sent_subscribe(Entry entry, bool pattern, std::vector<std::string> names) {
    if (names.empty()) return sent(std::move(entry));  // its answer is an error
    waiting_.push_back(Waiting{std::move(entry), true, pattern, std::move(names), 0});
  }

  // Bytes read from the connection.
  void feed(std::string_view bytes) {
    if (!failed_ && !reader_.feed(bytes)) fail("out of memory reading a reply");
  }

  struct Step {
    enum class Type { need_more, reply, failed };
    Type type = Type::need_more;
    // reply: whose it is, and the reply; both valid until the next call.
    Entry* entry = nullptr;
    const redisReply* reply = nullptr;
    std::string why;  // failed: what arrived, without its bytes
  };

  // The next complete reply and whose it is; need_more when the bytes fed
  // so far hold none. After `failed`, every call says failed again.
  Step next() {
    if (failed_) return failed_step();
    current_.reset();  // its reply has been handled
    std::string error;
    reply_ = reader_.next(error);
    if (!error.empty()) return fail(error);
    if (!reply_) return Step{};
    const PushFrame push = parse_push_frame(*reply_);
    const bool is_message =
        push.kind == PushFrame::Kind::message || push.kind == PushFrame::Kind::pmessage;
    if (is_message && !subscriptions_.empty()) {
      const bool pattern = push.kind == PushFrame::Kind::pmessage;
      for (Subscription& s : subscriptions_) {
        if (s.pattern != pattern) continue;
        for (const std::string& n : s.names) {
          if (n == push.name) return deliver(&s.entry);
        }
      }
      return fail(std::string(pattern ? "a pmessage" : "a message") + " for nothing subscribed (" +
                  describe_reply(*reply_) + ")");
    }
    if (waiting_.empty()) {
      return fail(subscriptions_.empty()
                      ? "a reply with no command waiting (" + describe_reply(*reply_) + ")"
                      : "an unexpected reply on a subscribed connection (" + what(push) + ")");
    }
    Waiting& front = waiting_.front();
    if (!front.subscribe) {
      current_.emplace(std::move(front.entry));
      waiting_.pop_front();
      return deliver(&*current_);
    }
    if (reply_is_error(*reply_)) {  // refused: the whole command
      current_.emplace(std::move(front.entry));
      waiting_.pop_front();
      return deliver(&*current_);
    }
    const auto confirm = front.pattern ? PushFrame::Kind::psubscribe : PushFrame::Kind::subscribe;
    if (push.kind != confirm || push.name != front.names[front.confirmed]) {
      return fail(std::string("an unexpected reply to ") +
                  (front.pattern ? "PSUBSCRIBE" : "SUBSCRIBE") + " (" + what(push) + ")");
    }
    if (++front.confirmed < front.names.size()) return deliver(&front.entry);
    subscriptions_.push_back(
        Subscription{std::move(front.entry), front.pattern, std::move(front.names)});
    waiting_.pop_front();
    return deliver(&subscriptions_.back().entry);
  }

  bool subscribed() const { return !subscriptions_.empty(); }
  std::size_t waiting() const { return waiting_.size(); }
  bool failed() const { return failed_; }

 private:
  struct Waiting {
    Entry entry;
    bool subscribe;
    bool pattern;
    std::vector<std::string> names;  // to be confirmed, in order
    std::size_t confirmed;
  };
  struct Subscription {
    Entry entry;
    bool pattern;
    std::vector<std::string> names;
  };

  Step deliver(Entry* entry) {
    Step s;
    s.type = Step::Type::reply;
    s.entry = entry;
    s.reply = reply_.get();
    return s;
  }
  Step fail(std::string why) {
    failed_ = true;
    why_ = std::move(why);
    reply_.reset();
    return failed_step();
  }
  Step failed_step() const {
    Step s;
    s.type = Step::Type::failed;
    s.why = why_;
    return s;
  }
  std::string what(const PushFrame& push) const {
    switch (push.kind) {
      case PushFrame::Kind::unsubscribe:
      case PushFrame::Kind::punsubscribe:
        return "an unsubscribe nobody asked for, " + describe_reply(*reply_);
      case PushFrame::Kind::malformed:
        return "a malformed pub/sub frame, " + describe_reply(*reply_);
      case PushFrame::Kind::unknown:
        return "a pub/sub frame of an unknown kind, " + describe_reply(*reply_);
      default:
        return describe_reply(*reply_);
    }
  }

  ReplyReader reader_;
  ReplyReader::Reply reply_;      // the last reply handed out
  std::optional<Entry> current_;  // the last command's entry handed out
  std::deque<Waiting> waiting_;
  // A vector: next() alone adds to it, and only the last step's pointer
  // into it is in use.
  std::vector<Subscription> subscriptions_;
  bool failed_ = false;
  std::string why_;
};

}  // namespace comet
