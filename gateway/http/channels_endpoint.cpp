#include "gateway/http/channels_endpoint.hpp"

#include "gateway/core/channel_name.hpp"
#include "gateway/http/json.hpp"
#include "gateway/http/publish_endpoint.hpp"

namespace comet {

ChannelsEndpoint::ChannelsEndpoint(Delivery& delivery, const PublishAccess& access,
                                   ChannelCounts& counts, std::string prefix)
    : delivery_(delivery), access_(access), counts_(counts), prefix_(std::move(prefix)) {}

std::string ChannelsEndpoint::body(const std::vector<ChannelCount>& channels) {
  std::string j = "{\"channels\":{";
  for (std::size_t i = 0; i < channels.size(); ++i) {
    const auto& c = channels[i];
    if (i > 0) j.push_back(',');
    append_json_string(j, c.channel);
    j.append(":{\"clients\":").append(std::to_string(c.clients));
    if (c.users) j.append(",\"users\":").append(std::to_string(*c.users));
    j.push_back('}');
  }
  j.append("}}");
  return j;
}

void ChannelsEndpoint::handle(const fcgi::RequestPtr& request, const Query& query) {
  Responder& respond = delivery_.responder();
  if (auto refused = back_end_refusal(access_, *request, respond, prefix_)) {
    respond.error(*request, *refused);
    return;
  }
  const std::string prefix(query.get("prefix").value_or(""));
  if (!prefix.empty() && !is_valid_channel_name(prefix)) {
    respond.error(*request, {400, "bad_channel",
                             "prefix must be the start of a channel name (1-128 of A-Z a-z 0-9 "
                             "_ . : @ -)"});
    return;
  }
  const bool asked = counts_.channel_counts(prefix, [this, request](
                                                        std::optional<std::vector<ChannelCount>>
                                                            channels) {
    if (request->finished()) return;
    Responder& respond = delivery_.responder();
    if (!channels) {
      respond.error(*request, {503, "redis_unavailable", "Redis did not answer in time; retry", 1});
      return;
    }
    respond.simple(*request, 200, "application/json", body(*channels));
  });
  if (!asked) {
    respond.error(*request, {503, "redis_unavailable", "not connected to Redis; retry", 1});
  }
}

}  // namespace comet
