#include "gateway/redis/cluster_commands.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>

#include "gateway/core/backoff.hpp"
#include "gateway/core/clock.hpp"
#include "gateway/redis/cluster_redirects.hpp"
#include "gateway/redis/commands.hpp"
#include "gateway/redis/detail/guarded_timer.hpp"
#include "gateway/redis/detail/hiredis_asio.hpp"
#include "gateway/redis/host_port.hpp"
#include "gateway/redis/node_health.hpp"
#include "gateway/redis/pending_commands.hpp"
#include "gateway/redis/reply.hpp"
#include "gateway/redis/slot_map_lookup.hpp"
#include "gateway/redis/slot_map_refresh.hpp"
#include "gateway/util/lifetime.hpp"
#include "gateway/util/log.hpp"

namespace comet {
namespace {

using std::chrono::milliseconds;

// While a node is down (node_health.hpp) the slot map is asked for every
// kDownMapInterval, doubling while nothing changes (until a failover shows).
constexpr milliseconds kDownMapInterval{500};
constexpr milliseconds kMaxDownMapInterval{5000};

}  // namespace

// ---- ClusterCommands ------------------------------------------------------

struct ClusterCommands::Impl {
  using Timer = detail::GuardedTimer;

  struct Pending {
    std::string key;
    std::vector<std::string> args;
    Done done;
    ClusterRedirects redirects;  // what its error replies make it do
    bool asking = false;         // sent after ASKING (an ASK redirect)
    std::string node;            // "host:port" it went to; empty while unrouted
  };

  struct Node {
    RedisHostPort at;
    std::unique_ptr<detail::HiredisAsio> conn;
    bool ready = false;
    std::vector<std::pair<std::uint64_t, bool>> queued;  // (command, ASKING first)
    // Broadcasts waiting for the connection, and what to call if it fails.
    std::vector<std::pair<std::vector<std::string>, std::function<void()>>> broadcasts;
  };

  Impl(boost::asio::io_context& io, ClusterCommandsOptions options, const Logger& log)
      : io_(io),
        log_(log),
        opt_(std::move(options)),
        down_timer_(io),
        timeout_timer_(io),
        lookup_timer_(io) {}

  void log_line(LogLevel level, std::string_view text) const { log_.log(level, "redis", text); }

  boost::asio::io_context& io_;
  const Logger& log_;
  ClusterCommandsOptions opt_;
  Lifetime life_;
  bool running_ = false;
  // Commands in flight, wherever they went; the oldest is the first late.
  PendingCommands<Pending> pending_;
  std::map<std::string, Node> nodes_;
  // Nodes whose last connection failed or broke: when to try again.
  NodeHealth health_;
  Timer down_timer_;
  bool down_timer_armed_ = false;
  Backoff down_map_backoff_{kDownMapInterval, kMaxDownMapInterval};
  std::optional<ClusterSlots> slots_;
  std::string slots_summary_;  // for logging changes only
  Timer timeout_timer_;

  // The slot-map lookup: CLUSTER SLOTS on a short-lived connection to one
  // known node after another.
  std::unique_ptr<detail::HiredisAsio> lookup_;
  Timer lookup_timer_;
  SlotMapLookup lookup_fsm_{auth_command(opt_.username, opt_.password)};
  SlotMapRefresh refresh_;  // when a lookup may start

  template <class F>
  void arm(Timer& timer, milliseconds after, F f) {
    timer.arm(after, life_.watch(), std::move(f));
  }
  static void cancel(Timer& timer) { timer.cancel(); }

  RedisUrl url_of(const RedisHostPort& at) const {
    RedisUrl url;
    url.host = at.host;
    url.port = at.port;
    url.username = opt_.username;
    url.password = opt_.password;
    return url;
  }

  bool send_auth(detail::HiredisAsio& conn, detail::HiredisAsio::ReplyHandler done) {
    auto auth = auth_command(opt_.username, opt_.password);
    return !auth.empty() && conn.command(auth, std::move(done));
  }

  void start() {
    running_ = true;
    refresh();
  }

