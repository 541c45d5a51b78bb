#include "tests/support/stack.hpp"

#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <sstream>

namespace comet::test {

Stack::Stack(StackOptions options) : options_(std::move(options)) {
  if (options_.cluster_masters > 0) {
    cluster_ = std::make_unique<RedisCluster>(dir_.subdir("cluster"), options_.cluster_masters,
                                              options_.cluster_replicas);
  } else {
    redis_ = std::make_unique<RedisServer>(dir_.subdir("redis"), 0, options_.redis_args);
  }
  if (options_.sentinel) {
    auto args = options_.redis_args;
    args.insert(args.end(), {"--replicaof", "127.0.0.1", std::to_string(redis_->port())});
    for (int i = 0; i < 2; ++i) {
      replicas_.push_back(
          std::make_unique<RedisServer>(dir_.subdir("replica" + std::to_string(i)), 0, args));
      bool linked = wait_until(
          [&] {
            RespClient c(replicas_.back()->port());
            auto r = c.command({"INFO", "replication"});
            return r.str.find("master_link_status:up") != std::string::npos;
          },
          std::chrono::seconds(10));
      if (!linked) throw std::runtime_error("a replica never synced with the master");
    }
    sentinel_ = std::make_unique<Sentinel>(dir_.subdir("sentinel"), redis_->port(),
                                           options_.sentinel_password);
    if (!sentinel_->wait_replicas(2, std::chrono::seconds(15))) {
      throw std::runtime_error("the sentinel never saw the replica\n" +
                               sentinel_->process().output());
    }
  }
  gateways_.resize(static_cast<std::size_t>(std::max(options_.gateways, 1)));
  for (std::size_t i = 0; i < gateways_.size(); ++i) start_gateway(i);
  if (options_.demo) {
    demo_ =
        std::make_unique<PhpDemoServer>(dir_.path(), redis_->port(), options_.demo_token_secret);
  }
  if (options_.nginx) {
    NginxOptions n;
    n.dir = dir_.subdir("nginx");
    n.gateway = gateways_[0]->upstream_address();
    for (std::size_t i = 1; i < gateways_.size(); ++i) {
      n.more_gateways.push_back(gateways_[i]->upstream_address());
    }
    if (demo_) n.demo_php = demo_->address();
    n.extra_locations = options_.nginx_locations;
    n.extra_servers = options_.nginx_servers;
    nginx_ = std::make_unique<Nginx>(n);
  }
}

Stack::~Stack() {
  // Reverse order of start, each by pid.
  nginx_.reset();
  demo_.reset();
  for (auto it = gateways_.rbegin(); it != gateways_.rend(); ++it) it->reset();
  sentinel_.reset();
  replicas_.clear();
  redis_.reset();
  cluster_.reset();
}

GatewayOptions Stack::gateway_options(std::size_t i) {
  GatewayOptions g;
  g.dir = i == 0 ? dir_.path() : dir_.subdir("gw" + std::to_string(i));
  g.redis_url = cluster_
                    ? "redis-cluster://" + cluster_->seeds(options_.cluster_seeds_rotated ? i : 0)
                : sentinel_ ? "redis-sentinel://127.0.0.1:" + std::to_string(sentinel_->port()) +
                                  "/" + Sentinel::kMaster +
                                  (options_.sentinel_password.empty()
                                       ? ""
                                       : "?sentinel_password=" + options_.sentinel_password)
                            : redis_->url();
  g.extra_args = options_.gateway_args;
  return g;
}

void Stack::start_gateway(std::size_t i) {
  gateways_.at(i).reset();  // its logs stay in its directory
  auto g = std::make_unique<Gateway>(gateway_options(i));
  if (!g->wait_healthy(std::chrono::seconds(10))) {
    throw std::runtime_error("comet-gateway never became healthy\n" + g->process().output());
  }
  gateways_[i] = std::move(g);
}

std::optional<int> Stack::stop_gateway(std::size_t i) {
  return gateways_.at(i)->process().stop();
}

void Stack::kill9_gateway(std::size_t i) {
  auto& p = gateways_.at(i)->process();
  p.signal(SIGKILL);
  if (!p.wait_exit(std::chrono::seconds(5))) throw std::runtime_error("gateway survived SIGKILL");
}

HttpResponse Stack::get(const std::string& path, const Headers& headers,
                        std::chrono::milliseconds timeout) {
  return http_get(nginx_->port(), path, headers, timeout);
}

std::unique_ptr<PendingRequest> Stack::start_get(const std::string& path, const Headers& headers) {
  return std::make_unique<PendingRequest>(nginx_->port(), "GET", path, headers);
}

std::optional<double> Stack::metric(const std::string& name) {
  auto r = gateways_[0]->request("GET", "stats", "", {}, std::chrono::seconds(5));
  if (r.status != 200) return std::nullopt;
  return parse_metric(r.body, name);
}

double Stack::parked() {
  try {
    return metric("comet_parked_requests").value_or(-1);
  } catch (const std::exception&) {
    return -1;  // not reachable right now: not the value anyone waits for
  }
}

bool Stack::wait_parked(double n, std::chrono::milliseconds timeout) {
  return wait_until([&] { return parked() == n; }, timeout, std::chrono::milliseconds(10));
}

void Stack::publish(const std::string& channel, const std::string& payload) {
  if (cluster_) {
    php_publish_cluster(dir_.path(), cluster_->seeds(), channel, payload, false);
    return;
  }
  php_publish(dir_.path(), redis_->port(), channel, payload);
}

std::string Stack::publish_durable(const std::string& channel, const std::string& payload) {
  if (cluster_) return php_publish_cluster(dir_.path(), cluster_->seeds(), channel, payload, true);
  return php_publish_durable(dir_.path(), redis_->port(), channel, payload);
}

std::string Stack::logs() {
  std::string out;
  for (auto& g : gateways_) {
    if (g) out += g->process().output();
  }
  if (nginx_) out += "--- nginx error.log ---\n" + nginx_->error_log();
  if (redis_) out += redis_->process().output();
  for (auto& r : replicas_) out += r->process().output();
  if (sentinel_) out += sentinel_->process().output();
  if (cluster_) {
    for (std::size_t i = 0; i < cluster_->size(); ++i) out += cluster_->node(i).process().output();
  }
  return out;
}

std::optional<double> parse_metric(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  std::string line;
  std::optional<double> sum;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line.compare(0, name.size(), name) != 0) continue;
    std::size_t pos = name.size();
    if (pos < line.size() && line[pos] == '{') {
      auto close = line.find('}', pos);
      if (close == std::string::npos) continue;
      pos = close + 1;
    }
    if (pos >= line.size() || line[pos] != ' ') continue;  // a longer metric name
    std::istringstream value(line.substr(pos + 1));
    double v = 0;
    if (value >> v) sum = sum.value_or(0) + v;
  }
  return sum;
}

