// A site's webhook endpoint: `php -S` with tests/support/webhook_receiver.php,
// which checks each POST with Comet::verifyWebhook and logs it.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/process.hpp"

namespace comet::test {

class WebhookReceiver {
 public:
  // Verifies with `secret`; logs into dir. Waits until the port accepts.
  WebhookReceiver(const std::string& dir, const std::string& secret);
  // http://127.0.0.1:PORT/hook?QUERY (see webhook_receiver.php for the query).
  std::string url(const std::string& query = "") const;
  // The requests so far, one object each, in the order they came.
  std::vector<nlohmann::json> requests() const;
  Process& process() { return *process_; }

 private:
  int port_;
  std::string log_;
  std::unique_ptr<Process> process_;
};

}  // namespace comet::test
