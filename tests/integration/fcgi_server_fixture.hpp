// The fixture of the fcgi::Server tests: the server over real loopback and
// Unix sockets, driven from the test thread. The client side uses plain
// blocking sockets on another io_context, and the server's io_context is
// pumped until the expected bytes arrive.
#pragma once

#include "fcgi/server.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <stdexcept>
#include <vector>

#include "fcgi/name_value.hpp"
#include "fcgi/record.hpp"

namespace fcgi::test {

namespace asio = boost::asio;
using namespace std::chrono_literals;

template <class Array>
std::string as_string(const Array& a) {
  return std::string(reinterpret_cast<const char*>(a.data()), a.size());
}

struct TestHandler final : Handler {
  std::vector<RequestPtr> requests;
  // Answers at once unless `park` is set.
  bool park = false;
  void on_request(const RequestPtr& r) override {
    requests.push_back(r);
    if (!park) {
      Response resp;
      resp.head = "Content-Type: text/plain\r\n\r\n";
      resp.body = std::make_shared<const std::string>(std::string(r->param("SCRIPT_NAME")));
      resp.tail = "|" + r->body();
      r->respond(std::move(resp));
    }
  }
};

struct CountingListener final : AbortListener {
  int aborts = 0;
  void on_abort() override { ++aborts; }
};

struct Rec {
  std::uint8_t type;
  std::uint16_t id;
  std::string content;
};

// Complete records of what the server sent.
inline std::vector<Rec> records(const std::string& in) {
  std::vector<Rec> out;
  std::size_t pos = 0;
  while (in.size() - pos >= kHeaderLen) {
    const Header h = decode_header(reinterpret_cast<const std::uint8_t*>(in.data()) + pos);
    const std::size_t len = kHeaderLen + h.content_length + h.padding_length;
    if (in.size() - pos < len) break;
    out.push_back({h.type, h.request_id, in.substr(pos + kHeaderLen, h.content_length)});
    pos += len;
  }
  return out;
}

inline std::string stdout_of(const std::string& in, std::uint16_t id) {
  std::string s;
  for (const auto& r : records(in)) {
    if (r.type == FCGI_STDOUT && r.id == id) s += r.content;
  }
  return s;
}

// Protocol status of the request's END_REQUEST, if it came.
inline std::optional<int> end_status(const std::string& in, std::uint16_t id) {
  for (const auto& r : records(in)) {
    if (r.type == FCGI_END_REQUEST && r.id == id) return static_cast<unsigned char>(r.content[4]);
  }
  return std::nullopt;
}

inline std::string begin(std::uint16_t id, bool keep_conn, std::uint16_t role = FCGI_RESPONDER) {
  return as_string(encode_begin_request(id, role, keep_conn ? FCGI_KEEP_CONN : 0));
}

inline std::string params(std::uint16_t id, const NameValueDecoder::Pairs& pairs) {
  std::string content;
  for (const auto& [n, v] : pairs) append_name_value(content, n, v);
  std::string out;
  append_record(out, FCGI_PARAMS, id, content, 3);
  append_record(out, FCGI_PARAMS, id, "");
  return out;
}

inline std::string stdin_of(std::uint16_t id, const std::string& body) {
  std::string out;
  if (!body.empty()) append_record(out, FCGI_STDIN, id, body);
  append_record(out, FCGI_STDIN, id, "");
  return out;
}

inline std::string request(std::uint16_t id, const std::string& script, bool keep_conn,
                           const std::string& body = "") {
  return begin(id, keep_conn) + params(id, {{"SCRIPT_NAME", script}}) + stdin_of(id, body);
}

class FcgiServer : public ::testing::Test {
 protected:
  using Socket = asio::generic::stream_protocol::socket;

  void start(Limits limits = {}, const std::string& address = "127.0.0.1:0",
             const ListenOptions& options = {}) {
    server.emplace(io, handler, limits);
    server->listen(address, options);
  }

  // Pumps the server until `pred` holds or two seconds pass.
  bool pump_until(const std::function<bool()>& pred, std::chrono::milliseconds max = 2000ms) {
    const auto deadline = std::chrono::steady_clock::now() + max;
    while (!pred()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      // Running out of work stops the io_context; later posts need a restart.
      if (io.stopped()) io.restart();
      io.run_for(1ms);
    }
    return true;
  }

  struct Client {
    explicit Client(Socket s) : socket(std::move(s)) { socket.non_blocking(true); }
    void send(const std::string& bytes) {
      socket.non_blocking(false);
      asio::write(socket, asio::buffer(bytes));
      socket.non_blocking(true);
    }
    // Takes whatever has arrived without blocking.
    void poll() {
      char buf[65536];
      for (;;) {
        boost::system::error_code ec;
        const std::size_t n = socket.read_some(asio::buffer(buf), ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again) return;
        if (ec) {
          eof = true;
          return;
        }
        in.append(buf, n);
      }
    }
    Socket socket;
    std::string in;
    bool eof = false;
  };

  // `source`: the local address to connect from (TCP), e.g. "127.0.0.2".
  Client connect(std::size_t listener = 0, const char* source = nullptr) {
    const std::string ep = server->local_endpoint(listener);
    if (ep.rfind("unix:", 0) == 0) {
      asio::local::stream_protocol::socket s(client_io);
      s.connect(asio::local::stream_protocol::endpoint(ep.substr(5)));
      return Client(Socket(std::move(s)));
    }
    const auto colon = ep.rfind(':');
    asio::ip::tcp::socket s(client_io);
    if (source) {
      const auto from = asio::ip::make_address(source);
      s.open(from.is_v4() ? asio::ip::tcp::v4() : asio::ip::tcp::v6());
      s.bind({from, 0});
    }
    std::string host = ep.substr(0, colon);
    if (host.front() == '[') host = host.substr(1, host.size() - 2);
    s.connect({asio::ip::make_address(host),
               static_cast<unsigned short>(std::stoi(ep.substr(colon + 1)))});
    return Client(Socket(std::move(s)));
  }

  bool wait_for(Client& c, const std::function<bool(const Client&)>& pred,
                std::chrono::milliseconds max = 2000ms) {
    return pump_until(
        [&] {
          c.poll();
          return pred(c);
        },
        max);
  }

  bool wait_end(Client& c, std::uint16_t id) {
    return wait_for(c, [id](const Client& cl) { return end_status(cl.in, id).has_value(); });
  }

  asio::io_context io;
  asio::io_context client_io;
  TestHandler handler;
  std::optional<Server> server;
};

inline bool any_contains(const std::vector<std::string>& lines, const std::string& text) {
  for (const auto& l : lines) {
    if (l.find(text) != std::string::npos) return true;
  }
  return false;
}

inline std::string partial_stdin(std::uint16_t id, std::size_t n) {
  std::string out;
  append_record(out, FCGI_STDIN, id, std::string(n, 'i'));
  return out;
}

// Every byte a response part carries names its request and its position, so
// bytes out of order, lost, repeated or given to another request show.
inline std::string tagged(std::uint16_t id, std::size_t& pos, std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (id * 7 + pos++) % 26);
  return s;
}

}  // namespace fcgi::test
