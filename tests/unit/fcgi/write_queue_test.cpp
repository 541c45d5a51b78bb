#include "fcgi/detail/write_queue.hpp"

#include <gtest/gtest.h>

#include <array>

#include "fcgi/record.hpp"
#include "test_bytes.hpp"

namespace fcgi::detail {
namespace {

using test::as_string;
using test::bytes;

// Everything the queue would send, by repeatedly taking at most `chunk`
// bytes from its buffers, as a socket accepting partial writes would.
std::string drain(WriteQueue& q, std::size_t chunk, bool* closed = nullptr) {
  std::string out;
  while (!q.empty()) {
    std::array<boost::asio::const_buffer, 5> bufs;
    const std::size_t n = q.buffers(bufs.data(), bufs.size());
    std::size_t taken = 0;
    for (std::size_t i = 0; i < n && taken < chunk; ++i) {
      const std::size_t k = std::min(bufs[i].size(), chunk - taken);
      out.append(static_cast<const char*>(bufs[i].data()), k);
      taken += k;
    }
    const bool c = q.consume(taken);
    if (closed != nullptr) *closed = *closed || c;
  }
  return out;
}

std::string stdout_records(std::uint16_t id, const std::string& stream) {
  std::string out;
  for (std::size_t pos = 0; pos < stream.size(); pos += kMaxContentLen) {
    append_record(out, FCGI_STDOUT, id, std::string_view(stream).substr(pos, kMaxContentLen));
  }
  return out;
}

std::string end_records(std::uint16_t id) {
  std::string out;
  append_record(out, FCGI_STDOUT, id, "");
  return out + as_string(encode_end_request(id, 0, FCGI_REQUEST_COMPLETE));
}

TEST(WriteQueue, SmallResponseGolden) {
  WriteQueue q;
  q.push_response(1, {"Status: 200\r\n\r\n", std::make_shared<const std::string>("{}"), "\n"}, true,
                  false);
  EXPECT_EQ(q.bytes(), 8u + 18 + 8 + 16);
  EXPECT_EQ(drain(q, 1 << 20), bytes({1, 6, 0, 1, 0, 18, 0, 0}) + "Status: 200\r\n\r\n{}\n" +
                                   bytes({1, 6, 0, 1, 0, 0, 0, 0}) +
                                   bytes({1, 3, 0, 1, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(q.bytes(), 0u);
}

TEST(WriteQueue, LargeSharedBodyIsCutIntoMaxSizeRecords) {
  auto body = std::make_shared<const std::string>(2 * kMaxContentLen + 10, 'b');
  const std::string head(100, 'h');
  const std::string tail = "tail";
  const std::string expected = stdout_records(7, head + *body + tail) + end_records(7);
  for (std::size_t chunk : {std::size_t{1 << 20}, std::size_t{65543}, std::size_t{4097},
                            std::size_t{8}, std::size_t{7}}) {
    WriteQueue q;
    q.push_response(7, {head, body, tail}, true, false);
    EXPECT_EQ(q.bytes(), expected.size());
    EXPECT_EQ(drain(q, chunk), expected) << chunk;
  }
}

TEST(WriteQueue, RecordBoundaryExactlyAtMaxContent) {
  auto body = std::make_shared<const std::string>(kMaxContentLen, 'b');
  WriteQueue q;
  q.push_response(2, {"", body, ""}, false, false);
  const std::string out = drain(q, 1 << 20);
  EXPECT_EQ(out, bytes({1, 6, 0, 2, 0xff, 0xff, 0, 0}) + *body);
}

TEST(WriteQueue, BodyIsNotCopied) {
  auto body = std::make_shared<const std::string>(1000, 'b');
  WriteQueue a;
  WriteQueue b;
  a.push_response(1, {"h", body, ""}, true, false);
  b.push_response(2, {"h", body, ""}, true, false);
  for (WriteQueue* q : {&a, &b}) {
    std::array<boost::asio::const_buffer, 8> bufs;
    const std::size_t n = q->buffers(bufs.data(), bufs.size());
    ASSERT_EQ(n, 4u);  // header, head, body, end records
    EXPECT_EQ(bufs[2].data(), body->data());
  }
}

TEST(WriteQueue, StreamingThenEndAndControlBytesKeepOrder) {
  WriteQueue q;
  q.push_response(1, {"a", nullptr, ""}, false, false);
  q.push_response(1, {"", nullptr, ""}, false, false);  // nothing to send
  const auto unknown = encode_unknown_type(99);
  q.push_bytes(unknown.data(), unknown.size());
  q.push_response(1, {"b", nullptr, "c"}, false, false);
  q.push_response(1, {}, true, false);
  EXPECT_EQ(drain(q, 3),
            stdout_records(1, "a") + as_string(unknown) + stdout_records(1, "bc") + end_records(1));
}

TEST(WriteQueue, CloseAfterIsReportedWhenItsItemIsSent) {
  WriteQueue q;
  q.push_response(1, {"x", nullptr, ""}, true, true);
  std::array<boost::asio::const_buffer, 8> bufs;
  ASSERT_GT(q.buffers(bufs.data(), bufs.size()), 0u);
  EXPECT_FALSE(q.consume(10));
  const std::size_t left = q.bytes();
  EXPECT_TRUE(q.consume(left));
  EXPECT_TRUE(q.empty());
}

TEST(WriteQueue, BufferCountIsBounded) {
  WriteQueue q;
  for (int i = 0; i < 10; ++i) q.push_response(1, {"x", nullptr, "y"}, false, false);
  std::array<boost::asio::const_buffer, 4> bufs;
  EXPECT_EQ(q.buffers(bufs.data(), bufs.size()), 4u);
}

TEST(WriteQueue, SharedBodyCountsOnceWhileQueued) {
  auto body = std::make_shared<const std::string>(40000, 'b');
  WriteQueue q;
  WriteQueue one;
  one.push_response(1, {"h", body, ""}, true, false);
  const std::size_t own = one.bytes() - body->size();  // framing and head
  for (std::uint16_t id = 1; id <= 200; ++id) q.push_response(id, {"h", body, ""}, true, false);
  EXPECT_EQ(q.bytes(), body->size() + 200 * own);
  // A distinct body counts on its own.
  auto other = std::make_shared<const std::string>(1000, 'o');
  q.push_response(1, {"", other, ""}, false, false);
  EXPECT_EQ(q.bytes(), body->size() + 200 * own + other->size() + kHeaderLen);

  // Partial progress on a response whose body others share only takes off
  // its own bytes; the body stays counted until its last response is sent.
  std::array<boost::asio::const_buffer, 4> bufs;
  ASSERT_GT(q.buffers(bufs.data(), bufs.size()), 0u);
  const std::size_t before = q.bytes();
  q.consume(kHeaderLen + 1 + 100);  // header, head, part of the body
  EXPECT_EQ(q.bytes(), before - own);
  drain(q, 1 << 20);
  EXPECT_EQ(q.bytes(), 0u);
  EXPECT_TRUE(q.empty());

  // Once one response is left, its progress counts in full again.
  WriteQueue last;
  last.push_response(1, {"h", body, ""}, true, false);
  last.consume(kHeaderLen + 1 + 100);
  EXPECT_EQ(last.bytes(), own + body->size() - (kHeaderLen + 1 + 100));
  last.clear();
  EXPECT_EQ(last.bytes(), 0u);
}

}  // namespace
}  // namespace fcgi::detail
