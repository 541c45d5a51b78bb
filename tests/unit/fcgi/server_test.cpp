// The server over real loopback and Unix sockets, driven from the test
// thread: the client side uses plain blocking sockets on another
// io_context, and the server's io_context is pumped until the expected
// bytes arrive.
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
#include "test_bytes.hpp"

namespace fcgi {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::as_string;

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
std::vector<Rec> records(const std::string& in) {
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

std::string stdout_of(const std::string& in, std::uint16_t id) {
  std::string s;
  for (const auto& r : records(in)) {
    if (r.type == FCGI_STDOUT && r.id == id) s += r.content;
  }
  return s;
}

// Protocol status of the request's END_REQUEST, if it came.
std::optional<int> end_status(const std::string& in, std::uint16_t id) {
  for (const auto& r : records(in)) {
    if (r.type == FCGI_END_REQUEST && r.id == id) return static_cast<unsigned char>(r.content[4]);
  }
  return std::nullopt;
}

std::string begin(std::uint16_t id, bool keep_conn, std::uint16_t role = FCGI_RESPONDER) {
  return as_string(encode_begin_request(id, role, keep_conn ? FCGI_KEEP_CONN : 0));
}

std::string params(std::uint16_t id, const NameValueDecoder::Pairs& pairs) {
  std::string content;
  for (const auto& [n, v] : pairs) append_name_value(content, n, v);
  std::string out;
  append_record(out, FCGI_PARAMS, id, content, 3);
  append_record(out, FCGI_PARAMS, id, "");
  return out;
}

std::string stdin_of(std::uint16_t id, const std::string& body) {
  std::string out;
  if (!body.empty()) append_record(out, FCGI_STDIN, id, body);
  append_record(out, FCGI_STDIN, id, "");
  return out;
}

std::string request(std::uint16_t id, const std::string& script, bool keep_conn,
                    const std::string& body = "") {
  return begin(id, keep_conn) + params(id, {{"SCRIPT_NAME", script}}) + stdin_of(id, body);
}

class ServerTest : public ::testing::Test {
 protected:
  using Socket = asio::generic::stream_protocol::socket;

  void start(Limits limits = {}, const std::string& address = "127.0.0.1:0") {
    server.emplace(io, handler, limits);
    server->listen(address);
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

  Client connect(std::size_t listener = 0) {
    const std::string ep = server->local_endpoint(listener);
    if (ep.rfind("unix:", 0) == 0) {
      asio::local::stream_protocol::socket s(client_io);
      s.connect(asio::local::stream_protocol::endpoint(ep.substr(5)));
      return Client(Socket(std::move(s)));
    }
    const auto colon = ep.rfind(':');
    asio::ip::tcp::socket s(client_io);
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

TEST_F(ServerTest, RespondsAndClosesWithoutKeepConn) {
  start();
  EXPECT_EQ(server->local_endpoint(0).rfind("127.0.0.1:", 0), 0u);
  Client c = connect();
  c.send(request(1, "/comet/poll", false, "payload"));
  ASSERT_TRUE(wait_for(c, [](const Client& cl) { return cl.eof; }));
  EXPECT_EQ(stdout_of(c.in, 1), "Content-Type: text/plain\r\n\r\n/comet/poll|payload");
  EXPECT_EQ(end_status(c.in, 1), FCGI_REQUEST_COMPLETE);
  // Order on the wire: STDOUT data, empty STDOUT, END_REQUEST last.
  const auto recs = records(c.in);
  ASSERT_GE(recs.size(), 3u);
  EXPECT_EQ(recs.back().type, FCGI_END_REQUEST);
  EXPECT_EQ(recs[recs.size() - 2].type, FCGI_STDOUT);
  EXPECT_EQ(recs[recs.size() - 2].content, "");
  ASSERT_TRUE(pump_until([&] { return server->connections() == 0; }));
  ASSERT_EQ(handler.requests.size(), 1u);
  EXPECT_EQ(handler.requests[0]->param("SCRIPT_NAME"), "/comet/poll");
  EXPECT_EQ(handler.requests[0]->param("MISSING"), "");
  EXPECT_TRUE(handler.requests[0]->finished());
  EXPECT_FALSE(handler.requests[0]->aborted());
}

TEST_F(ServerTest, KeepConnServesSeveralRequestsInTurn) {
  start();
  Client c = connect();
  c.send(request(1, "/a", true));
  ASSERT_TRUE(wait_end(c, 1));
  c.in.clear();
  c.send(request(1, "/b", true));
  ASSERT_TRUE(wait_end(c, 1));
  EXPECT_EQ(stdout_of(c.in, 1), "Content-Type: text/plain\r\n\r\n/b|");
  pump_until([] { return false; }, 20ms);
  c.poll();
  EXPECT_FALSE(c.eof);
  EXPECT_EQ(server->connections(), 1u);
}

TEST_F(ServerTest, MultiplexedRequestsAnsweredOutOfOrder) {
  start();
  handler.park = true;
  Client c = connect();
  // Interleaved records of two requests.
  c.send(begin(1, true) + begin(2, true) + params(2, {{"SCRIPT_NAME", "/two"}}) +
         params(1, {{"SCRIPT_NAME", "/one"}}) + stdin_of(2, "") + stdin_of(1, "x"));
  ASSERT_TRUE(pump_until([&] { return handler.requests.size() == 2; }));
  EXPECT_EQ(handler.requests[0]->id(), 2);
  EXPECT_EQ(handler.requests[1]->id(), 1);
  EXPECT_TRUE(handler.requests[1]->keep_conn());
  EXPECT_EQ(handler.requests[1]->body(), "x");
  handler.requests[0]->respond({"second", nullptr, ""});
  ASSERT_TRUE(wait_end(c, 2));
  EXPECT_FALSE(end_status(c.in, 1));
  handler.requests[1]->respond({"first", nullptr, ""});
  ASSERT_TRUE(wait_end(c, 1));
  EXPECT_EQ(stdout_of(c.in, 2), "second");
  EXPECT_EQ(stdout_of(c.in, 1), "first");
}

TEST_F(ServerTest, PeerCloseAbortsParkedRequests) {
  start();
  handler.park = true;
  CountingListener listener;
  {
    Client c = connect();
    c.send(request(1, "/p", true) + request(2, "/q", true));
    ASSERT_TRUE(pump_until([&] { return handler.requests.size() == 2; }));
    handler.requests[0]->set_abort_listener(&listener);
    handler.requests[0]->drop_inputs();
    EXPECT_TRUE(handler.requests[0]->params().empty());
  }
  ASSERT_TRUE(pump_until([&] { return listener.aborts == 1; }));
  EXPECT_TRUE(handler.requests[0]->aborted());
  EXPECT_TRUE(handler.requests[1]->aborted());
  EXPECT_TRUE(handler.requests[1]->finished());
  EXPECT_EQ(server->connections(), 0u);
  // Answering an aborted request is harmless.
  handler.requests[0]->respond({"late", nullptr, ""});
  handler.requests[1]->write({"late", nullptr, ""});
  EXPECT_EQ(listener.aborts, 1);
}

TEST_F(ServerTest, AbortRequestRecordAbortsOneRequest) {
  start();
  handler.park = true;
  CountingListener listener;
  Client c = connect();
  c.send(request(1, "/p", true) + request(2, "/q", true));
  ASSERT_TRUE(pump_until([&] { return handler.requests.size() == 2; }));
  handler.requests[0]->set_abort_listener(&listener);
  std::string abort;
  append_record(abort, FCGI_ABORT_REQUEST, 1, "");
  c.send(abort);
  ASSERT_TRUE(wait_end(c, 1));
  EXPECT_EQ(end_status(c.in, 1), FCGI_REQUEST_COMPLETE);
  EXPECT_EQ(listener.aborts, 1);
  EXPECT_FALSE(handler.requests[1]->finished());
  handler.requests[1]->respond({"ok", nullptr, ""});
  ASSERT_TRUE(wait_end(c, 2));
  EXPECT_EQ(stdout_of(c.in, 2), "ok");
}

// Web servers send one request per connection; a multiplexing peer's first
// request is kept apart from the others, so requests coming and going in
// every order must find their own slots.
TEST_F(ServerTest, MultiplexedRequestsComeAndGoInEveryOrder) {
  start();
  handler.park = true;
  CountingListener listener;
  Client c = connect();
  c.send(request(1, "/one", true) + request(2, "/two", true) + request(3, "/three", true));
  ASSERT_TRUE(pump_until([&] { return handler.requests.size() == 3; }));
  handler.requests[0]->respond({"first", nullptr, ""});
  ASSERT_TRUE(wait_end(c, 1));
  // A new request takes the freed place; one of the others is aborted.
  c.send(request(4, "/four", true));
  ASSERT_TRUE(pump_until([&] { return handler.requests.size() == 4; }));
  EXPECT_EQ(handler.requests[3]->id(), 4);
  EXPECT_EQ(handler.requests[3]->param("SCRIPT_NAME"), "/four");
  handler.requests[2]->set_abort_listener(&listener);
  std::string abort;
  append_record(abort, FCGI_ABORT_REQUEST, 3, "");
  c.send(abort);
  ASSERT_TRUE(wait_end(c, 3));
  EXPECT_EQ(listener.aborts, 1);
  // Management records still work beside them.
  std::string get_values;
  std::string names;
  append_name_value(names, FCGI_MPXS_CONNS, "");
  append_record(get_values, FCGI_GET_VALUES, 0, names);
  c.send(get_values);
  ASSERT_TRUE(wait_for(c, [](const Client& cl) {
    return cl.in.find(std::string(FCGI_MPXS_CONNS) + "1") != std::string::npos;
  }));
  // A duplicate of a request in flight is a protocol error, wherever it is
  // kept; before that, the others answer normally.
  handler.requests[3]->respond({"fourth", nullptr, ""});
  handler.requests[1]->respond({"second", nullptr, ""});
  ASSERT_TRUE(wait_end(c, 4));
  ASSERT_TRUE(wait_end(c, 2));
  EXPECT_EQ(stdout_of(c.in, 4), "fourth");
  EXPECT_EQ(stdout_of(c.in, 2), "second");
  EXPECT_EQ(server->connections(), 1u);
  c.send(request(5, "/five", true) + begin(5, true));
  ASSERT_TRUE(pump_until([&] { return server->connections() == 0; }));
}

TEST_F(ServerTest, ManagementRecords) {
  Limits limits;
  limits.max_connections = 7;
  limits.max_requests_per_connection = 3;
  start(limits);
  Client c = connect();
  std::string names;
  append_name_value(names, FCGI_MAX_CONNS, "");
  append_name_value(names, FCGI_MAX_REQS, "");
  append_name_value(names, FCGI_MPXS_CONNS, "");
  std::string in;
  append_record(in, FCGI_GET_VALUES, 0, names);
  append_record(in, 0x55, 0, "whatever", 2);
  c.send(in);
  ASSERT_TRUE(wait_for(c, [](const Client& cl) { return records(cl.in).size() == 2; }));
  const auto recs = records(c.in);
  EXPECT_EQ(recs[0].type, FCGI_GET_VALUES_RESULT);
  NameValueDecoder d(1000);
  NameValueDecoder::Pairs values;
  std::error_code ec;
  d.put(recs[0].content, values, ec);
  EXPECT_EQ(values, (NameValueDecoder::Pairs{
                        {FCGI_MAX_CONNS, "7"}, {FCGI_MAX_REQS, "3"}, {FCGI_MPXS_CONNS, "1"}}));
  EXPECT_EQ(recs[1].type, FCGI_UNKNOWN_TYPE);
  EXPECT_EQ(static_cast<unsigned char>(recs[1].content[0]), 0x55);
}

TEST_F(ServerTest, UnknownRoleAndOverload) {
  Limits limits;
  limits.max_requests_per_connection = 1;
  start(limits);
  handler.park = true;
  Client c = connect();
  c.send(begin(5, true, FCGI_AUTHORIZER) + params(5, {}) + stdin_of(5, ""));
  ASSERT_TRUE(wait_end(c, 5));
  EXPECT_EQ(end_status(c.in, 5), FCGI_UNKNOWN_ROLE);
  c.send(request(1, "/a", true) + request(2, "/b", true));
  ASSERT_TRUE(wait_end(c, 2));
  EXPECT_EQ(end_status(c.in, 2), FCGI_OVERLOADED);
  EXPECT_EQ(handler.requests.size(), 1u);
}

TEST_F(ServerTest, ProtocolErrorsCloseTheConnection) {
  start();
  handler.park = true;
  const std::vector<std::string> bad = {
      std::string("\x02\x01\x00\x01\x00\x08\x00\x00", 8),  // version 2
      begin(1, true) + begin(1, true),                     // duplicate id
      request(1, "/a", true) + stdin_of(1, ""),            // STDIN after its end
  };
  for (const auto& in : bad) {
    CountingListener listener;
    Client c = connect();
    c.send(in);
    ASSERT_TRUE(wait_for(c, [](const Client& cl) { return cl.eof; }));
    ASSERT_TRUE(pump_until([&] { return server->connections() == 0; }));
  }
}

TEST_F(ServerTest, OversizedParamsAndStdinAreAnsweredCleanly) {
  Limits limits;
  limits.max_params_bytes = 100;
  limits.max_stdin_bytes = 10;
  start(limits);
  std::vector<int> rejected;
  server->set_reject_sink([&](int status) { rejected.push_back(status); });
  Client c = connect();
  c.send(begin(1, true) + params(1, {{"BIG", std::string(200, 'x')}}) + stdin_of(1, ""));
  ASSERT_TRUE(wait_end(c, 1));
  // Without a reject writer: plain text.
  EXPECT_EQ(stdout_of(c.in, 1),
            "Status: 413 Payload Too Large\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 32\r\n\r\nrequest params exceed 100 bytes\n");
  // The application's wording, from what fcgi/ tells it.
  std::vector<Reject> told;
  server->set_reject_writer([&](const Reject& r) {
    told.push_back(r);
    return Response{
        "Status: " + std::to_string(r.status) + " " + std::string(r.reason) + "\r\n\r\n",
        std::make_shared<const std::string>(r.code), "|" + r.message};
  });
  c.in.clear();
  c.send(request(1, "/a", true, std::string(11, 'b')));
  ASSERT_TRUE(wait_end(c, 1));
  EXPECT_EQ(stdout_of(c.in, 1),
            "Status: 413 Payload Too Large\r\n\r\nbody_too_large|request body exceeds 10 bytes");
  ASSERT_EQ(told.size(), 1u);
  EXPECT_EQ(told[0], (Reject{413, "Payload Too Large", "body_too_large",
                             "request body exceeds 10 bytes", ""}));
  // The connection is still usable.
  c.in.clear();
  c.send(request(1, "/ok", true, "0123456789"));
  ASSERT_TRUE(wait_end(c, 1));
  EXPECT_EQ(stdout_of(c.in, 1), "Content-Type: text/plain\r\n\r\n/ok|0123456789");
  EXPECT_TRUE(handler.requests.size() == 1);
  // The application never saw the two refused requests; the sink did.
  EXPECT_EQ(rejected, (std::vector<int>{413, 413}));
}

TEST_F(ServerTest, ReadTimeoutCutsOffIncompleteRequestsOnly) {
  Limits limits;
  limits.read_timeout = 50ms;
  start(limits);
  handler.park = true;
  Client slow = connect();
  slow.send(begin(1, true) + params(1, {{"SCRIPT_NAME", "/s"}}));
  Client parked = connect();
  parked.send(request(1, "/p", true));
  Client idle = connect();
  ASSERT_TRUE(wait_for(slow, [](const Client& cl) { return cl.eof; }));
  pump_until([] { return false; }, 150ms);
  parked.poll();
  idle.poll();
  EXPECT_FALSE(parked.eof);
  EXPECT_FALSE(idle.eof);
  EXPECT_EQ(server->connections(), 2u);
  ASSERT_EQ(handler.requests.size(), 1u);
  EXPECT_FALSE(handler.requests[0]->aborted());
}

TEST_F(ServerTest, StreamingWritesAndLargeSharedBody) {
  start();
  handler.park = true;
  Client c = connect();
  c.send(request(1, "/sse", true));
  ASSERT_TRUE(pump_until([&] { return handler.requests.size() == 1; }));
  auto body = std::make_shared<const std::string>(300000, 'b');
  auto& r = handler.requests[0];
  r->write({"head\r\n\r\n", nullptr, ""});
  r->write({"", body, "\n"});
  r->write({"event", nullptr, ""});
  r->end();
  r->end();
  r->write({"after end", nullptr, ""});
  ASSERT_TRUE(wait_end(c, 1));
  EXPECT_EQ(stdout_of(c.in, 1), "head\r\n\r\n" + *body + "\nevent");
  for (const auto& rec : records(c.in)) EXPECT_LE(rec.content.size(), kMaxContentLen);
}

// A lone request's response goes to the socket straight from its parts;
// what the socket does not take is queued, and every later response waits
// behind it. Responses of 60,000 bytes to a peer that reads nothing until
// the end fill the socket part-way through one of them.
TEST_F(ServerTest, LoneResponsesTheSocketOnlyPartlyTakesAreFinishedFromTheQueue) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("fcgi_lone_" + std::to_string(::getpid()) + ".sock"))
                               .string();
  start({}, "unix:" + path);
  handler.park = true;
  Client c = connect();
  std::string expected;
  constexpr int kResponses = 12;
  for (int k = 0; k < kResponses; ++k) {
    c.send(request(1, "/p", true));
    ASSERT_TRUE(
        pump_until([&] { return handler.requests.size() == static_cast<std::size_t>(k + 1); }));
    auto body = std::make_shared<const std::string>(60000, static_cast<char>('a' + k));
    handler.requests.back()->respond({"h" + std::to_string(k) + ":", body, ";"});
    expected += "h" + std::to_string(k) + ":" + *body + ";";
    pump_until([] { return false; }, 2ms);
  }
  EXPECT_GT(server->queued_write_bytes(), 0u);  // the socket is full
  ASSERT_TRUE(wait_for(c, [&](const Client& cl) { return stdout_of(cl.in, 1) == expected; }));
  int ends = 0;
  for (const auto& rec : records(c.in)) ends += rec.type == FCGI_END_REQUEST ? 1 : 0;
  EXPECT_EQ(ends, kResponses);
  ASSERT_TRUE(pump_until([&] { return server->queued_write_bytes() == 0; }));
  EXPECT_EQ(server->connections(), 1u);
  std::filesystem::remove(path);
}

TEST_F(ServerTest, FanOutOfASharedBody) {
  start();
  handler.park = true;
  std::vector<Client> clients;
  for (int i = 0; i < 50; ++i) {
    clients.push_back(connect());
    clients.back().send(request(1, "/p", false));
  }
  ASSERT_TRUE(pump_until([&] { return handler.requests.size() == 50; }));
  auto body = std::make_shared<const std::string>(5000, 'm');
  for (auto& r : handler.requests) r->respond({"h:", body, ""});
  for (auto& c : clients) {
    ASSERT_TRUE(wait_for(c, [](const Client& cl) { return cl.eof; }));
    EXPECT_EQ(stdout_of(c.in, 1), "h:" + *body);
  }
  ASSERT_TRUE(pump_until([&] { return server->connections() == 0; }));
}

TEST_F(ServerTest, SlowReaderOverWriteQueueLimitIsClosed) {
  Limits limits;
  limits.max_write_queue_bytes = 1000;
  start(limits);
  handler.park = true;
  CountingListener listener;
  Client c = connect();
  c.send(request(1, "/a", true) + request(2, "/b", true));
  ASSERT_TRUE(pump_until([&] { return handler.requests.size() == 2; }));
  handler.requests[1]->set_abort_listener(&listener);
  // Far more than socket buffers hold, and the client does not read.
  handler.requests[0]->respond({"", std::make_shared<const std::string>(64 << 20, 'x'), ""});
  ASSERT_TRUE(pump_until([&] { return server->connections() == 0; }));
  EXPECT_EQ(listener.aborts, 1);
}

TEST_F(ServerTest, MaxConnectionsClosesTheExtraOnes) {
  Limits limits;
  limits.max_connections = 1;
  start(limits);
  Client a = connect();
  ASSERT_TRUE(pump_until([&] { return server->connections() == 1; }));
  Client b = connect();
  ASSERT_TRUE(wait_for(b, [](const Client& cl) { return cl.eof; }));
  a.send(request(1, "/a", false));
  ASSERT_TRUE(wait_end(a, 1));
}

TEST_F(ServerTest, UnixSocketAndShutdown) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("fcgi_test_" + std::to_string(::getpid()) + ".sock"))
                               .string();
  // A stale file from an earlier run is replaced.
  {
    asio::local::stream_protocol::acceptor stale(client_io,
                                                 asio::local::stream_protocol::endpoint(path));
  }
  ASSERT_TRUE(std::filesystem::exists(path));
  start({}, "unix:" + path);
  EXPECT_EQ(server->local_endpoint(0), "unix:" + path);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0666u);

