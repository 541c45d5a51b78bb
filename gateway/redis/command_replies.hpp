// What the command link's replies mean, pure: comet_read_v1's answer as a
// StreamRead, and a PUBLISH's or comet_publish_v1's as a PublishResult.
#pragma once

#include <cstddef>
#include <optional>

#include "gateway/core/stream_id.hpp"
#include "gateway/core/stream_read.hpp"
#include "gateway/redis/redis_client.hpp"

struct redisReply;

namespace comet {

// comet_read_v1's reply: { status, base, id1, payload1, ... } of a read
// after `after` of at most `count` entries; nullopt when it is not one (an
// error reply, say).
std::optional<StreamRead> parse_stream_read(const redisReply& reply, StreamId after,
                                            std::size_t count);

// `reply`: nullptr when there was none (a timeout, the connection lost).
PublishResult parse_publish(const redisReply* reply, bool durable);

}  // namespace comet
