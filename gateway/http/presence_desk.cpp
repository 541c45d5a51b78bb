#include "gateway/http/presence_desk.hpp"

#include <memory>

#include "gateway/http/poll_json.hpp"

namespace comet {

std::vector<std::string> presence_channels(const PresenceDesk& desk,
                                           std::span<const std::string> channels) {
  std::vector<std::string> out;
  for (const auto& c : channels) {
    if (desk.is_presence(c)) out.push_back(c);
  }
  return out;
}

const HttpError* presence_refusal(const PresenceDesk& desk, const PollParams& p) {
  const auto on = presence_channels(desk, p.channels);
  if (on.empty()) return nullptr;
  if (!p.user) return &errors::user_required;
  return desk.hold_refusal(on, *p.user);
}

PresenceHold::PresenceHold(PresenceDesk& desk, std::string user, std::string_view info,
                           std::vector<std::string> channels)
    : desk_(&desk), user_(std::move(user)), channels_(std::move(channels)) {
  for (const auto& c : channels_) desk_->hold(c, user_, info);
}

PresenceHold::PresenceHold(PresenceHold&& o) noexcept
    : desk_(o.desk_), user_(std::move(o.user_)), channels_(std::move(o.channels_)) {
  o.desk_ = nullptr;
}

PresenceHold& PresenceHold::operator=(PresenceHold&& o) noexcept {
  if (this != &o) {
    drop();
    desk_ = o.desk_;
    user_ = std::move(o.user_);
    channels_ = std::move(o.channels_);
    o.desk_ = nullptr;
  }
  return *this;
}

PresenceHold::~PresenceHold() {
  drop();
}

void PresenceHold::drop() {
  if (desk_ == nullptr) return;
  for (const auto& c : channels_) desk_->release(c, user_);
  desk_ = nullptr;
}

BatchPtr with_members(const BatchPtr& batch, std::span<const std::string> channels,
                      const PresenceDesk& desk) {
  if (channels.empty()) return batch;
  auto b = std::make_shared<Batch>(*batch);
  std::vector<MessagePtr> lists;
  const std::string id = format_cursor(batch->cursor);
  for (const auto& c : channels) {
    const PresenceMembers* members = desk.members(c);
    if (members == nullptr) continue;
    auto m = std::make_shared<Message>();
    m->channel = c;
    m->encoded = PollJson::here(c, id, *members);
    lists.push_back(std::move(m));
  }
  if (lists.empty()) return batch;
  b->messages.insert(b->messages.begin(), lists.begin(), lists.end());
  b->body = PollJson().body(*b);
  return b;
}

std::vector<std::string> gapped_presence(const Batch& batch, const PresenceDesk& desk) {
  std::vector<std::string> out;
  for (const auto& g : batch.gaps) {
    if (desk.is_presence(g)) out.push_back(g);
  }
  return out;
}

}  // namespace comet