  handler.park = true;
  Client idle = connect();
  Client busy = connect();
  busy.send(request(1, "/p", true));
  ASSERT_TRUE(pump_until([&] { return handler.requests.size() == 1; }));
  bool done = false;
  server->shutdown(5000ms, [&] { done = true; });
  EXPECT_FALSE(std::filesystem::exists(path));
  ASSERT_TRUE(wait_for(idle, [](const Client& cl) { return cl.eof; }));
  EXPECT_EQ(server->connections(), 1u);
  EXPECT_FALSE(done);
  handler.requests[0]->respond({"bye", nullptr, ""});
  ASSERT_TRUE(wait_for(busy, [](const Client& cl) { return cl.eof; }));
  EXPECT_EQ(stdout_of(busy.in, 1), "bye");
  ASSERT_TRUE(pump_until([&] { return done; }));
  EXPECT_FALSE(handler.requests[0]->aborted());
}

TEST_F(ServerTest, ShutdownGraceAbortsWhatIsLeft) {
  start();
  handler.park = true;
  CountingListener listener;
  Client c = connect();
  c.send(request(1, "/p", true));
  ASSERT_TRUE(pump_until([&] { return handler.requests.size() == 1; }));
  handler.requests[0]->set_abort_listener(&listener);
  bool done = false;
  server->shutdown(50ms, [&] { done = true; });
  ASSERT_TRUE(pump_until([&] { return done; }));
  EXPECT_EQ(listener.aborts, 1);
  EXPECT_EQ(server->connections(), 0u);
}