  void stop() {
    running_ = false;
    life_.renew();  // queued completions see a dead life
    refresh_.reset();
    cancel(timeout_timer_);
    cancel(lookup_timer_);
    cancel(down_timer_);
    lookup_.reset();
    nodes_.clear();
    health_.clear();
    pending_.clear();
  }

  void send(std::string_view key, std::vector<std::string> args, Done done) {
    Pending p;
    p.key = std::string(key);
    p.args = std::move(args);
    p.done = std::move(done);
    const std::uint64_t id = pending_.add(std::move(p), Clock::now() + opt_.timeout);
    if (pending_.size() == 1) arm_timeout();
    if (!running_) {
      fail(id);
      return;
    }
    route(id);
  }

  std::size_t broadcast(const std::vector<std::string>& args, const std::function<void()>& lost) {
    if (!running_ || !slots_) return 0;
    std::size_t n = 0;
    for (const auto& m : slots_->masters()) {
      const std::string name = host_port(m);
      // A master that is down publishes nothing that could be in flight.
      if (health_.down(name) && nodes_.count(name) == 0) continue;
      Node& node_ref = node(m);
      if (node_ref.ready) {
        if (node_ref.conn->command(args, [](const redisReply&) {})) ++n;
      } else {
        node_ref.broadcasts.emplace_back(args, lost);
        ++n;
      }
    }
    return n;
  }

  // The caller's `done` with nullptr, from a fresh stack.
  void fail(std::uint64_t id) {
    auto p = pending_.take(id);
    if (!p) return;
    Done done = std::move(p->done);
    boost::asio::post(io_, [life = life_.watch(), done = std::move(done)] {
      if (life.alive()) done(nullptr);
    });
  }

  void route(std::uint64_t id) {
    Pending* found = pending_.find(id);
    if (found == nullptr) return;
    Pending& p = *found;
    p.node.clear();
    if (!slots_) {
      refresh();  // routes the unrouted when it has the map
      return;
    }
    const RedisHostPort* master = slots_->master_of(cluster_key_slot(p.key));
    if (master == nullptr) {
      log_line(LogLevel::warn, "cluster: no master serves the slot of " + p.key);
      fail(id);
      refresh();
      return;
    }
    dispatch(id, *master, false);
  }

  Node& node(const RedisHostPort& at) {
    const std::string name = host_port(at);
    auto [it, fresh] = nodes_.try_emplace(name);
    Node& n = it->second;
    if (!fresh) return n;
    n.at = at;
    detail::HiredisAsio::Events ev;
    ev.on_connected = [this, name] { node_up(name); };
    ev.on_connect_failed = [this, name](const std::string& why) {
      drop_node(name, "connect failed (" + why + ")");
    };
    ev.on_disconnected = [this, name](const std::string& why) { drop_node(name, why); };
    n.conn = std::make_unique<detail::HiredisAsio>(io_, std::move(ev), log_);
    n.conn->connect(url_of(at), opt_.connect_timeout);
    return n;
  }

  void node_up(const std::string& name) {
    auto it = nodes_.find(name);
    if (it == nodes_.end()) return;
    Node& n = it->second;
    // Pipelined: AUTH, the library (or a PING), then what waited; a refused
    // AUTH drops the connection before the rest is answered. The node
    // counts as reachable again only once it has answered properly.
    send_auth(*n.conn, [this, name](const redisReply& r) {
      if (r.type == REDIS_REPLY_ERROR)
        drop_node(name, "AUTH refused (" + std::string(reply_text(r)) + ")");
    });
    auto healthy = [this, name](const redisReply& r) {
      if (r.type == REDIS_REPLY_ERROR &&
          (reply_text(r).starts_with("NOAUTH") || reply_text(r).starts_with("WRONGPASS"))) {
        return;
      }
      if (auto failures = health_.recovered(name)) {
        log_line(LogLevel::info, "cluster: " + name + " reachable again after " +
                                     std::to_string(*failures) + " failed attempts");
      }
    };
    if (opt_.libraries.empty()) {
      n.conn->command({"PING"}, healthy);
    } else {
      load_library(n, healthy);
    }
    n.ready = true;
    for (const auto& [args, lost] : n.broadcasts) n.conn->command(args, [](const redisReply&) {});
    n.broadcasts.clear();
    auto queued = std::move(n.queued);
    n.queued.clear();
    for (auto [id, asking] : queued) transmit(name, id, asking);
  }

