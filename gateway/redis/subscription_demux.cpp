#include "gateway/redis/subscription_demux.hpp"

#include <cinttypes>
#include <cstdio>
#include <utility>

namespace comet {
SubscriptionDemux::SubscriptionDemux(std::string prefix, std::string instance)
    : prefix_(std::move(prefix)), instance_(std::move(instance)) {}

SubscriptionDemux::Event SubscriptionDemux::on_message(std::string_view channel,
                                                       std::string_view payload) {
  Event ev;
  if (!channel.starts_with(prefix_)) return ev;
  channel.remove_prefix(prefix_.size());
  ev.channel = channel;
  ev.payload = payload;
  if (!channel.empty() && channel.front() == '#') {
    if (channel == instance_) {
      ev.kind = Kind::own_sync;
    } else if (channel.starts_with(kSyncPrefix)) {
      ev.kind = Kind::foreign_sync;
    } else if (channel == kHeartbeat) {
      ev.kind = mark_of(payload, ev.mark) ? Kind::mark : Kind::heartbeat;
    } else if (channel.starts_with(kDurableNotice)) {
      ev.kind = Kind::durable_notice;
      ev.channel.remove_prefix(kDurableNotice.size());
      ev.notice_dropped = add_notice(ev.channel, StreamId::parse(payload));
    } else if (channel.starts_with(kPresence)) {
      ev.kind = Kind::presence;
      ev.channel.remove_prefix(kPresence.size());
    } else {
      ev.kind = Kind::internal;
    }
    return ev;
  }
  ev.kind = Kind::message;
  ev.id = take_notice(channel);
  return ev;
}

std::string SubscriptionDemux::mark_payload(std::uint64_t id) const {
  if (server_.empty()) return {};
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016" PRIx64, id);
  return std::string(hex) + "." + server_;
}

bool SubscriptionDemux::mark_of(std::string_view payload, std::uint64_t& id) const {
  constexpr std::size_t kDigits = 16;
  if (server_.empty() || payload.size() != kDigits + 1 + server_.size() ||
      payload[kDigits] != '.' || payload.substr(kDigits + 1) != server_) {
    return false;
  }
  std::uint64_t v = 0;
  for (char ch : payload.substr(0, kDigits)) {
    int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
    if (d < 0) return false;
    v = v << 4 | static_cast<std::uint64_t>(d);
  }
  id = v;
  return true;
}

// A second notice for a channel before its message: the older one was not
// published by comet_publish_v1 (someone PUBLISHed under "#durable:" by
// hand) and is dropped. A message without a notice is taken as plain; the
// stream has the message either way.
bool SubscriptionDemux::add_notice(std::string_view channel, std::optional<StreamId> id) {
  bool dropped = false;
  for (auto it = notices_.begin(); it != notices_.end(); ++it) {
    if (it->channel == channel) {
      notices_.erase(it);
      dropped = true;
      break;
    }
  }
  if (notices_.size() >= kMaxNotices) {
    notices_.clear();
    dropped = true;
  }
  if (dropped) ++dropped_;
  notices_.push_back(Notice{std::string(channel), id});
  return dropped;
}

std::optional<StreamId> SubscriptionDemux::take_notice(std::string_view channel) {
  for (auto it = notices_.begin(); it != notices_.end(); ++it) {
    if (it->channel == channel) {
      std::optional<StreamId> id = it->id;
      notices_.erase(it);
      return id;
    }
  }
  return std::nullopt;
}

}  // namespace comet