TEST_F(ServerTest, ShutdownWithNothingOpenCompletes) {
  start();
  bool done = false;
  server->shutdown(10s, [&] { done = true; });
  ASSERT_TRUE(pump_until([&] { return done; }, 500ms));
}

TEST_F(ServerTest, ListenFailuresThrow) {
  start();
  EXPECT_THROW(server->listen("nonsense"), std::runtime_error);
  EXPECT_THROW(server->listen(server->local_endpoint(0)), std::runtime_error);
  EXPECT_THROW(server->listen("unix:/nonexistent-dir/x.sock"), std::runtime_error);
  EXPECT_THROW(server->listen("192.0.2.1:0"), std::runtime_error);
  EXPECT_THROW(server->local_endpoint(5), std::out_of_range);
  server->listen("localhost:0");
  EXPECT_EQ(server->local_endpoint(1).find("127.0.0.1:") == 0 ||
                server->local_endpoint(1).find("[::1]:") == 0,
            true);
}

TEST_F(ServerTest, Ipv6Loopback) {
  try {
    start({}, "[::1]:0");
  } catch (const std::runtime_error& e) {
    GTEST_SKIP() << "no IPv6 loopback: " << e.what();
  }
  EXPECT_EQ(server->local_endpoint(0).rfind("[::1]:", 0), 0u);
  Client c = connect();
  c.send(request(1, "/v6", false));
  ASSERT_TRUE(wait_for(c, [](const Client& cl) { return cl.eof; }));
  EXPECT_EQ(stdout_of(c.in, 1), "Content-Type: text/plain\r\n\r\n/v6|");
}

