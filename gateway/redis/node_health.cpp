#include "gateway/redis/node_health.hpp"

namespace comet {

bool NodeHealth::failed(const std::string& node, Clock::time_point now) {
  Down& d = down_.try_emplace(node).first->second;
  d.retry_at = now + d.rest.next();
  return d.rest.attempts() == 1;
}

std::optional<int> NodeHealth::recovered(const std::string& node) {
  auto d = down_.find(node);
  if (d == down_.end()) return std::nullopt;
  const int failures = d->second.rest.attempts();
  down_.erase(d);
  return failures;
}

bool NodeHealth::resting(const std::string& node, Clock::time_point now) const {
  auto d = down_.find(node);
  return d != down_.end() && d->second.retry_at > now;
}

void NodeHealth::keep_only(const std::function<bool(const std::string&)>& listed) {
  for (auto d = down_.begin(); d != down_.end();) {
    d = listed(d->first) ? std::next(d) : down_.erase(d);
  }
}

}  // namespace comet
