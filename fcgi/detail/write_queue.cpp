#include "fcgi/detail/write_queue.hpp"

#include <algorithm>
#include <cstring>
#include <string_view>

#include "fcgi/record.hpp"

namespace fcgi::detail {

void WriteQueue::Framing::append(const void* data, std::size_t n) {
  if (big_.empty() && size_ + n <= sizeof small_) {
    std::memcpy(small_ + size_, data, n);
    size_ += n;
    return;
  }
  if (big_.empty()) big_.assign(small_, size_);
  big_.append(static_cast<const char*>(data), n);
  size_ = big_.size();
}

void WriteQueue::push(std::unique_ptr<Item> item) {
  item->size = item->framing.size() + item->stream_len;
  const std::size_t body = body_size(*item);
  counted_ += item->size - body;
  if (item->body && body_refs_[item->body.get()]++ == 0) counted_ += body;
  Item* raw = item.get();
  if (tail_ != nullptr) {
    tail_->next = std::move(item);
  } else {
    head_ = std::move(item);
  }
  tail_ = raw;
}

void WriteQueue::push_response(std::uint16_t request_id, Response&& r, bool end_request,
                               bool close_after, std::size_t sent) {
  auto item = std::make_unique<Item>();
  const std::size_t body_len = r.body ? r.body->size() : 0;
  item->stream_len = r.head.size() + body_len + r.tail.size();
  if (item->stream_len == 0 && !end_request) return;
  item->head = std::move(r.head);
  if (body_len != 0) item->body = std::move(r.body);
  item->tail = std::move(r.tail);
  item->records =
      static_cast<std::uint32_t>((item->stream_len + kMaxContentLen - 1) / kMaxContentLen);
  std::size_t left = item->stream_len;
  for (std::uint32_t i = 0; i < item->records; ++i) {
    const auto n = static_cast<std::uint16_t>(std::min(left, kMaxContentLen));
    const auto h = encode_stdout_header(request_id, n);
    item->framing.append(h.data(), h.size());
    left -= n;
  }
  if (end_request) {
    const auto eos = encode_stdout_header(request_id, 0);
    item->framing.append(eos.data(), eos.size());
    const auto end = encode_end_request(request_id, 0, FCGI_REQUEST_COMPLETE);
    item->framing.append(end.data(), end.size());
  }
  item->close_after = close_after;
  item->sent = sent;
  push(std::move(item));
}

void WriteQueue::push_bytes(const void* data, std::size_t size, bool close_after) {
  auto item = std::make_unique<Item>();
  item->framing.append(data, size);
  item->close_after = close_after;
  push(std::move(item));
}

template <class F>
void WriteQueue::for_each_piece(const Item& item, F&& f) {
  const std::string_view parts[3] = {
      item.head, item.body ? std::string_view(*item.body) : std::string_view(), item.tail};
  std::size_t pos = 0;  // offset in the STDOUT stream
  for (std::uint32_t i = 0; i < item.records; ++i) {
    if (!f(item.framing.data() + i * kHeaderLen, kHeaderLen)) return;
    const std::size_t end = std::min(pos + kMaxContentLen, item.stream_len);
    // The slice [pos, end) of head|body|tail, as up to three pieces.
    std::size_t base = 0;
    for (const auto& part : parts) {
      const std::size_t lo = std::max(pos, base);
      const std::size_t hi = std::min(end, base + part.size());
      if (lo < hi && !f(part.data() + (lo - base), hi - lo)) return;
      base += part.size();
    }
    pos = end;
  }
  const std::size_t trailer = item.records * kHeaderLen;
  if (item.framing.size() > trailer) {
    f(item.framing.data() + trailer, item.framing.size() - trailer);
  }
}

std::size_t WriteQueue::buffers(boost::asio::const_buffer* out, std::size_t max) const {
  std::size_t n = 0;
  for (const Item* item = head_.get(); item != nullptr && n < max; item = item->next.get()) {
    std::size_t skip = item->sent;
    for_each_piece(*item, [&](const char* data, std::size_t size) {
      if (skip >= size) {
        skip -= size;
        return true;
      }
      out[n++] = boost::asio::const_buffer(data + skip, size - skip);
      skip = 0;
      return n < max;
    });
  }
  return n;
}

void WriteQueue::pop() {
  const std::size_t body = body_size(*head_);
  counted_ -= head_->size - body;
  if (head_->body) {
    const auto it = body_refs_.find(head_->body.get());
    if (--it->second == 0) {
      body_refs_.erase(it);
      counted_ -= body;
    }
  }
  // Unlinked one at a time, so a long queue cannot overflow the stack
  // through nested unique_ptr destructors.
  head_ = std::move(head_->next);
  if (head_ == nullptr) tail_ = nullptr;
}

std::size_t WriteQueue::bytes() const {
  if (head_ == nullptr) return 0;
  std::size_t sent = head_->sent;
  if (head_->body && body_refs_.find(head_->body.get())->second > 1) {
    // The body still counts for the responses behind; only the head item's
    // own bytes can have been subtracted.
    sent = std::min(sent, head_->size - body_size(*head_));
  }
  return counted_ - sent;
}

bool WriteQueue::consume(std::size_t n) {
  bool close = false;
  while (head_ != nullptr && n > 0) {
    const std::size_t left = head_->size - head_->sent;
    if (n < left) {
      head_->sent += n;
      return close;
    }
    n -= left;
    close = close || head_->close_after;
    pop();
  }
  return close;
}

void WriteQueue::clear() {
  while (head_ != nullptr) pop();
}

}  // namespace fcgi::detail
