#include "fcgi/record.hpp"

#include <gtest/gtest.h>

#include "fcgi/name_value.hpp"
#include "test_bytes.hpp"

namespace fcgi {
namespace {

using test::as_string;
using test::bytes;

TEST(Record, HeaderRoundTripAtMaxSizes) {
  const Header h{FCGI_VERSION_1, FCGI_STDIN, 0xfffe, 0xffff, 0xff};
  const auto b = encode_header(h);
  EXPECT_EQ(as_string(b), bytes({1, 5, 0xff, 0xfe, 0xff, 0xff, 0xff, 0}));
  EXPECT_EQ(decode_header(b.data()), h);
}

TEST(Record, DecodeHeaderIgnoresReservedByte) {
  const std::string b = bytes({1, 4, 0, 1, 0x01, 0x02, 3, 0x99});
  const Header h = decode_header(reinterpret_cast<const std::uint8_t*>(b.data()));
  EXPECT_EQ(h, (Header{1, FCGI_PARAMS, 1, 0x0102, 3}));
}

TEST(Record, DecodeFromUnalignedBuffer) {
  std::string b = "x" + bytes({1, 1, 0x12, 0x34, 0, 8, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0});
  const auto* p = reinterpret_cast<const std::uint8_t*>(b.data()) + 1;
  const Header h = decode_header(p);
  EXPECT_EQ(h.request_id, 0x1234);
  const BeginRequest begin = decode_begin_request(p + kHeaderLen);
  EXPECT_EQ(begin.role, FCGI_RESPONDER);
  EXPECT_TRUE(begin.keep_conn());
}

TEST(Record, BeginRequestGolden) {
  EXPECT_EQ(as_string(encode_begin_request(1, FCGI_RESPONDER, FCGI_KEEP_CONN)),
            bytes({1, 1, 0, 1, 0, 8, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0}));
  EXPECT_EQ(as_string(encode_begin_request(0xffff, FCGI_FILTER, 0)),
            bytes({1, 1, 0xff, 0xff, 0, 8, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0}));
}

TEST(Record, StdoutHeaderGolden) {
  EXPECT_EQ(as_string(encode_stdout_header(1, 0xffff)), bytes({1, 6, 0, 1, 0xff, 0xff, 0, 0}));
  EXPECT_EQ(as_string(encode_stdout_header(0x0203, 0)), bytes({1, 6, 2, 3, 0, 0, 0, 0}));
}

TEST(Record, EndRequestGolden) {
  EXPECT_EQ(as_string(encode_end_request(1, 0, FCGI_REQUEST_COMPLETE)),
            bytes({1, 3, 0, 1, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(as_string(encode_end_request(0x1234, 0x01020304, FCGI_OVERLOADED)),
            bytes({1, 3, 0x12, 0x34, 0, 8, 0, 0, 1, 2, 3, 4, 2, 0, 0, 0}));
  EXPECT_EQ(as_string(encode_end_request(7, 0xffffffff, FCGI_UNKNOWN_ROLE)),
            bytes({1, 3, 0, 7, 0, 8, 0, 0, 0xff, 0xff, 0xff, 0xff, 3, 0, 0, 0}));
}

TEST(Record, UnknownTypeGolden) {
  EXPECT_EQ(as_string(encode_unknown_type(0x42)),
            bytes({1, 11, 0, 0, 0, 8, 0, 0, 0x42, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(Record, AppendRecordWithPadding) {
  std::string out;
  append_record(out, FCGI_PARAMS, 2, "abc", 5);
  EXPECT_EQ(out, bytes({1, 4, 0, 2, 0, 3, 5, 0}) + "abc" + std::string(5, '\0'));
}

TEST(Record, AppendRecordAtMaxContent) {
  std::string out;
  const std::string content(kMaxContentLen, 'z');
  append_record(out, FCGI_STDIN, 1, content, 1);
  ASSERT_EQ(out.size(), kHeaderLen + kMaxContentLen + 1);
  EXPECT_EQ(out.substr(0, 8), bytes({1, 5, 0, 1, 0xff, 0xff, 1, 0}));
  EXPECT_EQ(out.substr(8, kMaxContentLen), content);
  EXPECT_EQ(out.back(), '\0');
}

TEST(Record, GetValuesResultAnswersKnownNamesInOrder) {
  std::string asked;
  append_name_value(asked, FCGI_MPXS_CONNS, "");
  append_name_value(asked, "SOMETHING_ELSE", "");
  append_name_value(asked, FCGI_MAX_CONNS, "");
  append_name_value(asked, FCGI_MAX_REQS, "");
  std::string out;
  ASSERT_TRUE(encode_get_values_result(asked, {50000, 10000, true}, out));
  const std::string content = bytes({15, 1}) + "FCGI_MPXS_CONNS1" + bytes({14, 5}) +
                              "FCGI_MAX_CONNS50000" + bytes({13, 5}) + "FCGI_MAX_REQS10000";
  EXPECT_EQ(out, bytes({1, 10, 0, 0, 0, static_cast<int>(content.size()), 0, 0}) + content);
}

TEST(Record, GetValuesResultEmptyQuery) {
  std::string out;
  ASSERT_TRUE(encode_get_values_result("", {1, 1, true}, out));
  EXPECT_EQ(out, bytes({1, 10, 0, 0, 0, 0, 0, 0}));
}

TEST(Record, GetValuesResultRejectsLengthPastTheEnd) {
  std::string out;
  EXPECT_FALSE(encode_get_values_result(bytes({14, 0}) + "FCGI_MAX", {1, 1, true}, out));
  EXPECT_FALSE(encode_get_values_result(bytes({0x80, 0, 0}), {1, 1, true}, out));
}

}  // namespace
}  // namespace fcgi
