// A fake Redis for tests that need a server to misbehave: a loopback TCP
// listener that speaks just enough RESP for the gateway's links (PSUBSCRIBE
// and SUBSCRIBE confirmed, PUBLISH relayed to the subscribers as pmessage
// or message, PING; any other command is refused with an error reply, as
// an old Redis refuses FUNCTION), plus a way to send bytes that no real
// Redis would. It runs on a thread of its own, stopped and joined by the
// destructor; every method may be called from the test's thread.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace comet::test {

class FakeRedis {
 public:
  FakeRedis();  // listening on 127.0.0.1, on a port the kernel picked
  ~FakeRedis();
  FakeRedis(const FakeRedis&) = delete;
  FakeRedis& operator=(const FakeRedis&) = delete;

  int port() const;
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port()); }

  // Commands received so far with this name (upper case), on any connection.
  std::size_t commands(const std::string& name) const;
  std::size_t connections_accepted() const;

  // Raw bytes to each open connection that is subscribed, or to each one
  // that has sent a command and is not subscribed; how many got them.
  std::size_t send_to_subscribers(const std::string& bytes);
  std::size_t send_to_command_connections(const std::string& bytes);

  // As PUBLISH from another client: to each subscriber whose pattern (a
  // prefix and '*') or channel matches; how many got it.
  std::size_t publish(const std::string& channel, const std::string& payload);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace comet::test
