// The cost of a presence channel: --members users (10,000), each a long
// poll of its own user, on one presence channel across two gateways, over
// multiplexed FastCGI straight to the gateways' sockets (nginx would need
// two fds per poll, past this machine's open-file limit). In one run:
//
//   plain    the same polls on a plain channel: the gateways' CPU and
//            Redis's commands with presence off;
//   join     every user's first poll, paced at --join-rate: Redis commands,
//            bytes and CPU per join, and each join's member_added webhook;
//   steady   everyone parked, following cursors: Redis commands/s and CPU,
//            the gateways' CPU, and what the presence keys take in memory;
//   probes   one more user joins, --probes times in turn: the time until
//            every client has the join, and its member_added webhook;
//   leaves   the probes end their polls: the time until every client has
//            the leave, and until the member_removed webhook;
//   leave    every connection closes: Redis commands per leave, and each
//            member_removed webhook.
//
// Redis figures are INFO deltas (commandstats counts the commands the
// functions run too), without the bench's own INFO, ZCARD and MEMORY.
#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "bench/comet_bench/scenarios.hpp"
#include "bench/comet_bench/stack.hpp"
#include "bench/common/clock.hpp"
#include "bench/common/die.hpp"
#include "bench/common/fcgi_client.hpp"
#include "bench/common/fcgi_codec.hpp"
#include "bench/common/machine_load.hpp"
#include "bench/common/proc.hpp"
#include "bench/common/redis_conn.hpp"
#include "bench/common/sockets.hpp"
#include "bench/common/stats.hpp"
#include "bench/common/table.hpp"
#include "bench/common/text.hpp"
#include "bench/common/token.hpp"
#include "bench/common/webhook_sink.hpp"

namespace bench {

namespace {

constexpr std::string_view kTokenSecret = "bench-token-secret-0123456789";
constexpr std::string_view kHookSecret = "bench-webhook-secret-0123456789";
const std::string kChannel = "lobby";
const std::string kPlain = "plain";
// 250 users per connection: a member list for each joiner (up to 10,000
// members, ~40 bytes each) is queued on its connection, and the gateway
// closes a connection with more than --max-write-queue-bytes queued.
constexpr int kConnsPerGateway = 20;
// Answers are kept up to this much per request: the cursor and the status
// are at the start, and the joins and leaves watched for come in small
// answers; a member list ("here") of thousands is cut.
constexpr std::size_t kKeepBytes = 16 * 1024;

struct Member {
  std::size_t conn = 0;
  std::uint16_t id = 0;
  std::string user, token, channel, cursor;
  bool open = false, follow = false;
  std::string body;
  Clock::time_point joined;  // when its first poll on the channel was sent
};

// The users: long polls that follow their cursors, on multiplexed FastCGI
// connections to the gateways, driven by one epoll loop.
class Swarm {
 public:
  explicit Swarm(std::vector<std::string> sockets) : sockets_(std::move(sockets)) {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
  }
  ~Swarm() {
    close_all();
    ::close(ep_);
  }
  Swarm(const Swarm&) = delete;
  Swarm& operator=(const Swarm&) = delete;

  std::size_t add_member(std::size_t conn, std::string user, std::string token) {
    Member m;
    m.conn = conn;
    m.id = static_cast<std::uint16_t>(conns_[conn].by_id.size());
    conns_[conn].by_id.push_back(members_.size());
    m.user = std::move(user);
    m.token = std::move(token);
    members_.push_back(std::move(m));
    return members_.size() - 1;
  }
  // Opens `count` connections to gateway `g`; returns the first's index.
  std::size_t open(int g, int count) {
    const std::size_t first = conns_.size();
    for (int i = 0; i < count; ++i) {
      Conn c;
      c.fd = unix_connect(sockets_[static_cast<std::size_t>(g)]);
      if (c.fd < 0) die("connect to gateway " + std::to_string(g + 1) + " failed");
      fcntl(c.fd, F_SETFL, fcntl(c.fd, F_GETFL) | O_NONBLOCK);
      c.by_id.push_back(SIZE_MAX);  // request id 0 is the management id
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = conns_.size();
      epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev);
      conns_.push_back(std::move(c));
    }
    return first;
  }
  // Every connection closed: every request on them ends. The members stay,
  // without a request and without a cursor, for connect() to reuse.
  void close_all() {
    for (auto& c : conns_) {
      if (c.fd >= 0) ::close(c.fd);
      c.fd = -1;
    }
    for (auto& m : members_) {
      m.open = false;
      m.follow = false;
      m.cursor.clear();
    }
  }
  // Opens the connections again (after close_all), same layout.
  void reconnect() {
    for (std::size_t i = 0; i < conns_.size(); ++i) {
      Conn& c = conns_[i];
      c.fd = unix_connect(sockets_[static_cast<std::size_t>(c.gateway)]);
      if (c.fd < 0) die("reconnect to a gateway failed");
      fcntl(c.fd, F_SETFL, fcntl(c.fd, F_GETFL) | O_NONBLOCK);
      c.in.clear();
      c.out.clear();
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = i;
      epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev);
    }
  }
  void set_gateway(std::size_t conn, int g) { conns_[conn].gateway = g; }

