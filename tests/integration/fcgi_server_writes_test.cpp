// fcgi::Server over real sockets: timeouts, the reasons it logs, and the
// write path (direct and queued writes, shared bodies, slow readers, write
// budgets).
#include <gtest/gtest.h>

#include "tests/integration/fcgi_server_fixture.hpp"

namespace fcgi::test {
namespace {

TEST_F(FcgiServer, ReadTimeoutCutsOffIncompleteRequestsOnly) {
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

// A peer that stops inside a record holds its connection slot no longer
// than the read timeout, whether or not a request of its is unfinished.
TEST_F(FcgiServer, PartialRecordsWithoutARequestTimeOut) {
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
TEST_F(FcgiServer, RecordDeadlineRestartsWithEachRecord) {
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

TEST_F(FcgiServer, IdleConnectionsAreClosedAfterTheIdleTimeout) {
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

TEST_F(FcgiServer, ClosesForAReasonAreLogged) {
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

TEST_F(FcgiServer, StreamingWritesAndLargeSharedBody) {
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
TEST_F(FcgiServer, LoneResponsesTheSocketOnlyPartlyTakesAreFinishedFromTheQueue) {
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

TEST_F(FcgiServer, FanOutOfASharedBody) {
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

TEST_F(FcgiServer, SlowReaderOverWriteQueueLimitIsClosed) {
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

TEST_F(FcgiServer, PeerFloodingManagementRecordsWithoutReadingIsClosed) {
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

// A multiplexing client parks many polls on one connection; releasing them
// all with one message queues the same body many times over. That is one
// body in memory, not a slow reader.
TEST_F(FcgiServer, MultiplexedFanOutOfASharedBodyIsNotASlowReader) {
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

// Slow readers each under the per-connection limit can together pass the
// server-wide budget: the one holding the most is closed, the others go on.
// Over a Unix socket, which takes a fixed ~200 KB before it blocks.
TEST_F(FcgiServer, SlowReadersOverTheServerWriteBudgetLoseTheLargest) {
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

TEST_F(FcgiServer, RandomStreamsStayIntactUnderPartialWrites) {
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
TEST_F(FcgiServer, AbortAfterAPartialDirectWrite) {
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
}  // namespace fcgi::test