  void load_library(Node& n, std::function<void(const redisReply&)> then = nullptr) {
    const std::string name = host_port(n.at);
    for (std::size_t i = 0; i < opt_.libraries.size(); ++i) {
      // `then` hears the first library's answer. The Logger outlives every
      // connection (and so this handler).
      auto first = i == 0 ? then : nullptr;
      n.conn->command(function_load_command(opt_.libraries[i]), [&log = log_, name,
                                                                 first](const redisReply& r) {
        if (first) first(r);
        if (r.type != REDIS_REPLY_ERROR) {
          log.log(LogLevel::info, "redis",
                  "cluster: loaded the " + std::string(reply_text(r)) + " functions on " + name);
        } else if (!library_already_loaded(reply_text(r))) {
          log.log(LogLevel::error, "redis",
                  "cluster: cannot load functions on " + name + " (" + std::string(reply_text(r)) +
                      ")");
        }
      });
    }
  }

  bool resting(const std::string& name) const { return health_.resting(name, Clock::now()); }

  void dispatch(std::uint64_t id, const RedisHostPort& at, bool asking) {
    const std::string name = host_port(at);
    if (resting(name) && nodes_.find(name) == nodes_.end()) {
      fail(id);
      return;
    }
    Node& n = node(at);
    Pending* p = pending_.find(id);
    if (p == nullptr) return;
    p->node = name;
    p->asking = asking;
    if (!n.ready) {
      n.queued.emplace_back(id, asking);
      return;
    }
    transmit(name, id, asking);
  }

  void transmit(const std::string& name, std::uint64_t id, bool asking) {
    const Pending* p = pending_.find(id);
    auto nit = nodes_.find(name);
    if (p == nullptr) return;  // failed meanwhile
    if (nit == nodes_.end()) {
      fail(id);
      return;
    }
    detail::HiredisAsio& conn = *nit->second.conn;
    if (asking) conn.command({"ASKING"}, [](const redisReply&) {});
    bool sent =
        conn.command(p->args, [this, id, name](const redisReply& r) { on_reply(id, name, r); });
    if (!sent) drop_node(name, "cannot send a command");
  }

  void on_reply(std::uint64_t id, const std::string& name, const redisReply& r) {
    Pending* found = pending_.find(id);
    if (found == nullptr || found->node != name) return;
    Pending& p = *found;
    if (r.type == REDIS_REPLY_ERROR) {
      const std::string_view text = reply_text(r);
      auto a = p.redirects.on_error(text, name);
      switch (a.type) {
        case ClusterRedirects::Action::Type::give_up:
          log_line(LogLevel::warn, "cluster: " + p.key + " " + a.why);
          fail(id);
          return;
        case ClusterRedirects::Action::Type::follow: {
          const ClusterRedirect& to = a.redirect;
          if (!to.ask) {
            log_line(LogLevel::info, "cluster: slot " + std::to_string(to.slot) + " moved to " +
                                         host_port(to.node) + " (MOVED)");
            if (slots_) slots_->move(to.slot, to.node);
            refresh();  // one slot moved: others may have too
          }
          dispatch(id, to.node, to.ask);
          return;
        }
        case ClusterRedirects::Action::Type::reload: {
          // A master restarted without persistence lost the functions.
          auto nit = nodes_.find(name);
          if (nit != nodes_.end()) {
            load_library(nit->second);
            transmit(name, id, p.asking);
            return;
          }
          break;  // its node is gone: the error is the answer
        }
        case ClusterRedirects::Action::Type::deliver:
          break;
      }
    }
    Done done = std::move(p.done);
    pending_.take(id);
    done(&r);
  }

