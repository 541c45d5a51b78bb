// A blocking RESP connection for the bench's own look at Redis (INFO,
// ZCARD, MEMORY USAGE), which counts what it sends and receives so that a
// measurement can leave its own commands and bytes out.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace bench {

// One reply: an integer or a (bulk or simple) string; an error is a
// string starting with "-"; a nil is "".
struct RedisReply {
  long long integer = 0;
  std::string text;
};

class RedisConn {
 public:
  explicit RedisConn(int port);
  ~RedisConn();
  RedisConn(const RedisConn&) = delete;
  RedisConn& operator=(const RedisConn&) = delete;

  // Sends one command and reads its reply (arrays are not expected).
  RedisReply command(const std::vector<std::string>& args);

  // Commands sent by name (lowercase), and bytes sent and received.
  const std::map<std::string, long long>& sent() const { return sent_; }
  long long bytes_out() const { return bytes_out_; }
  long long bytes_in() const { return bytes_in_; }

 private:
  std::string line();
  void fill();

  int fd_ = -1;
  std::string in_;
  std::map<std::string, long long> sent_;
  long long bytes_out_ = 0, bytes_in_ = 0;
};

// What INFO says: "key:value" lines as numbers where they are numbers, and
// the commandstats' "cmdstat_NAME:calls=N,usec=U,..." as NAME -> calls.
struct RedisInfo {
  std::map<std::string, double> values;
  std::map<std::string, long long> calls, usec;
};
RedisInfo parse_info(const std::string& text);

}  // namespace bench
