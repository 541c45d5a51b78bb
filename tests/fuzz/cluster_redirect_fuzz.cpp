// Cluster redirects (gateway/redis/cluster_slots, cluster_redirects): an
// error text that parses as MOVED / ASK, written again, parses to the same
// redirect, within the slots and ports there are; a command fed any
// sequence of error replies follows at most kMaxRedirects of them, reloads
// the library at most once, and always goes to a named host. Also the hash
// slot of any key: in range, and a key's hash tag decides it.
#include <optional>
#include <string>

#include "fuzz_input.hpp"
#include "gateway/redis/cluster_redirects.hpp"
#include "gateway/redis/cluster_slots.hpp"

namespace {

// The host in brackets (as for IPv6), or bare.
std::string format(const comet::ClusterRedirect& r, bool brackets) {
  return std::string(r.ask ? "ASK " : "MOVED ") + std::to_string(r.slot) + " " +
         (brackets ? "[" + r.node.host + "]" : r.node.host) + ":" + std::to_string(r.node.port);
}

bool same(const std::optional<comet::ClusterRedirect>& a, const comet::ClusterRedirect& b) {
  return a && a->ask == b.ask && a->slot == b.slot && a->node == b.node;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  // One error per line.
  comet::ClusterRedirects command;
  int follows = 0, reloads = 0;
  std::string_view rest = text;
  while (!rest.empty()) {
    const auto eol = rest.find('\n');
    const std::string_view line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 1);

    if (const auto r = comet::parse_cluster_redirect(line)) {
      FUZZ_CHECK(r->slot < comet::kClusterSlots);
      FUZZ_CHECK(r->node.port > 0 && r->node.port <= 65535);
      const std::string& host = r->node.host;
      FUZZ_CHECK(same(comet::parse_cluster_redirect(format(*r, true)), *r));
      if (host.find(':') == std::string::npos && !(host.starts_with('[') && host.ends_with(']'))) {
        FUZZ_CHECK(same(comet::parse_cluster_redirect(format(*r, false)), *r));
      }
    }
    using Type = comet::ClusterRedirects::Action::Type;
    const auto a = command.on_error(line, "10.0.0.9:7000");
    if (a.type == Type::follow) {
      ++follows;
      FUZZ_CHECK(!a.redirect.node.host.empty());
    } else if (a.type == Type::reload) {
      ++reloads;
    } else if (a.type == Type::give_up) {
      FUZZ_CHECK(follows == comet::ClusterRedirects::kMaxRedirects);
      FUZZ_CHECK(!a.why.empty());
    }
    FUZZ_CHECK(follows <= comet::ClusterRedirects::kMaxRedirects && reloads <= 1);
  }

  const std::uint16_t slot = comet::cluster_key_slot(text);
  FUZZ_CHECK(slot < comet::kClusterSlots);
  const auto open = text.find('{');
  if (open != std::string_view::npos) {
    const auto close = text.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1) {
      const std::string_view tag = text.substr(open + 1, close - open - 1);
      FUZZ_CHECK(slot == comet::cluster_key_slot(tag));
      FUZZ_CHECK(slot == comet::cluster_key_slot("comet:{" + std::string(tag) + "}:stream"));
    }
  }
  return 0;
}