  // The connection to a node is over (or useless): every command sent there
  // fails, and the slot map is asked for again (a failover moves masters).
  // `broken`: the node failed (not merely left the slot map), so it rests
  // before the next attempt.
  void drop_node(const std::string& name, const std::string& why, bool broken = true) {
    auto it = nodes_.find(name);
    if (it == nodes_.end()) return;
    auto broadcasts = std::move(it->second.broadcasts);
    nodes_.erase(it);  // safe inside one of its own handlers (HiredisAsio)
    for (auto& [args, lost_one] : broadcasts) {
      if (lost_one) lost_one();
    }
    for (auto id : pending_.ids_where([&](const Pending& p) { return p.node == name; })) fail(id);
    if (!broken) {
      log_line(LogLevel::info, "cluster: closed the connection to " + name + " (" + why + ")");
      return;
    }
    if (health_.failed(name, Clock::now())) {
      log_line(LogLevel::warn, "cluster: connection to " + name + " lost (" + why +
                                   "); trying again with backoff, asking for the slot map");
    }
    refresh();
    // While the slot map names a node that is down, keep asking for it: a
    // failover shows there.
    if (!down_timer_armed_) {
      down_timer_armed_ = true;
      down_map_backoff_.reset();
      arm(down_timer_, down_map_backoff_.next(), [this] { check_down(); });
    }
  }

  // Every down_map_backoff_ wait (doubling to kMaxDownMapInterval while nothing
  // changes): the next attempt at nodes that are down, and the slot map.
  void check_down() {
    down_timer_armed_ = false;
    if (!slots_) return;
    bool any = false;
    for (const auto& m : slots_->masters()) {
      const std::string name = host_port(m);
      if (health_.down(name) && nodes_.count(name) == 0) {
        any = true;
        if (!resting(name)) node(m);  // the next attempt
      }
    }
    if (!any) return;
    refresh();
    down_timer_armed_ = true;
    arm(down_timer_, down_map_backoff_.next(), [this] { check_down(); });
  }

  void arm_timeout() {
    const auto deadline = pending_.next_deadline();
    if (!deadline) return;
    auto due = *deadline - Clock::now();
    arm(timeout_timer_, std::max(milliseconds(1), std::chrono::ceil<milliseconds>(due)), [this] {
      const auto now = Clock::now();
      while (pending_.timed_out(now)) {
        const std::uint64_t id = *pending_.oldest();
        const std::string name = pending_.find(id)->node;
        if (name.empty()) {
          fail(id);  // still waiting for the slot map
        } else {
          drop_node(name, "no answer in " + std::to_string(opt_.timeout.count()) + " ms");
          fail(id);  // in case its node was gone already
        }
      }
      arm_timeout();
    });
  }

  // ---- the slot map ---------------------------------------------------------

  void refresh() {
    if (!running_) return;
    const auto now = Clock::now();
    const auto decision = refresh_.request(now);
    using Type = SlotMapRefresh::Decision::Type;
    if (decision.type == Type::noted) return;
    if (decision.type == Type::wait) {
      arm(lookup_timer_, std::chrono::ceil<milliseconds>(decision.at - now), [this] {
        refresh_.wait_over();
        refresh();
      });
      return;
    }
    drive_lookup(lookup_fsm_.start(SlotMapRefresh::candidates(
        slots_ ? slots_->masters() : std::vector<RedisHostPort>{}, opt_.seeds,
        [this](const RedisHostPort& at) { return health_.down(host_port(at)); })));
  }

