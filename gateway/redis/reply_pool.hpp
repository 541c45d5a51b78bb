// Where a ReplyReader's replies are built: hiredis' reader makes each reply
// through functions it is given, and these take the redisReply objects,
// their strings and their element arrays from free lists instead of a
// calloc, a malloc and a free for each of a pmessage's five objects (about
// 30 % of the instructions the gateway spent on each message it received).
// The replies are hiredis' own struct, built as hiredis builds them (a
// string's bytes NUL-terminated, `str` null for what is not a string,
// `element` null for an empty array), so everything that reads a
// redisReply reads these.
//
// A released object keeps its buffers for the next reply when they are
// small (strings up to 4 KiB, arrays up to 256 elements); at most 64
// objects wait for reuse, the others are freed at once. Each object
// knows its pool: the pool must outlive every reply built from it (the
// reader's replies are released before the reader).
#pragma once

#include <cstddef>
#include <vector>

struct redisReply;
struct redisReplyObjectFunctions;

namespace comet {

class ReplyPool {
 public:
  ReplyPool() = default;
  ~ReplyPool();
  ReplyPool(const ReplyPool&) = delete;
  ReplyPool& operator=(const ReplyPool&) = delete;

  // For redisReaderCreateWithFunctions; the reader's privdata must be the
  // pool.
  static redisReplyObjectFunctions* functions();
  // Returns a reply built by this pool (and its elements) to it.
  static void release(redisReply* reply);

  struct Node;

 private:
  friend struct ReplyPoolCallbacks;
  Node* take();
  void keep(Node* n);

  std::vector<Node*> free_;
};

}  // namespace comet