std::string base64_decode(const std::string& text) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  unsigned buf = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') break;
    int v = val(c);
    if (v < 0) throw std::runtime_error("bad base64");
    buf = (buf << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buf >> bits) & 0xff);
    }
  }
  return out;
}

json expect_poll_response(const HttpResponse& r) {
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.header("content-type").find("application/json"), std::string::npos)
      << r.header("content-type");
  EXPECT_NE(r.header("cache-control").find("no-store"), std::string::npos)
      << r.header("cache-control");
  json j = json::parse(r.body, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << "not JSON: " << r.body.substr(0, 500);
  if (j.is_discarded()) return json::object();
  EXPECT_TRUE(j.is_object()) << r.body.substr(0, 500);
  EXPECT_TRUE(j.contains("cursor") && j["cursor"].is_string()) << r.body.substr(0, 500);
  EXPECT_TRUE(j.contains("messages") && j["messages"].is_array()) << r.body.substr(0, 500);
  if (j.contains("gaps")) {
    EXPECT_TRUE(j["gaps"].is_array() && !j["gaps"].empty()) << "gaps present but empty";
  }
  return j;
}

std::string message_bytes(const json& m) {
  if (m.contains("data")) return m["data"].get<std::string>();
  if (m.contains("data_base64")) return base64_decode(m["data_base64"].get<std::string>());
  ADD_FAILURE() << "message without data or data_base64: " << m.dump();
  return {};
}

}  // namespace comet::test