TEST_F(ServerTest, GarbageNeverCrashes) {
  start();
  for (int round = 0; round < 20; ++round) {
    Client c = connect();
    std::string junk = request(1, "/x", true);
    for (std::size_t i = 0; i < junk.size(); i += 7) junk[i] = static_cast<char>(i * 31 + round);
    c.send(junk);
    pump_until([] { return false; }, 5ms);
  }
}

}  // namespace
}  // namespace fcgi

namespace fcgi {
namespace {

TEST_F(ServerTest, SecondShutdownCallbackRunsToo) {
  start();
  int done = 0;
  server->shutdown(10s, [&] { ++done; });
  server->shutdown(10s, [&] { ++done; });
  ASSERT_TRUE(pump_until([&] { return done == 2; }, 500ms));
  server->shutdown(10s, [&] { ++done; });
  ASSERT_TRUE(pump_until([&] { return done == 3; }, 500ms));
}

TEST_F(ServerTest, DestroyingTheServerAbortsParkedRequests) {
  start();
  handler.park = true;
  CountingListener listener;
  Client c = connect();
  c.send(request(1, "/p", true));
  ASSERT_TRUE(pump_until([&] { return handler.requests.size() == 1; }));
  handler.requests[0]->set_abort_listener(&listener);
  server.reset();
  EXPECT_EQ(listener.aborts, 1);
  io.run_for(10ms);
  c.poll();
  EXPECT_TRUE(c.eof);
}

}  // namespace
}  // namespace fcgi

