// Occupancy: how many clients (parked polls and open streams) each channel
// has here, reported to Redis every interval (only what changed), so that
// Comet::occupancy() and the channels endpoint can sum over the gateways
// (redis/keys.hpp: occupancy_key, gateway_registry_key). A report holds for
// a few intervals: a dead gateway's counts lapse by themselves.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <map>
#include <string>

#include "gateway/core/hub.hpp"
#include "gateway/redis/redis_client.hpp"
#include "gateway/util/lifetime.hpp"

namespace comet {

class Occupancy {
 public:
  static constexpr std::chrono::milliseconds kInterval{2000};
  static constexpr std::chrono::milliseconds kHolds{10000};  // a report's life

  // `id`: this gateway's, unique among those sharing the Redis.
  Occupancy(boost::asio::io_context& io, std::string id, const Hub& hub, RedisClient& redis);

  void start();
  void stop();
  const std::string& id() const { return id_; }

 private:
  void report();

  boost::asio::io_context& io_;
  std::string id_;
  const Hub& hub_;
  RedisClient& redis_;
  boost::asio::steady_timer timer_;
  // What Redis has of this gateway's, after the last report it took.
  std::map<std::string, std::size_t, std::less<>> sent_;
  bool resend_ = true;
  bool in_flight_ = false;
  Lifetime life_;
};

}  // namespace comet
