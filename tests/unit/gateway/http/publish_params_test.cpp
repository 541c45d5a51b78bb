#include "gateway/http/publish_params.hpp"

#include <gtest/gtest.h>

namespace comet {
namespace {

std::variant<PublishParams, HttpError> parse(std::string_view text) {
  auto q = Query::parse(text);
  EXPECT_TRUE(q) << text;
  return parse_publish_params(*q);
}

std::string error_code(std::string_view text) {
  auto r = parse(text);
  auto* e = std::get_if<HttpError>(&r);
  return e == nullptr ? std::string() : e->code + " " + std::to_string(e->status);
}

TEST(PublishParams, OneChannelAndDurable) {
  auto r = parse("channel=chat.42");
  ASSERT_TRUE(std::holds_alternative<PublishParams>(r));
  EXPECT_EQ(std::get<PublishParams>(r).channel, "chat.42");
  EXPECT_FALSE(std::get<PublishParams>(r).durable);
  EXPECT_TRUE(std::get<PublishParams>(parse("channel=o%3A1&durable=1")).durable);
  EXPECT_EQ(std::get<PublishParams>(parse("channel=o%3A1&durable=1")).channel, "o:1");
  EXPECT_TRUE(std::get<PublishParams>(parse("durable=true&channel=a")).durable);
  EXPECT_FALSE(std::get<PublishParams>(parse("durable=0&channel=a")).durable);
}

TEST(PublishParams, Refusals) {
  EXPECT_EQ(error_code(""), "missing_channel 400");
  EXPECT_EQ(error_code("channel=a,b"), "bad_channel 400");
  EXPECT_EQ(error_code("channel=a&channel=b"), "bad_channel 400");
  EXPECT_EQ(error_code("channel="), "bad_channel 400");
  EXPECT_EQ(error_code("channel=a%23b"), "bad_channel 400");  // '#': internal channels
  EXPECT_EQ(error_code("channel=" + std::string(129, 'x')), "bad_channel 400");
  EXPECT_EQ(error_code("channel=a&durable=yes"), "bad_durable 400");
}

TEST(PublishParams, AcceptedBody) {
  EXPECT_EQ(publish_accepted_body(2, ""), R"({"published":2})");
  EXPECT_EQ(publish_accepted_body(1, "1718000000000-0"),
            R"({"published":1,"id":"1718000000000-0"})");
}

}  // namespace
}  // namespace comet