namespace fcgi {
namespace {

TEST_F(ServerTest, PeerFloodingManagementRecordsWithoutReadingIsClosed) {
  Limits limits;
  limits.max_write_queue_bytes = 4096;
  start(limits);
  Client c = connect();
  std::string one;
  append_record(one, 0x66, 0, "");
  std::string flood;
  for (int i = 0; i < 4096; ++i) flood += one;
  // 16-byte answers to 8-byte questions; the client never reads.
  for (int i = 0; i < 200 && server->connections() == 1; ++i) {
    boost::system::error_code ec;
    c.socket.write_some(asio::buffer(flood), ec);
    pump_until([] { return false; }, 2ms);
  }
  ASSERT_TRUE(pump_until([&] { return server->connections() == 0; }));
}

}  // namespace
}  // namespace fcgi

namespace fcgi {
namespace {

// A multiplexing client parks many polls on one connection; releasing them
// all with one message queues the same body many times over. That is one
// body in memory, not a slow reader.
TEST_F(ServerTest, MultiplexedFanOutOfASharedBodyIsNotASlowReader) {
  Limits limits;
  limits.max_write_queue_bytes = 2 * 1024 * 1024;
  start(limits);
  handler.park = true;
  constexpr int kPolls = 500;
  Client c = connect();
  std::string in;
  for (int id = 1; id <= kPolls; ++id) in += request(static_cast<std::uint16_t>(id), "/p", true);
  c.send(in);
  ASSERT_TRUE(pump_until([&] { return handler.requests.size() == kPolls; }));
  CountingListener listener;
  for (auto& r : handler.requests) r->set_abort_listener(&listener);
  // 500 x 40 KB = 20 MB queued at once, ten times the limit, while the
  // client is not reading.
  auto body = std::make_shared<const std::string>(40000, 'm');
  for (auto& r : handler.requests) r->respond({"h:", body, ""});
  pump_until([] { return false; }, 20ms);
  EXPECT_EQ(server->connections(), 1u);
  const std::size_t per_response = kHeaderLen + 2 + body->size() + kHeaderLen + 16;
  ASSERT_TRUE(wait_for(
      c, [&](const Client& cl) { return cl.eof || cl.in.size() >= kPolls * per_response; }));
  EXPECT_FALSE(c.eof);
  EXPECT_EQ(listener.aborts, 0);
  int ended = 0;
  std::size_t stdout_bytes = 0;
  for (const auto& rec : records(c.in)) {
    if (rec.type == FCGI_END_REQUEST) ++ended;
    if (rec.type == FCGI_STDOUT) stdout_bytes += rec.content.size();
  }
  EXPECT_EQ(ended, kPolls);
  EXPECT_EQ(stdout_bytes, kPolls * (2 + body->size()));
}

}  // namespace
}  // namespace fcgi

namespace fcgi {
namespace {

bool any_contains(const std::vector<std::string>& lines, const std::string& text) {
  for (const auto& l : lines) {
    if (l.find(text) != std::string::npos) return true;
  }
  return false;
}

TEST_F(ServerTest, ClosesForAReasonAreLogged) {
  Limits limits;
  limits.read_timeout = 50ms;
  limits.max_write_queue_bytes = 1000;
  start(limits);
  std::vector<std::string> lines;
  server->set_log_sink([&](std::string_view l) { lines.emplace_back(l); });
  handler.park = true;

  // A peer that just hangs up is not worth a line.
  {
    Client bye = connect();
    bye.send(request(1, "/p", true));
    ASSERT_TRUE(pump_until([&] { return handler.requests.size() == 1; }));
  }
  ASSERT_TRUE(pump_until([&] { return server->connections() == 0; }));
  EXPECT_TRUE(lines.empty());

  Client bad = connect();
  bad.send(std::string("\x02\x01\x00\x01\x00\x08\x00\x00", 8));
  ASSERT_TRUE(wait_for(bad, [](const Client& cl) { return cl.eof; }));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].rfind("closing connection from 127.0.0.1:", 0), 0u) << lines[0];
  EXPECT_TRUE(any_contains(lines, ": unsupported FastCGI version"));

  Client slow = connect();
  slow.send(begin(1, true));
  ASSERT_TRUE(wait_for(slow, [](const Client& cl) { return cl.eof; }));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(any_contains(lines, "read timeout (1 requests aborted)")) << lines[1];

