// What the poll and sse endpoints need of presence channels (--presence),
// through a narrow interface the application implements: which channels
// they are, the users their requests hold there, and the member lists that
// answers carry. Also the two pieces both endpoints use: PresenceHold, and
// with_members().
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/core/batch.hpp"
#include "gateway/core/presence_book.hpp"
#include "gateway/http/http_error.hpp"
#include "gateway/http/poll_params.hpp"

namespace comet {

class PresenceDesk {
 public:
  virtual bool is_presence(std::string_view channel) const = 0;
  // 503/429 when `user` may not hold `channels` (presence channels) now:
  // the gateway's holds, or the user's, are at their bound.
  virtual const HttpError* hold_refusal(std::span<const std::string> channels,
                                        std::string_view user) const = 0;
  // Runs `ready` once the member list of every presence channel among
  // `channels` is held (true) or cannot be read now (false), from a fresh
  // stack or, when they are all held already, at once.
  virtual void prepare(std::span<const std::string> channels,
                       std::function<void(bool ok)> ready) = 0;
  // A request of `user` on presence channel `channel` began / ended.
  virtual void hold(std::string_view channel, std::string_view user, std::string_view info) = 0;
  virtual void release(std::string_view channel, std::string_view user) = 0;
  // The list of `channel`, or nullptr while it is not held.
  virtual const PresenceMembers* members(std::string_view channel) const = 0;

 protected:
  ~PresenceDesk() = default;
};

// The presence channels of `channels`.
std::vector<std::string> presence_channels(const PresenceDesk& desk,
                                           std::span<const std::string> channels);

// 403 user_required for a request on a presence channel whose token names
// no user, or the desk's hold_refusal; nullptr when it may go on.
const HttpError* presence_refusal(const PresenceDesk& desk, const PollParams& p);

// A request's presence: holds its user on its presence channels from
// construction to destruction.
class PresenceHold {
 public:
  PresenceHold() = default;
  PresenceHold(PresenceDesk& desk, std::string user, std::string_view info,
               std::vector<std::string> channels);
  PresenceHold(PresenceHold&& o) noexcept;
  PresenceHold& operator=(PresenceHold&& o) noexcept;
  ~PresenceHold();
  const std::vector<std::string>& channels() const { return channels_; }

 private:
  void drop();
  PresenceDesk* desk_ = nullptr;
  std::string user_;
  std::vector<std::string> channels_;
};

// `batch` with the member list of each of `channels` first (those whose
// list is held), the body encoded again; `batch` itself when there is none.
BatchPtr with_members(const BatchPtr& batch, std::span<const std::string> channels,
                      const PresenceDesk& desk);
// The presence channels among `batch`'s gaps: after a gap the client's list
// may be wrong, so the answer carries the list again.
std::vector<std::string> gapped_presence(const Batch& batch, const PresenceDesk& desk);

}  // namespace comet
