#include "gateway/redis/cluster_redirects.hpp"

#include "gateway/redis/host_port.hpp"
#include "gateway/redis/reply.hpp"

namespace comet {

using Type = ClusterRedirects::Action::Type;

ClusterRedirects::Action ClusterRedirects::on_error(std::string_view error,
                                                    std::string_view answered_by) {
  Action a;
  if (auto redirect = parse_cluster_redirect(error)) {
    // "MOVED 1 :7000": the host is the one that answered.
    if (redirect->node.host.empty()) redirect->node.host = host_of(answered_by);
    if (++redirects_ > kMaxRedirects) {
      a.type = Type::give_up;
      a.why = "redirected too often (last: " + std::string(error) + ")";
      return a;
    }
    a.type = Type::follow;
    a.redirect = std::move(*redirect);
    return a;
  }
  if (!reloaded_ && function_missing(error)) {
    reloaded_ = true;
    a.type = Type::reload;
    return a;
  }
  return a;  // deliver
}

}  // namespace comet