  Client reader = connect();
  reader.send(request(1, "/a", true));
  ASSERT_TRUE(pump_until([&] { return handler.requests.size() == 2; }));
  handler.requests[1]->respond({"", std::make_shared<const std::string>(64 << 20, 'x'), ""});
  ASSERT_TRUE(pump_until([&] { return server->connections() == 0; }));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_TRUE(any_contains(lines, "write queue limit exceeded")) << lines[2];
}

}  // namespace
}  // namespace fcgi

namespace fcgi {
namespace {

// SSE writes without ending; an ABORT_REQUEST then must still close the
// STDOUT stream before END_REQUEST. A request that wrote nothing gets
// END_REQUEST alone.
TEST_F(ServerTest, AbortOfAnOpenStreamClosesStdoutBeforeEndRequest) {
  start();
  handler.park = true;
  Client c = connect();
  c.send(request(1, "/sse", true) + request(2, "/quiet", true));
  ASSERT_TRUE(pump_until([&] { return handler.requests.size() == 2; }));
  handler.requests[0]->write({"Content-Type: text/event-stream\r\n\r\n", nullptr, ""});
  handler.requests[0]->write({"data: x\n\n", nullptr, ""});
  std::string abort;
  append_record(abort, FCGI_ABORT_REQUEST, 1, "");
  append_record(abort, FCGI_ABORT_REQUEST, 2, "");
  c.send(abort);
  ASSERT_TRUE(wait_for(c, [](const Client& cl) {
    return end_status(cl.in, 1).has_value() && end_status(cl.in, 2).has_value();
  }));
  std::vector<Rec> one;
  std::vector<Rec> two;
  for (const auto& r : records(c.in)) (r.id == 1 ? one : two).push_back(r);
  ASSERT_EQ(one.size(), 4u);
  EXPECT_EQ(one[0].type, FCGI_STDOUT);
  EXPECT_EQ(one[1].type, FCGI_STDOUT);
  EXPECT_EQ(one[2].type, FCGI_STDOUT);
  EXPECT_EQ(one[2].content, "");
  EXPECT_EQ(one[3].type, FCGI_END_REQUEST);
  ASSERT_EQ(two.size(), 1u);
  EXPECT_EQ(two[0].type, FCGI_END_REQUEST);
  EXPECT_TRUE(handler.requests[0]->aborted());
}

}  // namespace
}  // namespace fcgi

namespace fcgi {
namespace {

std::string partial_stdin(std::uint16_t id, std::size_t n) {
  std::string out;
  append_record(out, FCGI_STDIN, id, std::string(n, 'i'));
  return out;
}

// A multiplexing peer that begins many requests and finishes none holds
// their input; past the connection's budget it is closed at once rather
// than after the read timeout.
TEST_F(ServerTest, UndispatchedInputOverTheConnectionBudgetCloses) {
  Limits limits;
  limits.max_params_bytes = 1000;
  limits.max_stdin_bytes = 1000;
  limits.max_pending_input_bytes = 64 * 1024;
  start(limits);
  std::vector<std::string> lines;
  server->set_log_sink([&](std::string_view l) { lines.emplace_back(l); });
  Client c = connect();
  std::string in;
  for (std::uint16_t id = 1; id <= 200; ++id) {
    // Params announcing a 900-byte value and sending it, but never ended.
    std::string content;
    append_name_value(content, "A", std::string(900, 'a'));
    in += begin(id, true);
    append_record(in, FCGI_PARAMS, id, content);
  }
  c.send(in);
  ASSERT_TRUE(wait_for(c, [](const Client& cl) { return cl.eof; }));
  EXPECT_TRUE(any_contains(lines, "budget")) << (lines.empty() ? "" : lines[0]);
  EXPECT_TRUE(handler.requests.empty());
}

// Over the server-wide budget the request that passes it is shed with a
// 503 and Retry-After; its connection and the others go on, and
// the budget is given back as requests are dispatched.
TEST_F(ServerTest, UndispatchedInputOverTheServerBudgetIsShedWith503) {
  Limits limits;
  limits.max_params_bytes = 1000;
  limits.max_stdin_bytes = 1000;
  limits.max_pending_input_bytes = 8192;
  limits.max_pending_input_bytes_total = 10240;
  start(limits);
  Client a = connect();
  Client b = connect();
  // About 1.5 KB charged each: 512 for the request, the param, 950 of STDIN.
  std::string in;
  for (std::uint16_t id = 1; id <= 5; ++id) {
    in += begin(id, true) + params(id, {{"SCRIPT_NAME", "/a"}}) + partial_stdin(id, 950);
  }
  a.send(in);
  b.send(begin(1, true) + params(1, {{"SCRIPT_NAME", "/b"}}) + partial_stdin(1, 950));
  pump_until([] { return false; }, 20ms);
  b.send(begin(2, true) + params(2, {{"SCRIPT_NAME", "/b2"}}) + partial_stdin(2, 950));
  ASSERT_TRUE(wait_end(b, 2));
  const std::string shed = stdout_of(b.in, 2);
  EXPECT_EQ(shed.rfind("Status: 503 Service Unavailable\r\n", 0), 0u) << shed;
  EXPECT_NE(shed.find("\r\nRetry-After: 1\r\n"), std::string::npos);
  EXPECT_NE(shed.find("\r\n\r\nthe server is receiving too many requests at once\n"),
            std::string::npos);
  EXPECT_FALSE(end_status(b.in, 1));

  // Everyone else finishes normally.
  in.clear();
  for (std::uint16_t id = 1; id <= 5; ++id) in += stdin_of(id, "");
  a.send(in);
  b.send(stdin_of(1, ""));
  for (std::uint16_t id = 1; id <= 5; ++id) ASSERT_TRUE(wait_end(a, id));
  ASSERT_TRUE(wait_end(b, 1));
  EXPECT_EQ(stdout_of(b.in, 1), "Content-Type: text/plain\r\n\r\n/b|" + std::string(950, 'i'));
  EXPECT_EQ(handler.requests.size(), 6u);

  // All of it was given back: the same load again fits.
  b.in.clear();
  b.send(begin(3, true) + params(3, {{"SCRIPT_NAME", "/b3"}}) + partial_stdin(3, 950) +
         stdin_of(3, ""));
  ASSERT_TRUE(wait_end(b, 3));
  EXPECT_EQ(stdout_of(b.in, 3).rfind("Content-Type: text/plain", 0), 0u);
  EXPECT_EQ(server->connections(), 2u);
}

}  // namespace
}  // namespace fcgi

