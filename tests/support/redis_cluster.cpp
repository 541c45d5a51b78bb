#include "tests/support/redis_cluster.hpp"

#include <filesystem>
#include <stdexcept>

#include "tests/support/wait.hpp"

namespace comet::test {
namespace {

std::string cluster_info(int port) {
  try {
    RespClient c(port);
    return c.command({"CLUSTER", "INFO"}, std::chrono::seconds(1)).str;
  } catch (const std::exception&) {
    return {};
  }
}

// The master port serving `slot` in a CLUSTER SLOTS reply; 0 when none.
int master_in(const RespValue& slots, int slot) {
  for (const auto& range : slots.elements) {
    if (range.elements.size() < 3) continue;
    if (slot >= range.elements[0].integer && slot <= range.elements[1].integer) {
      return static_cast<int>(range.elements[2].elements.at(1).integer);
    }
  }
  return 0;
}

}  // namespace

RedisCluster::RedisCluster(const std::string& dir, int masters, int replicas) {
  std::vector<std::string> create{"redis-cli", "--cluster", "create"};
  const int total = masters * (1 + replicas);
  for (int i = 0; i < total; ++i) {
    const std::string node_dir = dir + "/node" + std::to_string(i);
    std::filesystem::create_directories(node_dir);
    nodes_.push_back(std::make_unique<RedisServer>(
        node_dir, 0,
        std::vector<std::string>{"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                                 "--cluster-port", std::to_string(free_tcp_port()),
                                 "--cluster-node-timeout", "2000"}));
    create.push_back("127.0.0.1:" + std::to_string(nodes_.back()->port()));
  }
  create.insert(create.end(), {"--cluster-replicas", std::to_string(replicas), "--cluster-yes"});
  auto r = run(create, dir, std::chrono::seconds(60));
  if (r.status != 0) {
    throw std::runtime_error("redis-cli --cluster create failed: " + r.out + r.err);
  }
  bool ok = wait_until(
      [&] {
        for (auto& n : nodes_) {
          const std::string info = cluster_info(n->port());
          if (info.find("cluster_state:ok") == std::string::npos ||
              info.find("cluster_known_nodes:" + std::to_string(total)) == std::string::npos) {
            return false;
          }
          RespClient c(n->port());
          const std::string repl = c.command({"INFO", "replication"}).str;
          if (repl.find("role:slave") != std::string::npos &&
              repl.find("master_link_status:up") == std::string::npos) {
            return false;
          }
        }
        return true;
      },
      std::chrono::seconds(30));
  if (!ok) throw std::runtime_error("the cluster never reached cluster_state:ok");
}

RedisCluster::~RedisCluster() {
  nodes_.clear();  // each stops its redis-server by pid
}

std::string RedisCluster::seeds(std::size_t first) const {
  std::string out;
  for (std::size_t k = 0; k < nodes_.size(); ++k) {
    const auto& n = nodes_[(first + k) % nodes_.size()];
    out += (out.empty() ? "" : ",") + std::string("127.0.0.1:") + std::to_string(n->port());
  }
  return out;
}

int RedisCluster::key_slot(const std::string& key) {
  RespClient c(nodes_.at(0)->port());
  return static_cast<int>(c.command({"CLUSTER", "KEYSLOT", key}).integer);
}

bool RedisCluster::is_master(std::size_t i) {
  RespClient c(nodes_.at(i)->port());
  auto r = c.command({"ROLE"});
  return !r.elements.empty() && r.elements[0].str == "master";
}

int RedisCluster::master_port_of_slot(int slot, std::size_t ask) {
  RespClient c(nodes_.at(ask)->port());
  return master_in(c.command({"CLUSTER", "SLOTS"}), slot);
}

std::string RedisCluster::node_id(int port) {
  RespClient c(port);
  auto r = c.command({"CLUSTER", "MYID"});
  return r.str;
}

void RedisCluster::move_slot(int slot, int to_port) {
  const int from_port = master_port_of_slot(slot);
  if (from_port == 0 || from_port == to_port) throw std::runtime_error("move_slot: nothing to do");
  const std::string s = std::to_string(slot);
  const std::string from_id = node_id(from_port), to_id = node_id(to_port);
  RespClient to(to_port), from(from_port);
  auto ok = [](const RespValue& v, const char* what) {
    if (v.type == RespValue::Type::error) {
      throw std::runtime_error(std::string("move_slot: ") + what + ": " + v.str);
    }
  };
  ok(to.command({"CLUSTER", "SETSLOT", s, "IMPORTING", from_id}), "IMPORTING");
  ok(from.command({"CLUSTER", "SETSLOT", s, "MIGRATING", to_id}), "MIGRATING");
  while (true) {
    auto keys = from.command({"CLUSTER", "GETKEYSINSLOT", s, "100"});
    if (keys.elements.empty()) break;
    std::vector<std::string> migrate{"MIGRATE", "127.0.0.1", std::to_string(to_port), "", "0",
                                     "5000",    "KEYS"};
    for (const auto& k : keys.elements) migrate.push_back(k.str);
    ok(from.command(migrate), "MIGRATE");
  }
  // The new owner first, then the old one, then the rest (as redis-cli does).
  ok(to.command({"CLUSTER", "SETSLOT", s, "NODE", to_id}), "SETSLOT NODE (to)");
  ok(from.command({"CLUSTER", "SETSLOT", s, "NODE", to_id}), "SETSLOT NODE (from)");
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    const int port = nodes_[i]->port();
    if (port == to_port || port == from_port || !is_master(i)) continue;
    RespClient c(port);
    ok(c.command({"CLUSTER", "SETSLOT", s, "NODE", to_id}), "SETSLOT NODE");
  }
  bool agreed = wait_until(
      [&] {
        for (auto& n : nodes_) {
          RespClient c(n->port());
          if (master_in(c.command({"CLUSTER", "SLOTS"}), slot) != to_port) return false;
        }
        return true;
      },
      std::chrono::seconds(10));
  if (!agreed) throw std::runtime_error("move_slot: the nodes never agreed");
}

}  // namespace comet::test
