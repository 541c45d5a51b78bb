#include "gateway/app/occupancy.hpp"

#include "gateway/util/wall_clock.hpp"

#include <utility>
#include <vector>

namespace comet {

Occupancy::Occupancy(boost::asio::io_context& io, std::string id, const Hub& hub,
                     RedisClient& redis)
    : io_(io), id_(std::move(id)), hub_(hub), redis_(redis), timer_(io) {}

void Occupancy::start() {
  timer_.expires_after(kInterval);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    report();
    start();
  });
}

void Occupancy::stop() {
  timer_.cancel();
  life_.renew();
}

void Occupancy::report() {
  if (in_flight_) return;  // Redis is slow: the next interval sends the news
  std::map<std::string, std::size_t, std::less<>> now;
  hub_.for_each_occupied(
      [&](std::string_view channel, std::size_t clients) { now.emplace(channel, clients); });
  std::vector<std::pair<std::string, std::size_t>> counts;
  std::vector<std::string> gone;
  for (const auto& [channel, n] : now) {
    auto it = sent_.find(channel);
    if (resend_ || it == sent_.end() || it->second != n) counts.emplace_back(channel, n);
  }
  if (!resend_) {
    for (const auto& [channel, n] : sent_) {
      if (now.find(channel) == now.end()) gone.push_back(channel);
    }
  }
  const auto wall = wall_ms();
  in_flight_ =
      redis_.occupancy_report(id_, counts, gone, resend_, wall, kHolds.count(),
                              [this, life = life_.watch(), now = std::move(now)](bool ok) mutable {
                                if (!life.alive()) return;
                                in_flight_ = false;
                                resend_ = !ok;
                                sent_ = std::move(now);
                              });
  if (!in_flight_) resend_ = true;
}

}  // namespace comet