namespace fcgi {
namespace {

// A peer that stops inside a record holds its connection slot no longer
// than the read timeout, whether or not a request of its is unfinished.
TEST_F(ServerTest, PartialRecordsWithoutARequestTimeOut) {
  Limits limits;
  limits.read_timeout = 50ms;
  start(limits);
  std::string stray;  // a STDIN record of an id that never began
  append_record(stray, FCGI_STDIN, 9, std::string(100, 's'));
  std::string get_values;
  append_record(get_values, FCGI_GET_VALUES, 0, std::string(20, 'g'));
  const std::vector<std::string> partial = {
      begin(1, true).substr(0, 1),  // one header byte
      begin(1, true).substr(0, 7),  // seven
      stray.substr(0, 50),          // inside an ignored stream record
      get_values.substr(0, 12),     // inside a management record
  };
  std::vector<Client> clients;
  for (const auto& p : partial) {
    clients.push_back(connect());
    clients.back().send(p);
  }
  Client idle = connect();
  for (auto& c : clients) {
    ASSERT_TRUE(wait_for(
        c, [](const Client& cl) { return cl.eof; }, 1000ms));
  }
  // One with nothing pending is left alone (idle_timeout is far).
  ASSERT_TRUE(pump_until([&] { return server->connections() == 1; }));
  idle.poll();
  EXPECT_FALSE(idle.eof);
}

// The record deadline times each record, not the stream: a peer that keeps
// completing records, even with every read ending inside one, is fine.
TEST_F(ServerTest, RecordDeadlineRestartsWithEachRecord) {
  Limits limits;
  limits.read_timeout = 100ms;
  start(limits);
  std::string stream;
  for (int i = 0; i < 12; ++i) append_record(stream, FCGI_STDIN, 9, std::string(40, 's'), 3);
  Client c = connect();
  // Every piece but the last ends inside a record, each in a different one
  // than the piece before; 12 x 40 ms is well past the read timeout.
  const std::size_t record = kHeaderLen + 40 + 3;
  for (std::size_t pos = 0; pos < stream.size();) {
    const std::size_t n = pos == 0 ? record / 2 : record;
    c.send(stream.substr(pos, n));
    pos += n;
    pump_until([] { return false; }, 40ms);
    c.poll();
    ASSERT_FALSE(c.eof) << "after " << pos << " bytes";
  }
  pump_until([] { return false; }, 150ms);
  c.poll();
  EXPECT_FALSE(c.eof);
}

TEST_F(ServerTest, IdleConnectionsAreClosedAfterTheIdleTimeout) {
  Limits limits;
  limits.idle_timeout = 160ms;
  start(limits);
  std::vector<std::string> lines;
  server->set_log_sink([&](std::string_view l) { lines.emplace_back(l); });
  handler.park = true;
  const auto t0 = std::chrono::steady_clock::now();
  Client never = connect();
  Client parked = connect();
  parked.send(request(1, "/p", true));
  Client served = connect();
  served.send(request(1, "/s", true));
  ASSERT_TRUE(pump_until([&] { return handler.requests.size() == 2; }));
  pump_until([] { return false; }, 100ms);
  handler.requests[1]->respond({"ok", nullptr, ""});  // idle from now on
  const auto t1 = std::chrono::steady_clock::now();
  ASSERT_TRUE(wait_for(never, [](const Client& cl) { return cl.eof; }));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 160ms);
  served.poll();
  EXPECT_FALSE(served.eof);
  ASSERT_TRUE(wait_for(served, [](const Client& cl) { return cl.eof; }));
  EXPECT_GE(std::chrono::steady_clock::now() - t1, 160ms);
  EXPECT_EQ(stdout_of(served.in, 1), "ok");
  // A connection with a request is never idle, however long it is parked.
  pump_until([] { return false; }, 200ms);
  parked.poll();
  EXPECT_FALSE(parked.eof);
  EXPECT_EQ(server->connections(), 1u);
  EXPECT_FALSE(handler.requests[0]->aborted());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(any_contains(lines, ": idle timeout")) << lines[0];
}

}  // namespace
}  // namespace fcgi

namespace fcgi {
namespace {

// Slow readers each under the per-connection limit can together pass the
// server-wide budget: the one holding the most is closed, the others go on.
// Over a Unix socket, which takes a fixed ~200 KB before it blocks.
TEST_F(ServerTest, SlowReadersOverTheServerWriteBudgetLoseTheLargest) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("fcgi_budget_" + std::to_string(::getpid()) + ".sock"))
                               .string();
  Limits limits;
  limits.max_write_queue_bytes = 3 << 20;
  limits.max_write_queue_bytes_total = 3 << 20;
  start(limits, "unix:" + path);
  std::vector<std::string> lines;
  server->set_log_sink([&](std::string_view l) { lines.emplace_back(l); });
  handler.park = true;
  CountingListener listener;
  Client small = connect();
  small.send(request(1, "/a", true));
  Client large = connect();
  large.send(request(1, "/b", true) + request(2, "/c", true));
  ASSERT_TRUE(pump_until([&] { return handler.requests.size() == 3; }));
  handler.requests[0]->set_abort_listener(&listener);
  handler.requests[2]->set_abort_listener(&listener);
  const auto small_body = std::make_shared<const std::string>(1500 * 1024, 's');
  handler.requests[0]->respond({"", small_body, ""});
  pump_until([] { return false; }, 10ms);
  EXPECT_GT(server->queued_write_bytes(), 1u << 20);
  EXPECT_EQ(server->connections(), 2u);
  // 1.3 + 2.3 MB queued: past the 3 MB budget, though each is under 3 MB.
  handler.requests[1]->respond({"", std::make_shared<const std::string>(2500 * 1024, 'l'), ""});
  ASSERT_TRUE(wait_for(large, [](const Client& cl) { return cl.eof; }));
  EXPECT_EQ(listener.aborts, 1);
  EXPECT_TRUE(handler.requests[2]->aborted());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(any_contains(lines, "write queue budget")) << lines[0];
  // The small one was left alone and gets all of its response.
  ASSERT_TRUE(wait_end(small, 1));
  EXPECT_EQ(stdout_of(small.in, 1), *small_body);
  EXPECT_EQ(server->queued_write_bytes(), 0u);
  EXPECT_EQ(server->connections(), 1u);
}

