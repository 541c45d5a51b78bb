#include "gateway/redis/reply_pool.hpp"

#include <hiredis/hiredis.h>

#include <cstdlib>
#include <cstring>
#include <new>

namespace comet {

namespace {

// A reply is released before the next is read, so a few objects serve a
// stream of messages; the bounds keep what waits under 400 KiB per reader
// after a large reply (a stream read's nested arrays).
constexpr std::size_t kMaxKept = 64;
constexpr std::size_t kMaxKeptString = 4 * 1024;
constexpr std::size_t kMaxKeptElements = 256;

}  // namespace

// `reply` first, so that a redisReply* handed to hiredis is the Node*.
struct ReplyPool::Node {
  redisReply reply;
  ReplyPool* pool;
  char* bytes;  // kept across reuses; reply.str points here for strings
  std::size_t bytes_capacity;
  redisReply** elements;  // kept across reuses; reply.element for arrays
  std::size_t elements_capacity;
};

ReplyPool::Node* ReplyPool::take() {
  Node* n;
  if (!free_.empty()) {
    n = free_.back();
    free_.pop_back();
  } else {
    n = static_cast<Node*>(std::calloc(1, sizeof(Node)));
    if (n == nullptr) return nullptr;
    n->pool = this;
  }
  n->reply = redisReply{};
  return n;
}

void ReplyPool::keep(Node* n) {
  if (n->bytes_capacity > kMaxKeptString) {
    std::free(n->bytes);
    n->bytes = nullptr;
    n->bytes_capacity = 0;
  }
  if (n->elements_capacity > kMaxKeptElements) {
    std::free(n->elements);
    n->elements = nullptr;
    n->elements_capacity = 0;
  }
  if (free_.size() >= kMaxKept) {
    std::free(n->bytes);
    std::free(n->elements);
    std::free(n);
    return;
  }
  try {
    free_.push_back(n);
  } catch (const std::bad_alloc&) {
    std::free(n->bytes);
    std::free(n->elements);
    std::free(n);
  }
}

ReplyPool::~ReplyPool() {
  for (Node* n : free_) {
    std::free(n->bytes);
    std::free(n->elements);
    std::free(n);
  }
}

void ReplyPool::release(redisReply* reply) {
  if (reply == nullptr) return;
  Node* n = reinterpret_cast<Node*>(reply);
  if (reply->type == REDIS_REPLY_ARRAY) {
    // An array cut short by an error has null elements past those read.
    for (std::size_t i = 0; i < reply->elements; ++i) release(reply->element[i]);
  }
  n->pool->keep(n);
}

// The functions hiredis' reader calls; `task->privdata` is the pool.
struct ReplyPoolCallbacks {
  static ReplyPool::Node* make(const redisReadTask* task, int type) {
    auto* pool = static_cast<ReplyPool*>(task->privdata);
    ReplyPool::Node* n = pool->take();
    if (n != nullptr) n->reply.type = type;
    return n;
  }
  // Into its parent array, as hiredis' own functions do.
  static void* link(const redisReadTask* task, ReplyPool::Node* n) {
    if (n != nullptr && task->parent != nullptr) {
      auto* parent = static_cast<redisReply*>(task->parent->obj);
      parent->element[task->idx] = &n->reply;
    }
    return n;
  }
  static void* string(const redisReadTask* task, char* str, std::size_t len) {
    ReplyPool::Node* n = make(task, task->type);
    if (n == nullptr) return nullptr;
    if (n->bytes_capacity < len + 1) {
      char* bytes = static_cast<char*>(std::malloc(len + 1));
      if (bytes == nullptr) {
        n->pool->keep(n);
        return nullptr;
      }
      std::free(n->bytes);
      n->bytes = bytes;
      n->bytes_capacity = len + 1;
    }
    std::memcpy(n->bytes, str, len);
    n->bytes[len] = '\0';
    n->reply.str = n->bytes;
    n->reply.len = len;
    return link(task, n);
  }
  static void* array(const redisReadTask* task, int elements) {
    ReplyPool::Node* n = make(task, REDIS_REPLY_ARRAY);
    if (n == nullptr) return nullptr;
    const auto count = static_cast<std::size_t>(elements);
    if (count > 0) {
      if (n->elements_capacity < count) {
        auto* e = static_cast<redisReply**>(std::malloc(count * sizeof(redisReply*)));
        if (e == nullptr) {
          n->pool->keep(n);
          return nullptr;
        }
        std::free(n->elements);
        n->elements = e;
        n->elements_capacity = count;
      }
      // Null until read: an array cut short is released up to what it has.
      std::memset(n->elements, 0, count * sizeof(redisReply*));
      n->reply.element = n->elements;
    }
    n->reply.elements = count;
    return link(task, n);
  }
  static void* integer(const redisReadTask* task, long long value) {
    ReplyPool::Node* n = make(task, REDIS_REPLY_INTEGER);
    if (n == nullptr) return nullptr;
    n->reply.integer = value;
    return link(task, n);
  }
  static void* nil(const redisReadTask* task) { return link(task, make(task, REDIS_REPLY_NIL)); }
  static void free_object(void* reply) { ReplyPool::release(static_cast<redisReply*>(reply)); }
};

redisReplyObjectFunctions* ReplyPool::functions() {
  static redisReplyObjectFunctions fns{ReplyPoolCallbacks::string, ReplyPoolCallbacks::array,
                                       ReplyPoolCallbacks::integer, ReplyPoolCallbacks::nil,
                                       ReplyPoolCallbacks::free_object};
  return &fns;
}

}  // namespace comet
