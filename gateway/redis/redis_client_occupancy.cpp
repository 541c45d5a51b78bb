// RedisClient's occupancy reports and reads (keys.hpp), on the command link.
#include <hiredis/hiredis.h>

#include <boost/asio/post.hpp>
#include <charconv>

#include "gateway/redis/detail/redis_client_impl.hpp"
#include "gateway/redis/keys.hpp"
#include "gateway/redis/reply.hpp"

namespace comet {
namespace {

std::optional<std::uint64_t> count_of(const redisReply* r) {
  if (r == nullptr) return std::nullopt;
  if (r->type == REDIS_REPLY_INTEGER) {
    return r->integer < 0 ? std::nullopt : std::optional<std::uint64_t>(r->integer);
  }
  if (r->type != REDIS_REPLY_STRING) return std::nullopt;
  std::uint64_t v = 0;
  const auto text = reply_text(*r);
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace

bool RedisClient::occupancy_report(std::string_view id,
                                   const std::vector<std::pair<std::string, std::size_t>>& counts,
                                   const std::vector<std::string>& gone, bool replace, WallMs now,
                                   WallMs ttl_ms, std::function<void(bool)> done) {
  Impl& im = *impl_;
  const std::string key = occupancy_key(im.opt_.prefix, id);
  const std::string registry = gateway_registry_key(im.opt_.prefix);
  // Every command's answer is needed before `done`: a shared tally.
  struct Tally {
    int waiting = 0;
    bool ok = true;
    std::function<void(bool)> done;
  };
  auto tally = std::make_shared<Tally>();
  tally->done = std::move(done);
  auto answer = [&im, tally, life = im.life_.watch()](bool ok) {
    tally->ok = tally->ok && ok;
    if (--tally->waiting > 0) return;
    boost::asio::post(im.io_, [life, tally] {
      if (life.alive()) tally->done(tally->ok);
    });
  };
  std::vector<std::vector<std::string>> cmds;
  if (replace) cmds.push_back({"DEL", key});
  if (!counts.empty()) {
    std::vector<std::string> hset{"HSET", key};
    for (const auto& [channel, n] : counts) {
      hset.push_back(channel);
      hset.push_back(std::to_string(n));
    }
    cmds.push_back(std::move(hset));
  }
  if (!gone.empty() && !replace) {
    std::vector<std::string> hdel{"HDEL", key};
    hdel.insert(hdel.end(), gone.begin(), gone.end());
    cmds.push_back(std::move(hdel));
  }
  const std::size_t pexpire = cmds.size();
  cmds.push_back({"PEXPIRE", key, std::to_string(ttl_ms)});
  // Past reports are dropped from the registry as they lapse.
  cmds.push_back({"ZREMRANGEBYSCORE", registry, "-inf", std::to_string(now)});
  cmds.push_back({"ZADD", registry, std::to_string(now + ttl_ms), std::string(id)});
  tally->waiting = static_cast<int>(cmds.size());
  for (std::size_t i = 0; i < cmds.size(); ++i) {
    const std::string route = cmds[i][1];
    // PEXPIRE answers 0 when the hash is gone (a Redis restart, or an
    // empty report): then everything is sent again. With nothing to report
    // the hash does not exist, which is as it should be.
    const bool check = i == pexpire && !counts.empty();
    const bool sent =
        im.send_command(route, std::move(cmds[i]), [answer, check](const redisReply* r) {
          bool ok = r != nullptr && r->type != REDIS_REPLY_ERROR;
          if (ok && check) ok = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
          answer(ok);
        });
    if (!sent) {
      // The link went: what was sent is answered (failed) when it goes.
      tally->waiting -= static_cast<int>(cmds.size() - i);
      tally->ok = false;
      if (tally->waiting == 0) return false;
      return true;
    }
  }
  return true;
}

bool RedisClient::occupancy_read(
    std::string_view prefix, WallMs now,
    std::function<void(std::optional<std::map<std::string, std::uint64_t>>)> done) {
  Impl& im = *impl_;
  const std::string registry = gateway_registry_key(im.opt_.prefix);
  struct Read {
    std::string prefix;
    std::map<std::string, std::uint64_t> sums;
    int waiting = 0;
    bool ok = true;
    std::function<void(std::optional<std::map<std::string, std::uint64_t>>)> done;
    void finish(Impl& im, Lifetime::Watch life, std::shared_ptr<Read> self) {
      boost::asio::post(im.io_, [life, self] {
        if (!life.alive()) return;
        if (self->ok) {
          self->done(std::move(self->sums));
        } else {
          self->done(std::nullopt);
        }
      });
    }
  };
  auto read = std::make_shared<Read>();
  read->prefix = std::string(prefix);
  read->done = std::move(done);
  return im.send_command(registry, {"ZRANGEBYSCORE", registry, std::to_string(now), "+inf"},
                         [&im, read, life = im.life_.watch()](const redisReply* r) {
                           if (r == nullptr || r->type != REDIS_REPLY_ARRAY) {
                             read->ok = false;
                             read->finish(im, life, read);
                             return;
                           }
                           std::vector<std::string> ids;
                           for (std::size_t i = 0; i < r->elements; ++i)
                             ids.emplace_back(reply_text(*r->element[i]));
                           if (ids.empty()) {
                             read->finish(im, life, read);
                             return;
                           }
                           read->waiting = static_cast<int>(ids.size());
                           for (const auto& id : ids) {
                             const std::string key = occupancy_key(im.opt_.prefix, id);
                             const bool sent = im.send_command(
                                 key, {"HGETALL", key}, [&im, read, life](const redisReply* h) {
                                   if (h == nullptr || h->type != REDIS_REPLY_ARRAY) {
                                     read->ok = false;
                                   } else {
                                     for (std::size_t i = 0; i + 1 < h->elements; i += 2) {
                                       const std::string channel(reply_text(*h->element[i]));
                                       if (!channel.starts_with(read->prefix)) continue;
                                       if (auto n = count_of(h->element[i + 1]))
                                         read->sums[channel] += *n;
                                     }
                                   }
                                   if (--read->waiting == 0) read->finish(im, life, read);
                                 });
                             if (!sent) {
                               read->ok = false;
                               if (--read->waiting == 0) read->finish(im, life, read);
                             }
                           }
                         });
}

bool RedisClient::presence_sizes(
    std::vector<std::string> channels,
    std::function<void(std::optional<std::vector<std::uint64_t>>)> done) {
  Impl& im = *impl_;
  struct Sizes {
    std::vector<std::uint64_t> n;
    int waiting = 0;
    bool ok = true;
    std::function<void(std::optional<std::vector<std::uint64_t>>)> done;
  };
  auto sizes = std::make_shared<Sizes>();
  sizes->n.resize(channels.size());
  sizes->done = std::move(done);
  sizes->waiting = static_cast<int>(channels.size()) + 1;  // + this call's own
  auto one_done = [&im, sizes, life = im.life_.watch()] {
    if (--sizes->waiting > 0) return;
    boost::asio::post(im.io_, [life, sizes] {
      if (!life.alive()) return;
      if (sizes->ok) {
        sizes->done(std::move(sizes->n));
      } else {
        sizes->done(std::nullopt);
      }
    });
  };
  for (std::size_t i = 0; i < channels.size(); ++i) {
    const std::string key = presence_keys(im.opt_.prefix, channels[i])[0];
    const bool sent =
        im.send_command(key, {"ZCARD", key}, [sizes, i, one_done](const redisReply* r) {
          auto n = count_of(r);
          if (n) {
            sizes->n[i] = *n;
          } else {
            sizes->ok = false;
          }
          one_done();
        });
    if (!sent) {
      sizes->ok = false;
      one_done();
    }
  }
  one_done();
  return true;
}

}  // namespace comet