  // Queues member m's poll on `channel` (from its cursor, if it has one);
  // it polls again on every answer.
  void poll(std::size_t m, const std::string& channel) {
    Member& x = members_[m];
    x.channel = channel;
    x.follow = true;
    x.joined = Clock::now();
    send(x);
  }
  // Ends member m's request (FCGI_ABORT_REQUEST) and stops its polling.
  void abort(std::size_t m) {
    Member& x = members_[m];
    x.follow = false;
    fcgi::append_record(conns_[x.conn].out, FCGI_ABORT_REQUEST, x.id, {});
  }
  void flush() {
    for (auto& c : conns_) {
      if (c.fd >= 0 && !c.out.empty()) write_all(c.fd, c.out);
      c.out.clear();
    }
  }
  // Serves the connections until done() (checked at least every 50 ms) or
  // the limit; false on the limit.
  template <class F>
  bool run_until(F done, std::chrono::milliseconds limit) {
    const auto deadline = Clock::now() + limit;
    std::vector<epoll_event> events(256);
    for (;;) {
      flush();
      if (done()) return true;
      if (Clock::now() > deadline) return false;
      const int k = epoll_wait(ep_, events.data(), static_cast<int>(events.size()), 50);
      for (int e = 0; e < k; ++e) readable(events[static_cast<std::size_t>(e)].data.u64);
    }
  }

  Member& member(std::size_t m) { return members_[m]; }
  std::size_t size() const { return members_.size(); }
  std::size_t open_requests() const {
    std::size_t n = 0;
    for (const auto& m : members_) n += m.open;
    return n;
  }

  // Called with each answer's body (its first kKeepBytes) before the
  // member polls again.
  std::function<void(std::size_t m, std::string_view body)> on_answer;
  long answers = 0, refused = 0;
  long long bytes = 0;
  Clock::time_point last_answer = Clock::now();
  std::string first_refusal;

 private:
  struct Conn {
    int fd = -1;
    int gateway = 0;
    std::string in, out;
    std::vector<std::size_t> by_id;
  };

  void send(Member& x) {
    std::string q = "channel=" + x.channel + "&timeout=25&token=" + x.token;
    if (!x.cursor.empty()) q += "&since=" + x.cursor;
    fcgi_request(conns_[x.conn].out, x.id, "/comet/poll", q);
    x.open = true;
    x.body.clear();
    x.body.shrink_to_fit();
  }

  void readable(std::size_t ci) {
    Conn& c = conns_[ci];
    char buf[1 << 16];
    for (;;) {
      const ssize_t r = ::read(c.fd, buf, sizeof buf);
      if (r <= 0) break;
      bytes += r;
      c.in.append(buf, static_cast<std::size_t>(r));
    }
    std::size_t p = 0;
    while (c.in.size() - p >= fcgi::kHeaderLen) {
      const fcgi::Header h = fcgi::decode_header(c.in.data() + p);
      if (c.in.size() - p < h.record_len()) break;
      const std::size_t mi = h.request_id < c.by_id.size() ? c.by_id[h.request_id] : SIZE_MAX;
      if (mi != SIZE_MAX) {
        Member& x = members_[mi];
        if (h.type == FCGI_STDOUT && x.body.size() < kKeepBytes)
          x.body.append(c.in, p + fcgi::kHeaderLen,
                        std::min<std::size_t>(h.content_length, kKeepBytes - x.body.size()));
        if (h.type == FCGI_END_REQUEST) answered(mi);
      }
      p += h.record_len();
    }
    c.in.erase(0, p);
  }

