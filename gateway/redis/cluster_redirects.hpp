// What one keyed command does with an error reply in a cluster, sans-IO:
// MOVED (the slot has a new master: go there, and the slot map is stale),
// ASK (this command only, to the importing node, after ASKING), a missing
// function (a master restarted without persistence, or a new one: load
// the library there and send again, once), anything else is the command's
// answer. A command bounced around more than kMaxRedirects times fails (a
// cluster in the middle of moving the slot back and forth).
#pragma once

#include <string>
#include <string_view>

#include "gateway/redis/cluster_slots.hpp"

namespace comet {

class ClusterRedirects {
 public:
  static constexpr int kMaxRedirects = 5;

  struct Action {
    enum class Type {
      deliver,  // the reply is the command's answer
      follow,   // send it to `redirect.node` (after ASKING when `redirect.ask`);
                // unless `ask`, `redirect.slot` is served there from now on
      reload,   // load the library on the node that answered, send it there again
      give_up,  // fail it: `why`
    };
    Type type = Type::deliver;
    ClusterRedirect redirect;
    std::string why;
  };

  // An error reply of node `answered_by` ("host:port", host_port()).
  Action on_error(std::string_view error, std::string_view answered_by);

  int redirects() const { return redirects_; }

 private:
  int redirects_ = 0;
  bool reloaded_ = false;
};

}  // namespace comet