// Every byte a response part carries names its request and its position, so
// bytes out of order, lost, repeated or given to another request show.
std::string tagged(std::uint16_t id, std::size_t& pos, std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (id * 7 + pos++) % 26);
  return s;
}

TEST_F(ServerTest, RandomStreamsStayIntactUnderPartialWrites) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("fcgi_random_" + std::to_string(::getpid()) + ".sock"))
                               .string();
  start({}, "unix:" + path);
  handler.park = true;
  std::mt19937 rng(12345);
  bool saw_queue = false;
  for (int round = 0; round < 30; ++round) {
    handler.requests.clear();
    Client c = connect();
    const int n = 1 + static_cast<int>(rng() % 3);  // 1..3 multiplexed requests
    std::string req;
    for (int i = 1; i <= n; ++i) req += request(static_cast<std::uint16_t>(i), "/s", true);
    c.send(req);
    ASSERT_TRUE(pump_until([&] { return handler.requests.size() == static_cast<std::size_t>(n); }));
    std::map<std::uint16_t, std::string> expected;
    std::map<std::uint16_t, std::size_t> pos;
    std::vector<RequestPtr> open = handler.requests;
    while (!open.empty()) {
      const std::size_t k = rng() % open.size();
      RequestPtr r = open[k];
      const std::uint16_t id = r->id();
      const int what = static_cast<int>(rng() % 10);
      std::size_t len = rng() % 4 == 0 ? rng() % 150000 : rng() % 3000;
      Response part;
      part.head = tagged(id, pos[id], rng() % 50);
      if (len) part.body = std::make_shared<const std::string>(tagged(id, pos[id], len));
      part.tail = tagged(id, pos[id], rng() % 5);
      expected[id] += part.head + (part.body ? *part.body : "") + part.tail;
      if (what < 8) {
        r->write(std::move(part));
      } else {
        r->respond(std::move(part));
        open.erase(open.begin() + static_cast<long>(k));
      }
      // Sometimes the peer reads a little, sometimes nothing.
      if (rng() % 3 == 0) {
        char buf[4096];
        boost::system::error_code ec;
        const std::size_t got = c.socket.read_some(asio::buffer(buf, 1 + rng() % 4096), ec);
        if (!ec) c.in.append(buf, got);
      }
      saw_queue = saw_queue || server->queued_write_bytes() > 0;
      if (rng() % 2 == 0) pump_until([] { return false; }, 1ms);
    }
    ASSERT_TRUE(wait_for(
        c,
        [&](const Client& cl) {
          for (int i = 1; i <= n; ++i)
            if (!end_status(cl.in, static_cast<std::uint16_t>(i))) return false;
          return true;
        },
        5000ms))
        << "round " << round;
    for (int i = 1; i <= n; ++i) {
      const auto id = static_cast<std::uint16_t>(i);
      ASSERT_EQ(stdout_of(c.in, id), expected[id]) << "round " << round << " id " << id;
    }
    // Per id: STDOUT records, one empty STDOUT, END_REQUEST last.
    std::map<std::uint16_t, int> state;
    for (const auto& rec : records(c.in)) {
      ASSERT_NE(state[rec.id], 2) << "record after END_REQUEST, round " << round;
      if (rec.type == FCGI_END_REQUEST) {
        EXPECT_EQ(state[rec.id], 1) << "round " << round;
        state[rec.id] = 2;
      } else if (rec.type == FCGI_STDOUT && rec.content.empty()) {
        state[rec.id] = 1;
      }
    }
  }
  EXPECT_TRUE(saw_queue);
  std::filesystem::remove(path);
}

// A lone stream whose last direct write the socket only partly took, then
// FCGI_ABORT_REQUEST: the remainder, then empty STDOUT, then END_REQUEST.
TEST_F(ServerTest, AbortAfterAPartialDirectWrite) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("fcgi_abort_" + std::to_string(::getpid()) + ".sock"))
                               .string();
  start({}, "unix:" + path);
  handler.park = true;
  Client c = connect();
  c.send(request(1, "/sse", true));
  ASSERT_TRUE(pump_until([&] { return handler.requests.size() == 1; }));
  auto& r = handler.requests[0];
  std::string expected;
  std::size_t pos = 0;
  for (int k = 0; k < 40 && server->queued_write_bytes() == 0; ++k) {
    std::string chunk = tagged(1, pos, 60001);
    expected += chunk;
    r->write({std::move(chunk), nullptr, ""});
  }
  ASSERT_GT(server->queued_write_bytes(), 0u);
  std::string abort;
  append_record(abort, FCGI_ABORT_REQUEST, 1, "");
  c.send(abort);
  ASSERT_TRUE(wait_end(c, 1));
  EXPECT_EQ(stdout_of(c.in, 1), expected);
  const auto recs = records(c.in);
  ASSERT_GE(recs.size(), 2u);
  EXPECT_EQ(recs[recs.size() - 2].type, FCGI_STDOUT);
  EXPECT_EQ(recs[recs.size() - 2].content, "");
  EXPECT_EQ(recs.back().type, FCGI_END_REQUEST);
  EXPECT_TRUE(r->aborted());
  std::filesystem::remove(path);
}
}  // namespace
}  // namespace fcgi