  void answered(std::size_t mi) {
    Member& x = members_[mi];
    x.open = false;
    ++answers;
    last_answer = Clock::now();
    const auto head_end = x.body.find("\r\n\r\n");
    const std::string_view body = head_end == std::string::npos
                                      ? std::string_view()
                                      : std::string_view(x.body).substr(head_end + 4);
    if (!x.body.starts_with("Status: 200")) {
      // A refusal or an aborted request (no body): not followed.
      if (!x.body.empty() && ++refused == 1) first_refusal = x.body.substr(0, 300);
      x.follow = false;
      return;
    }
    const auto at = body.find("\"cursor\":\"");
    if (at != std::string_view::npos) {
      const auto start = at + 10;
      x.cursor.assign(body.substr(start, body.find('"', start) - start));
    }
    if (on_answer) on_answer(mi, body);
    if (x.follow) send(x);
  }

  std::vector<std::string> sockets_;
  int ep_ = -1;
  std::vector<Conn> conns_;
  std::vector<Member> members_;
};

// What Redis, the gateways and the machine did between begin() and end().
struct Window {
  double secs = 0;
  std::map<std::string, long long> calls, usec;
  long long all_calls = 0;
  double redis_cpu_ms = 0;
  long long net_in = 0, net_out = 0;
  std::vector<double> gw_cpu_ms;
  double other_cpu_pct = 0;
  long answers = 0;
  long long client_bytes = 0;

  double per_sec(long long v) const { return secs > 0 ? v / secs : 0; }
  long long count(const std::string& name) const {
    auto it = calls.find(name);
    return it == calls.end() ? 0 : it->second;
  }
};

class Meter {
 public:
  Meter(RedisConn& redis, const Stack& st, Swarm& swarm)
      : redis_(redis), st_(st), swarm_(swarm), other_(st.own_pids()) {}
  void begin() {
    // This INFO's request is in its own figures, its reply is not (Redis
    // counts output once written): the reply is the bench's, the request not.
    own_in0_ = redis_.bytes_in();
    info0_ = info();
    own0_ = redis_.sent();
    own_out0_ = redis_.bytes_out();
    gw0_.clear();
    for (pid_t p : st_.gateway_pids()) gw0_.push_back(cpu_ns(p));
    other_ = OtherCpu(st_.own_pids());
    answers0_ = swarm_.answers;
    bytes0_ = swarm_.bytes;
    t0_ = Clock::now();
  }
  Window end() {
    Window w;
    w.secs = std::chrono::duration<double>(Clock::now() - t0_).count();
    const auto pids = st_.gateway_pids();
    for (std::size_t i = 0; i < pids.size(); ++i)
      w.gw_cpu_ms.push_back((cpu_ns(pids[i]) - gw0_[i]) / 1e6);
    w.other_cpu_pct = other_.percent();
    w.answers = swarm_.answers - answers0_;
    w.client_bytes = swarm_.bytes - bytes0_;
    // The bench's own commands and bytes, up to and including this INFO
    // (its request is counted; its reply is not, when Redis answers it).
    const long long out_before_info = redis_.bytes_out();
    const long long in_before_info = redis_.bytes_in();
    const RedisInfo a = info();
    const RedisInfo& b = info0_;
    for (const auto& [name, n] : a.calls) {
      long long d = n - (b.calls.count(name) ? b.calls.at(name) : 0);
      const auto own = redis_.sent();
      if (own.count(name)) d -= own.at(name) - (own0_.count(name) ? own0_.at(name) : 0);
      if (d <= 0) continue;
      w.calls[name] = d;
      w.all_calls += d;
      w.usec[name] = a.usec.at(name) - (b.usec.count(name) ? b.usec.at(name) : 0);
    }
    auto v = [](const RedisInfo& i, const char* k) {
      auto it = i.values.find(k);
      return it == i.values.end() ? 0.0 : it->second;
    };
    w.redis_cpu_ms = 1000.0 * (v(a, "used_cpu_user") + v(a, "used_cpu_sys") -
                               v(b, "used_cpu_user") - v(b, "used_cpu_sys"));
    w.net_in =
        static_cast<long long>(v(a, "total_net_input_bytes") - v(b, "total_net_input_bytes")) -
        (out_before_info - own_out0_);
    w.net_out =
        static_cast<long long>(v(a, "total_net_output_bytes") - v(b, "total_net_output_bytes")) -
        (in_before_info - own_in0_);
    return w;
  }