  // Every handler below belongs to lookup_ or lookup_timer_, both replaced
  // or dropped by the next connect or end: none sees a later node's state.
  void drive_lookup(SlotMapLookup::Action a) {
    using Type = SlotMapLookup::Action::Type;
    switch (a.type) {
      case Type::wait:
        return;
      case Type::connect: {
        cancel(lookup_timer_);
        lookup_.reset();  // safe inside its own handlers (HiredisAsio)
        detail::HiredisAsio::Events ev;
        ev.on_connected = [this] { drive_lookup(lookup_fsm_.on_connected()); };
        ev.on_connect_failed = [this](const std::string& why) {
          drive_lookup(lookup_fsm_.on_error(why));
        };
        ev.on_disconnected = ev.on_connect_failed;
        lookup_ = std::make_unique<detail::HiredisAsio>(io_, std::move(ev), log_);
        lookup_->connect(url_of(a.node), opt_.connect_timeout);
        arm(lookup_timer_, opt_.connect_timeout,
            [this] { drive_lookup(lookup_fsm_.on_error("no answer in time")); });
        return;
      }
      case Type::send: {
        if (!a.auth.empty()) {
          lookup_->command(
              a.auth, [this](const redisReply& r) { drive_lookup(lookup_fsm_.on_auth_reply(r)); });
        }
        bool sent = lookup_->command(
            a.command, [this](const redisReply& r) { drive_lookup(lookup_fsm_.on_reply(r)); });
        if (!sent) drive_lookup(lookup_fsm_.on_error("cannot send CLUSTER SLOTS"));
        return;
      }
      case Type::found:
        got_slots(std::move(*a.slots));
        return;
      case Type::failed:
        lookup_end();
        log_line(LogLevel::warn, "cluster: no node gave the slot map (" + a.why + ")");
        for (auto id : pending_.ids_where([](const Pending& p) { return p.node.empty(); })) {
          fail(id);
        }
        if (refresh_.done(Clock::now(), false, slots_.has_value())) refresh();
        return;
    }
  }

  void lookup_end() {
    cancel(lookup_timer_);
    lookup_.reset();  // safe inside its own handlers (HiredisAsio)
  }

  void got_slots(ClusterSlots slots) {
    lookup_end();
    const bool again = refresh_.done(Clock::now(), true, true);
    std::string summary;
    for (const auto& m : slots.masters()) summary += (summary.empty() ? "" : ", ") + host_port(m);
    summary = std::to_string(slots.masters().size()) + " masters (" + summary + ") serve " +
              std::to_string(slots.slots_served()) + " of " + std::to_string(kClusterSlots) +
              " slots";
    if (summary != slots_summary_) {
      log_line(LogLevel::info, "cluster: " + summary);
      slots_summary_ = summary;
      // Back to the shortest interval; the wait now running counts as the
      // first of them.
      down_map_backoff_.reset();
      down_map_backoff_.next();
    }
    slots_ = std::move(slots);
    // Every master gets a connection now, so the functions are loaded on
    // each before a publisher needs them; connections to nodes that are
    // no longer masters are closed.
    for (const auto& m : slots_->masters()) {
      if (!resting(host_port(m))) node(m);
    }
    std::vector<std::string> stale;
    for (auto& [name, n] : nodes_) {
      const auto& masters = slots_->masters();
      if (std::find(masters.begin(), masters.end(), n.at) == masters.end()) stale.push_back(name);
    }
    for (const auto& name : stale) drop_node(name, "no longer a master", false);
    // Nodes that left the slot map are forgotten.
    health_.keep_only([&](const std::string& name) {
      const auto& masters = slots_->masters();
      return std::any_of(masters.begin(), masters.end(),
                         [&](const RedisHostPort& m) { return host_port(m) == name; });
    });
    for (auto id : pending_.ids_where([](const Pending& p) { return p.node.empty(); })) route(id);
    if (again) refresh();
  }
};

ClusterCommands::ClusterCommands(boost::asio::io_context& io, ClusterCommandsOptions options,
                                 const Logger& log)
    : impl_(std::make_unique<Impl>(io, std::move(options), log)) {}

ClusterCommands::~ClusterCommands() {
  impl_->stop();
}

void ClusterCommands::start() {
  impl_->start();
}

void ClusterCommands::send(std::string_view key, std::vector<std::string> args, Done done) {
  impl_->send(key, std::move(args), std::move(done));
}

void ClusterCommands::stop() {
  impl_->stop();
}

std::size_t ClusterCommands::broadcast(const std::vector<std::string>& args,
                                       const std::function<void()>& lost) {
  return impl_->broadcast(args, lost);
}

std::vector<RedisHostPort> ClusterCommands::master_nodes() const {
  return impl_->slots_ ? impl_->slots_->masters() : std::vector<RedisHostPort>{};
}

std::size_t ClusterCommands::masters() const {
  return impl_->slots_ ? impl_->slots_->masters().size() : 0;
}

}  // namespace comet
