#include "gateway/http/webhook_json.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "gateway/http/webhook_signature.hpp"

namespace comet {
namespace {

using Kind = WebhookEvent::Kind;

TEST(WebhookJson, GoldenBody) {
  const std::vector<WebhookEvent> events{
      {Kind::channel_occupied, "chat.42", ""},
      {Kind::member_added, "chat.42", "7"},
      {Kind::member_removed, "chat.42", "u\"1\\"},
      {Kind::channel_vacated, "chat.42", "ignored"},
  };
  EXPECT_EQ(webhook_body(events, 1718000000123),
            R"({"time_ms":1718000000123,"events":[)"
            R"({"name":"channel_occupied","channel":"chat.42"},)"
            R"({"name":"member_added","channel":"chat.42","user_id":"7"},)"
            R"({"name":"member_removed","channel":"chat.42","user_id":"u\"1\\"},)"
            R"({"name":"channel_vacated","channel":"chat.42"}]})");
  EXPECT_EQ(webhook_body({}, 5), R"({"time_ms":5,"events":[]})");
}

TEST(WebhookSignature, GoldenValue) {
  // printf '%s' "$body" | openssl dgst -sha256 -hmac 'webhook-secret-0123456789'
  const std::string body =
      R"({"time_ms":1718000000123,"events":[{"name":"channel_occupied","channel":"chat.42"},)"
      R"({"name":"member_added","channel":"chat.42","user_id":"7"}]})";
  EXPECT_EQ(webhook_signature("webhook-secret-0123456789", body),
            "sha256=bf103622e9d0434a05131bbfb32f69c435d62aafba49dc640b40300da90a01b0");
  EXPECT_NE(webhook_signature("webhook-secret-0123456780", body),
            webhook_signature("webhook-secret-0123456789", body));
}

}  // namespace
}  // namespace comet