 private:
  RedisInfo info() { return parse_info(redis_.command({"INFO", "everything"}).text); }

  RedisConn& redis_;
  const Stack& st_;
  Swarm& swarm_;
  OtherCpu other_;
  RedisInfo info0_;
  std::map<std::string, long long> own0_;
  long long own_in0_ = 0, own_out0_ = 0;
  std::vector<double> gw0_;
  long answers0_ = 0;
  long long bytes0_ = 0;
  Clock::time_point t0_;
};

std::string top_commands(const Window& w, std::size_t n) {
  std::vector<std::pair<long long, std::string>> v;
  for (const auto& [name, c] : w.calls) v.push_back({c, name});
  std::sort(v.rbegin(), v.rend());
  std::string out;
  for (std::size_t i = 0; i < std::min(n, v.size()); ++i) {
    if (!out.empty()) out += ", ";
    out += v[i].second + " " + std::to_string(v[i].first);
  }
  return out;
}

struct Spread {
  double p50 = NAN, p99 = NAN, max = NAN;
  std::size_t n = 0;
};
Spread spread(std::vector<double> v) {
  std::erase_if(v, [](double x) { return std::isnan(x); });
  std::sort(v.begin(), v.end());
  Spread s;
  s.n = v.size();
  if (v.empty()) return s;
  s.p50 = percentile(v, 50);
  s.p99 = percentile(v, 99);
  s.max = v.back();
  return s;
}
std::string show(const Spread& s, const char* f = "%.0f") {
  return fmt(f, s.p50) + " / " + fmt(f, s.p99) + " / " + fmt(f, s.max) + " (n " +
         std::to_string(s.n) + ")";
}

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

}  // namespace

