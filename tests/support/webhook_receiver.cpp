#include "tests/support/webhook_receiver.hpp"

#include <fstream>
#include <stdexcept>

#include "tests/support/wait.hpp"

namespace comet::test {

WebhookReceiver::WebhookReceiver(const std::string& dir, const std::string& secret)
    : port_(free_tcp_port()), log_(dir + "/webhooks.jsonl") {
  ProcessOptions opt;
  opt.log_dir = dir;
  opt.name = "php-webhooks";
  opt.env = {"WEBHOOK_SECRET=" + secret, "WEBHOOK_LOG=" + log_};
  process_ = std::make_unique<Process>(
      std::vector<std::string>{
          "php", "-S", "127.0.0.1:" + std::to_string(port_),
          std::string(COMET_SOURCE_DIR) + "/tests/support/webhook_receiver.php"},
      opt);
  if (!wait_until([&] { return !process_->running() || tcp_accepts(port_); },
                  std::chrono::seconds(10)) ||
      !process_->running()) {
    throw std::runtime_error("php -S did not start\n" + process_->output());
  }
}

std::string WebhookReceiver::url(const std::string& query) const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/hook" + (query.empty() ? "" : "?" + query);
}

std::vector<nlohmann::json> WebhookReceiver::requests() const {
  std::vector<nlohmann::json> out;
  std::ifstream in(log_);
  std::string line;
  // A line is appended whole (LOCK_EX); one without its newline is still
  // being written.
  while (std::getline(in, line)) {
    if (in.eof()) break;
    out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

}  // namespace comet::test
