#include "gateway/redis/cluster_slots.hpp"

#include <hiredis/hiredis.h>

#include <array>
#include <charconv>

#include "gateway/redis/reply.hpp"

namespace comet {
namespace {

constexpr std::array<std::uint16_t, 256> make_crc16_table() {
  std::array<std::uint16_t, 256> table{};
  for (unsigned i = 0; i < 256; ++i) {
    std::uint16_t crc = static_cast<std::uint16_t>(i << 8);
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000) != 0 ? static_cast<std::uint16_t>((crc << 1) ^ 0x1021)
                                : static_cast<std::uint16_t>(crc << 1);
    }
    table[i] = crc;
  }
  return table;
}
constexpr auto kCrc16 = make_crc16_table();

std::uint16_t crc16(std::string_view bytes) {
  std::uint16_t crc = 0;
  for (unsigned char c : bytes) {
    crc = static_cast<std::uint16_t>((crc << 8) ^ kCrc16[((crc >> 8) ^ c) & 0xff]);
  }
  return crc;
}

}  // namespace

std::uint16_t cluster_key_slot(std::string_view key) {
  auto open = key.find('{');
  if (open != std::string_view::npos) {
    auto close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1) {
      key = key.substr(open + 1, close - open - 1);
    }
  }
  return crc16(key) & (kClusterSlots - 1);
}

std::optional<ClusterRedirect> parse_cluster_redirect(std::string_view error) {
  ClusterRedirect out;
  if (error.starts_with("MOVED ")) {
    error.remove_prefix(6);
  } else if (error.starts_with("ASK ")) {
    out.ask = true;
    error.remove_prefix(4);
  } else {
    return std::nullopt;
  }
  auto space = error.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  unsigned slot = 0;
  auto slot_text = error.substr(0, space);
  auto [end, ec] = std::from_chars(slot_text.data(), slot_text.data() + slot_text.size(), slot);
  if (ec != std::errc() || end != slot_text.data() + slot_text.size() || slot >= kClusterSlots) {
    return std::nullopt;
  }
  out.slot = static_cast<std::uint16_t>(slot);
  // "host:port", the host possibly an IPv6 address (its last ':' ends it).
  auto address = error.substr(space + 1);
  auto colon = address.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto port_text = address.substr(colon + 1);
  int port = 0;
  auto [pend, pec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (pec != std::errc() || pend != port_text.data() + port_text.size() || port <= 0 ||
      port > 65535) {
    return std::nullopt;
  }
  auto host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  out.node = RedisHostPort{std::string(host), port};
  return out;
}

std::optional<ClusterSlots> ClusterSlots::from_reply(const redisReply& r,
                                                     const std::string& asked_host) {
  if (r.type != REDIS_REPLY_ARRAY) return std::nullopt;
  ClusterSlots out;
  for (std::size_t i = 0; i < r.elements; ++i) {
    const redisReply& range = *r.element[i];
    if (range.type != REDIS_REPLY_ARRAY || range.elements < 3) return std::nullopt;
    const redisReply& from = *range.element[0];
    const redisReply& to = *range.element[1];
    const redisReply& master = *range.element[2];
    if (from.type != REDIS_REPLY_INTEGER || to.type != REDIS_REPLY_INTEGER ||
        master.type != REDIS_REPLY_ARRAY || master.elements < 2 ||
        (master.element[0]->type != REDIS_REPLY_STRING &&
         master.element[0]->type != REDIS_REPLY_NIL) ||
        master.element[1]->type != REDIS_REPLY_INTEGER) {
      return std::nullopt;
    }
    if (from.integer < 0 || to.integer < from.integer || to.integer >= kClusterSlots) {
      return std::nullopt;
    }
    const long long port = master.element[1]->integer;
    if (port <= 0 || port > 65535) return std::nullopt;
    std::string host(reply_text(*master.element[0]));
    if (host.empty() || host == "?") host = asked_host;
    const auto index = out.index_of(RedisHostPort{host, static_cast<int>(port)});
    for (long long s = from.integer; s <= to.integer; ++s) {
      out.owner_[static_cast<std::size_t>(s)] = static_cast<std::int32_t>(index);
    }
  }
  return out;
}

std::size_t ClusterSlots::index_of(const RedisHostPort& node) {
  for (std::size_t i = 0; i < masters_.size(); ++i) {
    if (masters_[i] == node) return i;
  }
  masters_.push_back(node);
  return masters_.size() - 1;
}

const RedisHostPort* ClusterSlots::master_of(std::uint16_t slot) const {
  if (slot >= kClusterSlots) return nullptr;
  const std::int32_t index = owner_[slot];
  return index < 0 ? nullptr : &masters_[static_cast<std::size_t>(index)];
}

std::size_t ClusterSlots::slots_served() const {
  std::size_t n = 0;
  for (std::int32_t index : owner_) n += index >= 0 ? 1 : 0;
  return n;
}

void ClusterSlots::move(std::uint16_t slot, const RedisHostPort& node) {
  if (slot >= kClusterSlots) return;
  owner_[slot] = static_cast<std::int32_t>(index_of(node));
}

}  // namespace comet