int scenario_presence(const Options& o) {
  const int n = o.members;
  const int probes = o.probes;
  std::printf(
      "presence: %d users on one presence channel across 2 gateways (multiplexed FastCGI, unix "
      "sockets), --presence-grace 5 s, --webhook-delay 3 s; windows of %.0f s\n",
      n, o.window);
  std::fflush(stdout);
  Stack st(o);
  st.start_redis();
  WebhookSink hooks;
  st.start_gateways(
      "unix", 2,
      {"--token-secret", std::string(kTokenSecret), "--presence", kChannel, "--webhook",
       "http://127.0.0.1:" + std::to_string(hooks.port()) + "/hooks", "--webhook-secret",
       std::string(kHookSecret), "--max-requests-per-connection", "65535", "--max-parked",
       std::to_string(n + probes + 1000), "--max-write-queue-bytes", "268435456",
       "--max-write-queue-bytes-total", "2147483648"});
  std::vector<std::string> sockets{(st.dir() / "gw.sock").string(),
                                   (st.dir() / "gw-2.sock").string()};
  for (const auto& s : sockets)
    wait_for("gateway health",
             [&] { return fcgi_get(s, "/comet/health").find("\"up\"") != std::string::npos; });
  RedisConn redis(st.redis_port());
  const std::string zset = "comet:{" + kChannel + "}:presence";
  const std::string keys[] = {zset, zset + ":info", zset + ":gone", zset + ":v"};
  auto zcard = [&](const std::string& k) { return redis.command({"ZCARD", k}).integer; };
  auto parked = [&] { return st.gateway_metric("comet_parked_requests"); };

  // The users: member i on gateway i % 2, its connections taking turns.
  Swarm swarm(sockets);
  const long exp = static_cast<long>(std::time(nullptr)) + 3600;
  auto token_for = [&](const std::string& user) {
    return sign_token(kTokenSecret, "{\"ch\":[\"" + kChannel + "\",\"" + kPlain +
                                        "\"],\"exp\":" + std::to_string(exp) + ",\"user\":\"" +
                                        user + "\",\"info\":{\"name\":\"" + user + "\"}}");
  };
  std::vector<std::size_t> first_conn;
  for (int g = 0; g < 2; ++g) {
    first_conn.push_back(swarm.open(g, kConnsPerGateway + 1));
    for (int i = 0; i <= kConnsPerGateway; ++i) swarm.set_gateway(first_conn.back() + i, g);
  }
  char name[32];
  for (int i = 0; i < n; ++i) {
    std::snprintf(name, sizeof name, "u%05d", i);
    const std::size_t conn = first_conn[static_cast<std::size_t>(i % 2)] +
                             static_cast<std::size_t>((i / 2) % kConnsPerGateway);
    swarm.add_member(conn, name, token_for(name));
  }
  std::vector<std::size_t> probe_ids;
  for (int j = 0; j < probes; ++j) {
    std::snprintf(name, sizeof name, "probe-%02d", j);
    probe_ids.push_back(swarm.add_member(
        first_conn[static_cast<std::size_t>(j % 2)] + kConnsPerGateway, name, token_for(name)));
  }
  Meter meter(redis, st, swarm);
  // Everyone parked again and nothing answered for a second; false (and
  // says so) past two minutes.
  auto settle = [&](long want_parked, const char* what) {
    auto last_check = Clock::now() - 1s;
    if (swarm.run_until(
            [&] {
              if (Clock::now() - swarm.last_answer < 1s || Clock::now() - last_check < 250ms)
                return false;
              last_check = Clock::now();
              return parked() >= want_parked;
            },
            120s))
      return true;
    const auto each = st.gateway_metrics("comet_parked_requests");
    std::printf(
        "  WARNING: not settled after %s in 120 s: parked %ld + %ld of %ld, %zu requests open, %ld "
        "answers\n",
        what, each.at(0), each.at(1), want_parked, swarm.open_requests(), swarm.answers);
    return false;
  };
  auto steady_window = [&] {
    swarm.run_until([&] { return false; }, 200ms);
    wait_quiet(60s);
    meter.begin();
    swarm.run_until([&] { return false; },
                    std::chrono::milliseconds(static_cast<long>(o.window * 1000)));
    return meter.end();
  };

  // ---- plain: presence off, the same users on a plain channel ----
  std::printf("  plain: %d polls on a plain channel\n", n);
  std::fflush(stdout);
  for (int i = 0; i < n; ++i) swarm.poll(static_cast<std::size_t>(i), kPlain);
  if (!settle(n, "parking on the plain channel")) die("the plain polls did not park");
  const Window plain = steady_window();
  swarm.close_all();
  wait_for(
      "the plain polls to end", [&] { return parked() == 0; }, 30s);
  swarm.reconnect();

  // ---- join: every user's first poll on the presence channel ----
  std::printf("  join: %d users at %d/s\n", n, o.join_rate);
  std::fflush(stdout);
  wait_quiet(60s);
  meter.begin();
  const auto join0 = Clock::now();
  int joined = 0;
  auto last_zcard = Clock::now() - 1s;
  long long members_now = 0;
  const bool joined_all = swarm.run_until(
      [&] {
        const int due = std::min<int>(
            n, static_cast<int>(std::chrono::duration<double>(Clock::now() - join0).count() *
                                o.join_rate) +
                   1);
        for (; joined < due; ++joined) swarm.poll(static_cast<std::size_t>(joined), kChannel);
        if (joined < n || Clock::now() - last_zcard < 250ms) return false;
        last_zcard = Clock::now();
        members_now = zcard(zset);
        return members_now == n && hooks.count("member_added") >= n &&
               Clock::now() - swarm.last_answer > 1s && parked() >= n;
      },
      180s);
  const Window join = meter.end();
  if (!joined_all)
    std::printf("  WARNING: joins not complete after 180 s: %lld members, %ld member_added\n",
                members_now, hooks.count("member_added"));
  const double join_secs = ms_between(join0, Clock::now()) / 1000;
  std::vector<double> added_ms;
  {
    std::map<std::string, Clock::time_point> arrived;
    for (const auto& e : hooks.events())
      if (e.name == "member_added") arrived.emplace(e.user, e.arrived);
    for (int i = 0; i < n; ++i) {
      const Member& m = swarm.member(static_cast<std::size_t>(i));
      auto it = arrived.find(m.user);
      added_ms.push_back(it == arrived.end() ? NAN : ms_between(m.joined, it->second));
    }
  }

  // ---- steady: everyone a member, parked ----
  std::printf("  steady: %d members parked\n", n);
  std::fflush(stdout);
  settle(n, "the joins");
  const Window steady = steady_window();
  long long key_bytes[4] = {};
  for (int k = 0; k < 4; ++k)
    key_bytes[k] = redis.command({"MEMORY", "USAGE", keys[k], "SAMPLES", "0"}).integer;
  const auto users_held = st.gateway_metrics("comet_presence_users");
  std::vector<long> rss_steady;
  for (pid_t p : st.gateway_pids()) rss_steady.push_back(rss_kib(p));

  // ---- probes: one more user joins, in turn ----
  std::printf("  probes: %d joins with %d members present\n", probes, n);
  std::fflush(stdout);
  std::vector<double> seen(static_cast<std::size_t>(n));
  std::string watch;
  Clock::time_point watch0;
  swarm.on_answer = [&](std::size_t m, std::string_view body) {
    if (m < static_cast<std::size_t>(n) && !watch.empty() && std::isnan(seen[m]) &&
        body.find(watch) != std::string_view::npos)
      seen[m] = ms_between(watch0, Clock::now());
  };
  std::vector<double> probe_last, probe_p50, probe_p99, probe_added;
  for (int j = 0; j < probes; ++j) {
    const std::size_t pm = probe_ids[static_cast<std::size_t>(j)];
    std::fill(seen.begin(), seen.end(), NAN);
    watch = "\"presence\":\"join\",\"user\":\"" + swarm.member(pm).user + "\"";
    swarm.poll(pm, kChannel);
    const auto t0 = watch0 = swarm.member(pm).joined;
    long seen_n = 0;
    swarm.run_until(
        [&] {
          seen_n = std::count_if(seen.begin(), seen.end(), [](double x) { return !std::isnan(x); });
          return seen_n == n;
        },
        60s);
    const Spread s = spread(seen);
    probe_last.push_back(seen_n == n ? s.max : NAN);
    probe_p50.push_back(s.p50);
    probe_p99.push_back(s.p99);
    swarm.run_until(
        [&] {
          for (const auto& e : hooks.events())
            if (e.name == "member_added" && e.user == swarm.member(pm).user) return true;
          return false;
        },
        10s);
    double added = NAN;
    for (const auto& e : hooks.events())
      if (e.name == "member_added" && e.user == swarm.member(pm).user)
        added = ms_between(t0, e.arrived);
    probe_added.push_back(added);
    if (!settle(n + j + 1, "a probe's join")) break;
  }
  watch.clear();

  // ---- leaves: the probes end their polls, 250 ms apart ----
  // Only the probes that joined (all, unless a join did not settle).
  probe_ids.resize(probe_last.size());
  const int np = static_cast<int>(probe_ids.size());
  std::printf("  leaves: the %d probes end their polls\n", np);
  std::fflush(stdout);
  std::map<std::string, std::size_t> leaving;  // user -> probe index
  std::vector<Clock::time_point> left(static_cast<std::size_t>(np));
  std::vector<std::vector<double>> leave_seen(static_cast<std::size_t>(np));
  std::vector<std::string> leave_watch;
  for (int j = 0; j < np; ++j)
    leave_watch.push_back("\"presence\":\"leave\",\"user\":\"" +
                          swarm.member(probe_ids[static_cast<std::size_t>(j)]).user + "\"");
  long leaves_seen = 0;
  swarm.on_answer = [&](std::size_t m, std::string_view body) {
    if (m >= static_cast<std::size_t>(n) || body.find("\"leave\"") == std::string_view::npos)
      return;
    for (std::size_t j = 0; j < leave_watch.size(); ++j) {
      if (leave_seen[j].size() <= m || !std::isnan(leave_seen[j][m])) continue;
      if (body.find(leave_watch[j]) == std::string_view::npos) continue;
      leave_seen[j][m] = ms_between(left[j], Clock::now());
      ++leaves_seen;
    }
  };
  for (auto& v : leave_seen) v.assign(static_cast<std::size_t>(n), NAN);
  for (int j = 0; j < np; ++j) {
    swarm.abort(probe_ids[static_cast<std::size_t>(j)]);
    left[static_cast<std::size_t>(j)] = Clock::now();
    swarm.run_until([&] { return false; }, 250ms);
  }
  auto removed_of = [&](const std::string& user) {
    for (const auto& e : hooks.events())
      if (e.name == "member_removed" && e.user == user) return true;
    return false;
  };
  swarm.run_until(
      [&] {
        if (leaves_seen < static_cast<long>(n) * np) return false;
        for (std::size_t pm : probe_ids)
          if (!removed_of(swarm.member(pm).user)) return false;
        return true;
      },
      60s);
  std::vector<double> leave_last, leave_removed;
  {
    const auto evs = hooks.events();
    for (int j = 0; j < np; ++j) {
      const Spread s = spread(leave_seen[static_cast<std::size_t>(j)]);
      leave_last.push_back(s.n == static_cast<std::size_t>(n) ? s.max : NAN);
      double removed = NAN;
      for (const auto& e : evs)
        if (e.name == "member_removed" &&
            e.user == swarm.member(probe_ids[static_cast<std::size_t>(j)]).user)
          removed = ms_between(left[static_cast<std::size_t>(j)], e.arrived);
      leave_removed.push_back(removed);
    }
  }
  swarm.on_answer = nullptr;

  // ---- leave: every connection closes ----
  std::printf("  leave: all %d connections close\n", n);
  std::fflush(stdout);
  settle(n, "the probes' leaves");
  wait_quiet(60s);
  const long removed_before = hooks.count("member_removed");
  meter.begin();
  const auto leave0 = Clock::now();
  swarm.close_all();
  auto last_check = Clock::now() - 1s;
  const bool left_all = swarm.run_until(
      [&] {
        if (Clock::now() - last_check < 250ms) return false;
        last_check = Clock::now();
        return zcard(keys[0]) == 0 && zcard(keys[2]) == 0 &&
               hooks.count("member_removed") - removed_before >= n &&
               hooks.count("channel_vacated") >= 1;
      },
      120s);
  // The last sweep's webhook batch is POSTed within 100 ms of it.
  const Window leave = meter.end();
  if (!left_all)
    std::printf("  WARNING: leaves not complete after 120 s: %ld member_removed\n",
                hooks.count("member_removed") - removed_before);
  const double leave_secs = ms_between(leave0, Clock::now()) / 1000;
  std::vector<double> removed_ms;
  for (const auto& e : hooks.events())
    if (e.name == "member_removed" && e.user.starts_with("u"))
      removed_ms.push_back(ms_between(leave0, e.arrived));

  // ---- the figures ----
  auto gw_sum = [](const Window& w) {
    double s = 0;
    for (double x : w.gw_cpu_ms) s += x;
    return s;
  };
  auto gw_each = [](const Window& w) {
    std::string s;
    for (double x : w.gw_cpu_ms) s += (s.empty() ? "" : " + ") + fmt("%.1f", x / w.secs);
    return s;
  };
  std::printf("\n");
  print_table(
      {"phase", "s", "Redis cmds/s", "FCALL/s", "commands (most called)", "Redis CPU ms/s",
       "Redis net in+out B/s", "gateways CPU ms/s (each)", "answers/s", "other CPU %"},
      {{"plain (presence off), steady", fmt("%.1f", plain.secs),
        fmt("%.1f", plain.per_sec(plain.all_calls)),
        fmt("%.2f", plain.per_sec(plain.count("fcall"))), top_commands(plain, 6),
        fmt("%.1f", plain.redis_cpu_ms / plain.secs),
        fmt("%.0f", plain.per_sec(plain.net_in + plain.net_out)), gw_each(plain),
        fmt("%.0f", plain.per_sec(plain.answers)), fmt("%.0f", plain.other_cpu_pct)},
       {"presence, steady", fmt("%.1f", steady.secs), fmt("%.1f", steady.per_sec(steady.all_calls)),
        fmt("%.2f", steady.per_sec(steady.count("fcall"))), top_commands(steady, 8),
        fmt("%.1f", steady.redis_cpu_ms / steady.secs),
        fmt("%.0f", steady.per_sec(steady.net_in + steady.net_out)), gw_each(steady),
        fmt("%.0f", steady.per_sec(steady.answers)), fmt("%.0f", steady.other_cpu_pct)}});
  std::printf("\n");
  auto per = [](long long v, int k) { return fmt("%.1f", static_cast<double>(v) / k); };
  print_table(
      {"phase", "s", "Redis commands per change", "of which FCALL", "commands (most called)",
       "Redis CPU ms", "Redis net in / out B per change", "gateways CPU ms",
       "answers / bytes to the clients per change", "other CPU %"},
      {{std::to_string(n) + " joins at " + std::to_string(o.join_rate) + "/s",
        fmt("%.1f", join_secs), per(join.all_calls, n), per(join.count("fcall"), n),
        top_commands(join, 8), fmt("%.0f", join.redis_cpu_ms),
        per(join.net_in, n) + " / " + per(join.net_out, n), fmt("%.0f", gw_sum(join)),
        per(join.answers, n) + " / " + per(join.client_bytes, n), fmt("%.0f", join.other_cpu_pct)},
       {std::to_string(n) + " leaves at once", fmt("%.1f", leave_secs), per(leave.all_calls, n),
        per(leave.count("fcall"), n), top_commands(leave, 8), fmt("%.0f", leave.redis_cpu_ms),
        per(leave.net_in, n) + " / " + per(leave.net_out, n), fmt("%.0f", gw_sum(leave)),
        per(leave.answers, n) + " / " + per(leave.client_bytes, n),
        fmt("%.0f", leave.other_cpu_pct)}});
  std::printf("\n");
  std::printf(
      "  steady rate less presence off, over the join's %.1f s: %.0f commands (%.1f per join)\n",
      join_secs, (steady.per_sec(steady.all_calls) - plain.per_sec(plain.all_calls)) * join_secs,
      (steady.per_sec(steady.all_calls) - plain.per_sec(plain.all_calls)) * join_secs / n);
  std::printf(
      "  presence keys (MEMORY USAGE): zset %lld B, info %lld B, gone %lld B, version %lld B: %.1f "
      "B per member\n",
      key_bytes[0], key_bytes[1], key_bytes[2], key_bytes[3],
      static_cast<double>(key_bytes[0] + key_bytes[1] + key_bytes[2] + key_bytes[3]) / n);
  std::printf("  gateways' RSS at steady state: %ld + %ld KiB\n", rss_steady.at(0),
              rss_steady.at(1));
  std::printf("  comet_presence_users: %ld + %ld\n", users_held.size() > 0 ? users_held[0] : -1,
              users_held.size() > 1 ? users_held[1] : -1);
  std::printf("  member_added after each user's first poll (ms, p50 / p99 / max): %s\n",
              show(spread(added_ms)).c_str());
  std::printf(
      "  probe joins, %d members present: last client has the join (ms, p50 / p99 / max over "
      "probes): %s\n",
      n, show(spread(probe_last), "%.1f").c_str());
  std::printf("    within a join, across the clients: p50 %s ms, p99 %s ms (medians over probes)\n",
              fmt("%.1f", median(probe_p50)).c_str(), fmt("%.1f", median(probe_p99)).c_str());
  std::printf("    member_added after the join (ms): %s\n", show(spread(probe_added)).c_str());
  std::printf("  probe leaves: last client has the leave (ms after the poll ended): %s\n",
              show(spread(leave_last)).c_str());
  std::printf("    member_removed after the poll ended (ms): %s\n",
              show(spread(leave_removed)).c_str());
  std::printf("  %d leaves at once: member_removed after the close (ms): %s\n", n,
              show(spread(removed_ms)).c_str());
  std::printf(
      "  webhook POSTs %ld; channel_occupied %ld, member_added %ld, member_removed %ld, "
      "channel_vacated %ld\n",
      hooks.posts(), hooks.count("channel_occupied"), hooks.count("member_added"),
      hooks.count("member_removed"), hooks.count("channel_vacated"));
  std::printf("  refused answers: %ld%s%s\n", swarm.refused, swarm.refused ? ", the first: " : "",
              swarm.first_refusal.c_str());
  // A Redis link past its command timeout (3 s) reconnects, and refreshes
  // lost then let members expire: the logs say whether that happened.
  for (const char* log : {"comet-gateway.log", "comet-gateway-2.log"}) {
    std::ifstream in(st.dir() / log);
    long warnings = 0;
    std::string first;
    for (std::string l; std::getline(in, l);) {
      if (l.find(" warn ") == std::string::npos) continue;
      if (++warnings == 1) first = l;
    }
    std::printf("  %s: %ld warnings%s%s\n", log, warnings, warnings ? ", the first: " : "",
                first.c_str());
  }
  fs::create_directories(o.out);
  std::ofstream csv(o.out / "presence.csv");
  csv << "phase,secs,redis_calls,fcall,redis_cpu_ms,net_in,net_out,gw_cpu_ms,answers,client_bytes,"
         "other_cpu_pct\n";
  for (const auto& [label, w] : {std::pair<const char*, const Window*>{"plain", &plain},
                                 {"join", &join},
                                 {"steady", &steady},
                                 {"leave", &leave}})
    csv << label << "," << w->secs << "," << w->all_calls << "," << w->count("fcall") << ","
        << w->redis_cpu_ms << "," << w->net_in << "," << w->net_out << "," << gw_sum(*w) << ","
        << w->answers << "," << w->client_bytes << "," << w->other_cpu_pct << "\n";
  return (joined_all && left_all && swarm.refused == 0) ? 0 : 1;
}

}  // namespace bench
